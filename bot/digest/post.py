"""Posting a week's digest so that running it again edits in place and posts only what is missing.

Order: the parent message, the charts in its thread, one message per team in the thread, the managers'
DM copies. Each is recorded (storage/digest.py) before its call and completed after, and carries
message metadata naming the workspace, week and part; a run that died between a post and its record
finds the message again (`found.py`) instead of posting it twice. A message already posted is updated
only when its content changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot import blocks as bk
from bot.digest import canvas, changes, render, render_team
from bot.digest.assemble import Digest
from bot.digest.charts import Chart
from bot.digest.found import Tag, find_parent, thread_messages
from bot.digest.post_canvas import CanvasOutcome, CanvasWriter
from bot.digest.post_managers import ManagerPoster, Recipient
from bot.digest.render_manager import managers_teams
from bot.digest.schedule import Schedule
from bot.digest.slack_calls import paced
from bot.errors import UserError
from bot.redraw import content_digest
from bot.slack_api import InstrumentedWebClient, WorkspaceInactiveError
from bot.words import quoted
from storage import digest as repo
from storage import digest_canvas

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


class DigestIncomplete(UserError):
    """Some team messages could not be posted; the run is retried later (it posts only what is missing)."""


@dataclass
class Outcome:
    channel: str
    parent_ts: str
    new_parent: bool
    posted: int = 0
    updated: int = 0
    unchanged: int = 0
    team_failures: list[str] = field(default_factory=list)
    chart_failures: list[str] = field(default_factory=list)
    dms: int = 0
    managers: int = 0  # managers' own digests sent this run
    managers_updated: int = 0
    manager_failures: list[str] = field(default_factory=list)
    canvas: CanvasOutcome = field(default_factory=CanvasOutcome)


class Poster:
    def __init__(
        self,
        rt: Runtime,
        client: InstrumentedWebClient,
        digest: Digest,
        channel: str,
        schedule: Schedule,
        charts: list[Chart],
        previous: tuple[str, str] | None = None,
    ) -> None:
        self.rt, self.client, self.digest = rt, client, digest
        self.channel, self.schedule, self.charts = channel, schedule, charts
        self.previous = previous  # (week, state) of the latest earlier digest
        # Digest recipients who manage no team get the org-wide copy; managers get their own.
        self.own = managers_teams(digest)
        self.managers = tuple(u for u in schedule.managers if u not in self.own)
        self.ws, self.week = digest.workspace_id, digest.week.key
        self.tag = Tag(self.ws, self.week)
        self._replies: dict[tuple[str, str], dict[str, Any]] | None = None

    async def _db(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await self.rt.db.run(fn, *args, **kwargs)

    async def _intent(self, kind: str, key: str, channel: str) -> None:
        """Record that this week's `kind`/`key` post is about to be sent to `channel`."""
        await self._db(repo.post_intent, self.ws, self.week, kind, key, channel, self.rt.clock.now())

    async def _done(self, kind: str, key: str, **fields: Any) -> None:
        """Record that this week's `kind`/`key` post went out (its ts, file id, content hash…)."""
        await self._db(repo.post_done, self.ws, self.week, kind, key, self.rt.clock.now(), **fields)

    # --- the parent ------------------------------------------------------------------------------

    async def parent(self, run: repo.DigestRunRow, payload: dict[str, Any]) -> tuple[str, bool]:
        """The parent's ts (posted now or found again) and whether it is new this run."""
        digest_hash = content_digest(payload)
        if run.parent_ts is None and run.parent_intent_at is not None:
            found = await find_parent(self.client, self.channel, self.tag)
            if found is not None:
                log.info("found this week's digest posted by an earlier run", extra={"workspace": self.ws})
                run.parent_ts, run.parent_hash = found, None
                await self._db(repo.parent_posted, self.ws, self.week, found, "", self.rt.clock.now())
        if run.parent_ts is not None:
            if run.parent_hash != digest_hash:
                await paced(
                    self.channel,
                    self.client.chat_update,
                    posts=False,
                    channel=self.channel,
                    ts=run.parent_ts,
                    **payload,
                )
                await self._db(
                    repo.parent_posted, self.ws, self.week, run.parent_ts, digest_hash, self.rt.clock.now()
                )
            return run.parent_ts, False
        await self._db(repo.parent_intent, self.ws, self.week, self.rt.clock.now())
        response = await paced(
            self.channel,
            self.client.chat_postMessage,
            channel=self.channel,
            metadata=self.tag.metadata("parent"),
            **payload,
        )
        ts = str(response["ts"])
        await self._db(repo.parent_posted, self.ws, self.week, ts, digest_hash, self.rt.clock.now())
        return ts, True

    # --- what is in the thread -------------------------------------------------------------------

    async def _thread(self, parent_ts: str) -> dict[tuple[str, str], dict[str, Any]]:
        """Our messages already in the thread; read once, and only when a record is unsure."""
        if self._replies is None:
            self._replies = await thread_messages(self.client, self.channel, parent_ts, self.tag)
        return self._replies

    # --- charts ----------------------------------------------------------------------------------

    async def charts_into(
        self, parent_ts: str, existing: dict[tuple[str, str], repo.DigestPostRow]
    ) -> list[str]:
        """Upload each chart not uploaded yet; a failed upload is noted, never fatal. Returns the notes."""
        notes = []
        for chart in self.charts:
            row = existing.get(("chart", chart.name))
            if row is not None and row.file_id:
                continue
            filename = chart.filename(self.digest.week)
            unsure = row is not None and row.error is None
            if unsure and ("file", filename) in await self._thread(parent_ts):
                await self._done("chart", chart.name, file_id="found")
                continue
            await self._intent("chart", chart.name, self.channel)
            try:
                response = await paced(
                    self.channel,
                    self.client.files_upload_v2,
                    posts=False,
                    channel=self.channel,
                    thread_ts=parent_ts,
                    file=chart.png,
                    filename=filename,
                    title=chart.title,
                    alt_txt=chart.alt[:1000],
                )
            except WorkspaceInactiveError:
                raise
            except Exception as exc:
                reason = _reason(exc)
                log.warning("digest chart upload failed", extra={"chart": chart.name, "reason": reason})
                if isinstance(exc, SlackApiError):
                    # Slack refused it: nothing to find again. (A timeout leaves the intent, so the next
                    # run looks for the file before uploading it again.)
                    await self._db(repo.post_failed, self.ws, self.week, "chart", chart.name, reason)
                what = "Chart" if chart.extension == "png" else "File"
                notes.append(
                    f":warning: {what} {quoted(chart.title)} could not be uploaded ({reason}); the digest went out without it."
                )
                continue
            file_id = str(((response.get("files") or [{}])[0]).get("id") or "uploaded")
            await self._done("chart", chart.name, file_id=file_id)
        return notes

    # --- team messages ---------------------------------------------------------------------------

    def reply_teams(self) -> list[Any]:
        """Every team when there are no more than the cap; else the cap's most urgent on the agenda."""
        return self.digest.reply_teams(self.schedule.reply_cap)

    async def teams_into(
        self,
        parent_ts: str,
        existing: dict[tuple[str, str], repo.DigestPostRow],
        outcome: Outcome,
        teams: list[Any],
    ) -> None:
        for td in teams:
            key = td.team.channel_id
            payload = render_team.team_message(td, self.digest.as_of)
            digest_hash = content_digest(payload)
            row = existing.get(("team", key))
            ts = row.ts if row is not None else None
            if ts is None and row is not None and row.error is None:
                found = (await self._thread(parent_ts)).get(("team", key))
                if found is not None:
                    ts = str(found["ts"])
                    await self._done("team", key, ts=ts, content_hash="")
            try:
                if ts is not None:
                    if row is None or row.content_hash != digest_hash:
                        await paced(
                            self.channel,
                            self.client.chat_update,
                            posts=False,
                            channel=self.channel,
                            ts=ts,
                            **payload,
                        )
                        await self._done("team", key, ts=ts, content_hash=digest_hash)
                        outcome.updated += 1
                    else:
                        outcome.unchanged += 1
                    continue
                await self._intent("team", key, self.channel)
                response = await paced(
                    self.channel,
                    self.client.chat_postMessage,
                    channel=self.channel,
                    thread_ts=parent_ts,
                    metadata=self.tag.metadata("team", key),
                    **payload,
                )
                await self._done("team", key, ts=str(response["ts"]), content_hash=digest_hash)
                outcome.posted += 1
            except (WorkspaceInactiveError, UserError):
                raise  # the token died or the bot left the channel: nothing more can be posted
            except SlackApiError as exc:
                reason = _reason(exc)
                log.error("digest team message failed", extra={"team": td.team.key, "reason": reason})
                await self._db(repo.post_failed, self.ws, self.week, "team", key, reason)
                outcome.team_failures.append(td.team.name)

    # --- managers' copies ------------------------------------------------------------------------

    async def _link(self, parent_ts: str) -> str | None:
        try:
            response = await self.client.chat_getPermalink(channel=self.channel, message_ts=parent_ts)
        except SlackApiError:
            return None
        return str(response.get("permalink") or "") or None

    async def _record(self, action: str, kind: str, key: str, **fields: Any) -> None:
        if action == "intent":
            await self._intent(kind, key, fields["channel"])
        elif action == "done":
            await self._done(kind, key, **fields)
        else:
            await self._db(repo.post_failed, self.ws, self.week, kind, key, fields["error"])

    async def own_digests(
        self,
        link: str | None,
        existing: dict[tuple[str, str], repo.DigestPostRow],
        outcome: Outcome,
        extras: render.Extras,
    ) -> None:
        """Each team manager's digest of their teams, by DM or in the channel they chose."""
        recipients = [
            Recipient(user, teams, self.schedule.manager_channel(user)) for user, teams in self.own.items()
        ]
        poster = ManagerPoster(self.client, self.digest, self.tag, existing, self._record, content_digest)
        await poster.send(recipients, link, extras)
        outcome.managers, outcome.managers_updated = poster.sent, poster.updated
        outcome.manager_failures = poster.failures

    async def dms(
        self,
        link: str | None,
        existing: dict[tuple[str, str], repo.DigestPostRow],
        outcome: Outcome,
        extras: render.Extras,
    ) -> None:
        """The org-wide copy, by DM, for each digest recipient who manages no team."""
        for user in self.managers:
            row = existing.get(("dm", user))
            if row is not None and row.ts is None and row.error is None:
                # Sent by a run that died before recording it, or not: a DM is never sent twice.
                log.info(
                    "manager's digest copy may have gone out already; not sent again", extra={"user": user}
                )
                continue
            try:
                if row is not None and row.ts and row.channel_id:
                    payload = render.dm_message(self.digest, self.channel, link, extras)
                    if row.content_hash != content_digest(payload):
                        await self.client.chat_update(channel=row.channel_id, ts=row.ts, **payload)
                        await self._done("dm", user, content_hash=content_digest(payload))
                    continue
                opened = await self.client.conversations_open(users=user)
                im = str(opened["channel"]["id"])
                payload = render.dm_message(self.digest, self.channel, link, extras)
                await self._intent("dm", user, im)
                response = await paced(im, self.client.chat_postMessage, channel=im, **payload)
                await self._done(
                    "dm", user, ts=str(response["ts"]), content_hash=content_digest(payload), channel_id=im
                )
                outcome.dms += 1
            except WorkspaceInactiveError:
                raise
            except (SlackApiError, UserError) as exc:
                reason = _reason(exc)
                log.warning("manager's digest copy failed", extra={"user": user, "reason": reason})
                await self._db(repo.post_failed, self.ws, self.week, "dm", user, reason)

    # --- the whole week --------------------------------------------------------------------------

    async def post(self, run: repo.DigestRunRow) -> Outcome:
        """Post what is missing of the week's digest and edit what changed; `run` is held by the caller."""
        existing = {(p.kind, p.key): p for p in await self._db(repo.posts, self.ws, self.week)}
        body = canvas.markdown(self.digest)
        written = await CanvasWriter(self.rt, self.client, self.ws, self.channel).write(body, self.week)
        replies = self.reply_teams()
        extras = render.Extras(
            agenda_cap=self.schedule.agenda_cap,
            canvas_url=written.url,
            canvas_note=written.unavailable,
            compare=True,
            changes=self._changes(),
            replies=None if len(replies) == len(self.digest.teams) else len(replies),
        )
        parent_ts, new = await self.parent(run, render.parent_message(self.digest, extras=extras))
        outcome = Outcome(self.channel, parent_ts, new, canvas=written)
        if written.unavailable:
            alt = f"Scale readiness: every team's row ({len(self.digest.teams)} teams), as Markdown"
            self.charts = [
                *self.charts,
                Chart("scale-readiness", "Scale readiness", alt, body.encode(), "md"),
            ]
        notes = await self.charts_into(parent_ts, existing)
        outcome.chart_failures = notes
        if notes:
            run = await self._db(repo.get_run, self.ws, self.week)
            await self.parent(run, render.parent_message(self.digest, chart_notes=notes, extras=extras))
        await self.teams_into(parent_ts, existing, outcome, replies)
        link = await self._link(parent_ts)
        await self.own_digests(link, existing, outcome, extras)
        await self.dms(link, existing, outcome, extras)
        await self._db(digest_canvas.save_state, self.ws, self.week, changes.dump(self.digest.teams))
        if outcome.team_failures:
            failed = ", ".join(bk.escape(name) for name in outcome.team_failures[:5])
            raise DigestIncomplete(
                f"The digest is in {bk.channel_link(self.channel)}, but "
                f"{len(outcome.team_failures)} team messages could not be posted ({failed}); "
                "running it again posts only those."
            )
        await self._db(repo.finish_run, self.ws, self.week, self.rt.clock.now())
        return outcome

    def _changes(self) -> changes.Changes | None:
        if self.previous is None:
            return None
        since, state = self.previous
        return changes.compare(since, changes.load(state), changes.load(changes.dump(self.digest.teams)))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error") or "slack error")
    if isinstance(exc, UserError):
        return exc.message
    return type(exc).__name__
