"""The signal checklist's work behind the listeners: start, answer, refresh the thread, finish, cancel.

The thread is always drawn from what is stored: every change asks the pacer for a refresh, which reads
the check, renders it, and updates only the messages whose content changed (one `chat.update` round per
check per `UPDATE_INTERVAL` at most, however many clicks arrive).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any, cast

from slack_sdk.errors import SlackApiError

from bot import blocks as bk
from bot.checklist import loader, render, render_verdict
from bot.checklist.answers import Answer, AnswerError, parse, still_valid
from bot.checklist.model import CheckState, Ref, Status, may_cancel
from bot.checklist.outcome import Outcome, decide, is_complete
from bot.checklist.pacing import Pacer
from bot.checklist.playbook import Playbook, Question
from bot.errors import PermissionDenied, UserError
from bot.runtime import Runtime
from bot.slack_api import InstrumentedWebClient, user_is_slack_admin
from bot.teams import Team, resolve_team
from bot.yamlfile import ConfigFileError
from storage import checklist as repo
from storage import teams as teams_repo
from storage.cache import locked

log = logging.getLogger(__name__)

# Slack's chat.update is a Tier 3 method (about 50 calls a minute per workspace, bursts tolerated): one
# round of updates per check per second at most, whatever the number of clicks. A round Slack still
# refuses with a 429 after the client's retries is drawn again an interval later.
UPDATE_INTERVAL = 1.0
RENDER_LOCK_SECONDS = 30

UNKNOWN_CHECK = "I can't find that scale check; it may have been removed. Run /scale-check to start one."
STALE_BUTTON = (
    "That question is no longer in this team's checklist: its playbook changed after this message was "
    "drawn. I've refreshed the thread; answer there."
)


def aware(when: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; every one stored is UTC."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def payload_digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def closed_sentence(check: repo.CheckRow, *, plain: bool = False) -> str:
    """Why answers are closed; `plain` for a modal's error, which shows no mentions or dates."""
    again = (
        "Run /scale-check new to start a new one." if plain else "Run `/scale-check new` to start a new one."
    )
    if check.status == "cancelled":
        if plain:
            return f"This scale check was cancelled, so its answers are closed. {again}"
        who = bk.mention(check.cancelled_by) if check.cancelled_by else "someone"
        when = bk.date(aware(check.cancelled_at)) if check.cancelled_at else ""
        return f"This scale check was cancelled by {who} {when}, so its answers are closed. {again}"
    when = "" if plain or not check.finished_at else f" {bk.date(aware(check.finished_at))}"
    return f"This scale check finished{when} and its verdict is in the thread, so its answers are closed. {again}"


class ChecklistService:
    def __init__(self, rt: Runtime, interval: float | None = None) -> None:
        self.rt = rt
        self.interval = UPDATE_INTERVAL if interval is None else interval
        self.pacer: Pacer[tuple[str, int]] = Pacer(self._paced_refresh, self.interval)
        self._snapshots: dict[str, Playbook] = {}

    # --- playbooks and teams ----------------------------------------------------------------------

    def snapshot(self, check: repo.CheckRow) -> Playbook:
        """The playbook a check is asked from (stored with it), parsed once per version."""
        playbook = self._snapshots.get(check.playbook_digest)
        if playbook is None:
            playbook = Playbook.model_validate_json(check.playbook_json)
            if len(self._snapshots) > 64:
                self._snapshots.clear()
            self._snapshots[check.playbook_digest] = playbook
        return playbook

    async def team_playbook(self, team: Team) -> Playbook:
        try:
            return await asyncio.to_thread(loader.load, team.playbook, self.rt.config.base_dir)
        except ConfigFileError as exc:
            log.warning("a team's playbook does not load", extra={"problems": "; ".join(exc.problems)})
            raise UserError(
                f"This team's playbook `{bk.escape(team.playbook)}` does not load, so I can't run the "
                "checklist. Ask whoever runs scalebot to fix it; `scalebot config check` names the problem."
            ) from exc

    async def team_of(self, workspace_id: str, channel_id: str, name: str) -> Team:
        row = await self.rt.db.run(teams_repo.find, workspace_id, channel_id)
        return resolve_team(
            self.rt.config, workspace_id, channel_id, row.name if row else name, row.setup if row else None
        )

    # --- reading ----------------------------------------------------------------------------------

    def state_of(self, loaded: repo.Loaded) -> CheckState:
        check, playbook = loaded.check, self.snapshot(loaded.check)
        answers = {
            a.question_id: Answer(a.question_id, a.value, a.answered_by, aware(a.answered_at))
            for a in loaded.answers
            if playbook.question(a.question_id) is not None
        }
        assert check.id is not None
        return CheckState(
            id=check.id,
            team_name=check.team_name,
            channel_id=check.channel_id,
            playbook=playbook,
            digest=check.playbook_digest,
            status=cast(Status, check.status),
            started_by=check.started_by,
            started_at=aware(check.started_at),
            answers=answers,
            permalink=check.permalink,
            finished_at=aware(check.finished_at) if check.finished_at else None,
            cancelled_by=check.cancelled_by,
            cancelled_at=aware(check.cancelled_at) if check.cancelled_at else None,
            shared_by=check.shared_by,
            shared_at=aware(check.shared_at) if check.shared_at else None,
        )

    @staticmethod
    def outcome_of(state: CheckState) -> Outcome | None:
        values = state.values
        if state.status != "done" or not is_complete(state.playbook, values):
            return None
        return decide(state.playbook, values)

    async def load(self, workspace_id: str, check_id: int) -> repo.Loaded:
        loaded = await self.rt.db.run(repo.load, workspace_id, check_id)
        if loaded is None:
            raise UserError(UNKNOWN_CHECK)
        return loaded

    async def load_open(self, workspace_id: str, check_id: int, *, plain: bool = False) -> repo.Loaded:
        """An open check, moved to its team's current playbook if that changed; else `UserError`."""
        loaded = await self.load(workspace_id, check_id)
        if loaded.check.status != "open":
            self.request_refresh(workspace_id, check_id)  # in case an earlier update left buttons behind
            raise UserError(closed_sentence(loaded.check, plain=plain))
        return await self.sync_playbook(loaded)

    async def sync_playbook(self, loaded: repo.Loaded) -> repo.Loaded:
        check = loaded.check
        team = await self.team_of(check.workspace_id, check.channel_id, check.team_name)
        try:
            current = await self.team_playbook(team)
        except UserError:
            return loaded  # the check goes on with the playbook it started with
        if current.digest == check.playbook_digest:
            return loaded
        drop = [
            a.question_id
            for a in loaded.answers
            if (q := current.question(a.question_id)) is not None and not still_valid(q, a.value)
        ]
        assert check.id is not None
        await self.rt.db.run(
            repo.upgrade_playbook,
            check.workspace_id,
            check.id,
            check.playbook_digest,
            team.playbook,
            current.model_dump_json(),
            current.digest,
            drop,
            self.rt.clock.now(),
        )
        self.request_refresh(check.workspace_id, check.id)
        return await self.load(check.workspace_id, check.id)

    # --- answering --------------------------------------------------------------------------------

    async def question_for(self, workspace_id: str, ref: Ref, *, modal: bool) -> tuple[CheckState, Question]:
        """The open check and question a button or modal refers to, or a `UserError` saying why not."""
        state = self.state_of(await self.load_open(workspace_id, ref.c, plain=modal))
        question = state.playbook.question(ref.q or "")
        if question is None or (question.kind != "yes_no") != modal:
            self.request_refresh(workspace_id, ref.c)
            raise UserError(STALE_BUTTON)
        return state, question

    async def record(self, workspace_id: str, user_id: str, ref: Ref, raw: str, *, modal: bool) -> bool:
        """Store an answer; True when it changed something. `UserError` with a sentence otherwise."""
        _, question = await self.question_for(workspace_id, ref, modal=modal)
        try:
            value = parse(question, raw)
        except AnswerError as exc:
            raise UserError(exc.message) from exc
        result = await self.rt.db.run(
            repo.record_answer, workspace_id, ref.c, question.id, value, user_id, self.rt.clock.now()
        )
        if result == "unknown":
            raise UserError(UNKNOWN_CHECK)
        if result == "closed":
            raise UserError(closed_sentence((await self.load(workspace_id, ref.c)).check, plain=modal))
        return result == "recorded"

    async def after_answer(self, workspace_id: str, check_id: int) -> None:
        self.request_refresh(workspace_id, check_id)
        await self.finish_if_complete(workspace_id, check_id)

    async def finish_if_complete(self, workspace_id: str, check_id: int) -> bool:
        def verdict_of(
            check: repo.CheckRow, values: dict[str, str]
        ) -> tuple[str | None, float | None, str | None] | None:
            playbook = self.snapshot(check)
            values = {k: v for k, v in values.items() if playbook.question(k) is not None}
            if not is_complete(playbook, values):
                return None
            outcome = decide(playbook, values)
            return (
                outcome.verdict.kind.value if outcome.verdict else None,
                outcome.score,
                outcome.stage.band if outcome.stage else None,
            )

        finished = await self.rt.db.run(
            repo.finish_if_complete, workspace_id, check_id, verdict_of, self.rt.clock.now()
        )
        if finished is not None:
            log.info("scale check finished", extra={"workspace": workspace_id, "check": check_id})
            self.request_refresh(workspace_id, check_id)
        return finished is not None

    # --- cancelling -------------------------------------------------------------------------------

    async def cancel(
        self, client: InstrumentedWebClient, workspace_id: str, check_id: int, user_id: str
    ) -> CheckState:
        loaded = await self.load(workspace_id, check_id)
        check = loaded.check
        if check.status != "open":
            raise UserError(closed_sentence(check))
        team = await self.team_of(workspace_id, check.channel_id, check.team_name)
        admins = self.rt.config.admins_for(workspace_id)
        if not may_cancel(user_id, check.started_by, team.managers, admins) and not await user_is_slack_admin(
            client, user_id
        ):
            who = [f"{bk.mention(check.started_by)} (who started it)"]
            if team.managers:
                who.append(f"the team's managers ({', '.join(bk.mention(m) for m in team.managers)})")
            raise PermissionDenied(f"Only {', '.join(who)} or a workspace admin can cancel this check.")
        if not await self.rt.db.run(repo.cancel, workspace_id, check_id, user_id, self.rt.clock.now()):
            raise UserError(closed_sentence((await self.load(workspace_id, check_id)).check))
        self.request_refresh(workspace_id, check_id)
        return self.state_of(loaded)

    # --- drawing the thread -----------------------------------------------------------------------

    def request_refresh(self, workspace_id: str, check_id: int) -> asyncio.Task[None]:
        return self.pacer.request((workspace_id, check_id))

    async def _paced_refresh(self, key: tuple[str, int]) -> bool:
        workspace_id, check_id = key
        # Across replicas: one refresh per interval (the claim) and one at a time (the lock), so an
        # older rendering never lands after a newer one.
        if not await self.rt.cache.claim(f"checklist:paced:{workspace_id}:{check_id}", self.interval * 0.9):
            return False
        async with locked(
            self.rt.cache, f"checklist:render:{workspace_id}:{check_id}", RENDER_LOCK_SECONDS
        ) as held:
            if not held:
                return False
            try:
                await self.refresh(workspace_id, check_id)
            except SlackApiError as exc:
                if exc.response.get("error") != "ratelimited":
                    raise
                # Still refused after the client's own retries: the pacer draws again after the
                # interval, and the messages not yet updated keep their old digest, so none is lost.
                log.warning("Slack rate-limited a checklist update; drawing again", extra={"check": check_id})
                return False
        return True

    async def refresh(self, workspace_id: str, check_id: int) -> None:
        """Bring the thread, the verdict and the root message in line with what is stored."""
        loaded = await self.rt.db.run(repo.load, workspace_id, check_id)
        if loaded is None or loaded.check.root_ts is None:
            return
        check, state = loaded.check, self.state_of(loaded)
        client = await self.rt.client_for(workspace_id)
        channel, root_ts = check.channel_id, check.root_ts
        payloads = render.thread_messages(state)
        existing = {m.seq: m for m in loaded.messages}
        for seq, payload in enumerate(payloads):
            digest, row = payload_digest(payload), existing.get(seq)
            if row is not None and row.digest == digest:
                continue
            ts = await self._put(client, channel, root_ts, row.ts if row else None, payload)
            if ts is not None:
                await self.rt.db.run(repo.save_message, workspace_id, check_id, seq, ts, digest)
        for seq in sorted(set(existing) - set(range(len(payloads)))):
            await self._delete(client, channel, existing[seq].ts)
            await self.rt.db.run(repo.drop_message, workspace_id, check_id, seq)
        outcome = self.outcome_of(state)
        if outcome is not None and check.verdict_ts is None:
            posted = await client.chat_postMessage(
                channel=channel, thread_ts=root_ts, **render_verdict.verdict_message(state, outcome)
            )
            await self.rt.db.run(repo.set_verdict_ts, workspace_id, check_id, posted["ts"])
        root = render_verdict.root_message(state, outcome)
        digest = payload_digest(root)
        if digest != check.root_digest and await self._put(client, channel, None, root_ts, root):
            await self.rt.db.run(repo.set_root_digest, workspace_id, check_id, digest)

    async def _put(
        self,
        client: InstrumentedWebClient,
        channel: str,
        thread_ts: str | None,
        ts: str | None,
        payload: dict[str, Any],
    ) -> str | None:
        """Update message `ts` (or post it in the thread when there is none, or it was deleted)."""
        if ts is not None:
            try:
                await client.chat_update(channel=channel, ts=ts, **payload)
                return ts
            except SlackApiError as exc:
                if exc.response.get("error") == "ratelimited":
                    raise
                if exc.response.get("error") != "message_not_found" or thread_ts is None:
                    log.warning(
                        "could not update a checklist message", extra={"error": exc.response.get("error")}
                    )
                    return None
        if thread_ts is None:
            return None
        posted = await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **payload)
        return str(posted["ts"])

    @staticmethod
    async def _delete(client: InstrumentedWebClient, channel: str, ts: str) -> None:
        try:
            await client.chat_delete(channel=channel, ts=ts)
        except SlackApiError as exc:
            log.info("could not delete a checklist message", extra={"error": exc.response.get("error")})
