"""The signal checklist's work behind the listeners: start, answer, refresh the thread, finish, cancel,
share, and the history.

The thread is always drawn from what is stored: every change asks the redraw engine (`bot.redraw`) for a
drawing, which reads the check, renders it, and updates only the messages whose content changed. The
first drawing runs at once and the message clicked is redrawn through the click's `response_url`; a
burst is coalesced into a few drawings within the workspace's `chat.update` budget.
"""

from __future__ import annotations

import asyncio
import logging
from typing import cast

from bot import blocks as bk
from bot.checklist import loader, render_verdict, thread
from bot.checklist.answers import Answer, AnswerError, parse, still_valid
from bot.checklist.model import CheckState, Ref, Status, may_cancel
from bot.checklist.outcome import Outcome, decide, is_complete
from bot.checklist.playbook import Playbook, Question
from bot.checklist.render_history import HistoryEntry
from bot.checklist.thread import payload_digest
from bot.errors import PermissionDenied, UserError
from bot.redraw import Redraw, Updater
from bot.runtime import Runtime, one_per_runtime
from bot.slack_api import InstrumentedWebClient, user_is_slack_admin
from bot.teams import Team, resolve_team
from bot.yamlfile import ConfigFileError
from storage import checklist as repo
from storage import teams as teams_repo
from storage.cache import locked

log = logging.getLogger(__name__)

# Requests for a check's thread within this many seconds of its last drawing share the next one (a
# burst of clicks is coalesced; the chat.update budget itself is kept by `bot.redraw`).
UPDATE_INTERVAL = 0.1
START_LOCK_SECONDS = 30

UNKNOWN_CHECK = "I can't find that scale check; it may have been removed. Run /scale-check to start one."
STALE_BUTTON = (
    "That question is no longer in this team's checklist: its playbook changed after this message was "
    "drawn. I've refreshed the thread; answer there."
)


def closed_sentence(check: repo.CheckRow, *, plain: bool = False) -> str:
    """Why answers are closed; `plain` for a modal's error, which shows no mentions or dates."""
    again = (
        "Run /scale-check new to start a new one." if plain else "Run `/scale-check new` to start a new one."
    )
    if check.status == "cancelled":
        if plain:
            return f"This scale check was cancelled, so its answers are closed. {again}"
        who = bk.mention(check.cancelled_by) if check.cancelled_by else "someone"
        when = bk.date(check.cancelled_at) if check.cancelled_at else ""
        return f"This scale check was cancelled by {who} {when}, so its answers are closed. {again}"
    when = "" if plain or not check.finished_at else f" {bk.date(check.finished_at)}"
    return f"This scale check finished{when} and its verdict is in the thread, so its answers are closed. {again}"


class ChecklistService:
    def __init__(self, rt: Runtime, interval: float | None = None) -> None:
        self.rt = rt
        self.interval = UPDATE_INTERVAL if interval is None else interval
        self.redraw: Redraw[tuple[str, int]] = Redraw(
            "checklist",
            rt.cache,
            self._draw,
            client_for=rt.client_for,
            workspace_of=lambda key: key[0],
            gap=self.interval,
        )
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
            a.question_id: Answer(a.question_id, a.value, a.answered_by, a.answered_at)
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
            started_at=check.started_at,
            answers=answers,
            permalink=check.permalink,
            finished_at=check.finished_at,
            cancelled_by=check.cancelled_by,
            cancelled_at=check.cancelled_at,
            shared_by=check.shared_by,
            shared_at=check.shared_at,
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

    async def after_answer(
        self, workspace_id: str, check_id: int, *, ts: str | None = None, response_url: str | None = None
    ) -> None:
        self.request_refresh(workspace_id, check_id, ts=ts, response_url=response_url)
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

    # --- starting, sharing, listing -----------------------------------------------------------------

    async def open_check(self, workspace_id: str, channel_id: str) -> tuple[CheckState | None, int]:
        """The channel's open check that has a thread (the latest), and how many are open."""
        open_checks = [
            c for c in await self.rt.db.run(repo.open_checks, workspace_id, channel_id) if c.root_ts
        ]
        if not open_checks:
            return None, 0
        assert open_checks[0].id is not None
        return self.state_of(await self.load(workspace_id, open_checks[0].id)), len(open_checks)

    async def start(
        self, client: InstrumentedWebClient, workspace_id: str, team: Team, user_id: str, *, force_new: bool
    ) -> tuple[CheckState, bool]:
        """Post a new check's root (its thread follows), or unless `force_new` find the channel's open
        check: (the check, whether it is new). A check whose root cannot be posted is discarded."""
        channel = team.channel_id
        playbook = await self.team_playbook(team)
        if not force_new and (found := (await self.open_check(workspace_id, channel))[0]):
            return found, False
        async with locked(
            self.rt.cache, f"checklist:start:{workspace_id}:{channel}", START_LOCK_SECONDS
        ) as held:
            if not held:
                raise UserError(
                    "A scale check is being started in this channel right now; it appears in a moment."
                )
            if not force_new and (found := (await self.open_check(workspace_id, channel))[0]):
                return found, False
            now = self.rt.clock.now()
            row = await self.rt.db.run(
                repo.create_check,
                workspace_id,
                channel,
                team.name,
                team.playbook,
                playbook.model_dump_json(),
                playbook.digest,
                user_id,
                now,
            )
            assert row.id is not None
            state = CheckState(row.id, team.name, channel, playbook, playbook.digest, "open", user_id, now)
            root = render_verdict.root_message(state)
            try:
                posted = await client.chat_postMessage(channel=channel, **root)
            except BaseException:
                await self.rt.db.run(repo.discard_check, workspace_id, row.id)
                raise
            permalink = await thread.permalink(client, channel, posted["ts"])
            await self.rt.db.run(
                repo.set_root, workspace_id, row.id, posted["ts"], payload_digest(root), permalink
            )
        log.info("scale check started", extra={"workspace": workspace_id, "check": row.id})
        await self.request_refresh(workspace_id, row.id)  # posts the thread
        return state, True

    async def share(
        self, client: InstrumentedWebClient, workspace_id: str, check_id: int, user_id: str
    ) -> None:
        """Broadcast the verdict's summary from the thread, once; the mark is rolled back if Slack refuses."""
        loaded = await self.load(workspace_id, check_id)
        state = self.state_of(loaded)
        outcome = self.outcome_of(state)
        if outcome is None or loaded.check.root_ts is None:
            raise UserError("This check has no verdict yet; share it once every required answer is in.")
        if not await self.rt.db.run(repo.mark_shared, workspace_id, check_id, user_id, self.rt.clock.now()):
            again = self.state_of(await self.load(workspace_id, check_id))
            when = bk.date(again.shared_at) if again.shared_at else ""
            who = bk.mention(again.shared_by) if again.shared_by else "someone"
            raise UserError(f"{who} already shared this summary to the channel {when}.")
        try:
            await client.chat_postMessage(
                channel=state.channel_id,
                thread_ts=loaded.check.root_ts,
                reply_broadcast=True,
                **render_verdict.share_message(state, outcome, user_id),
            )
        except BaseException:
            await self.rt.db.run(repo.unmark_shared, workspace_id, check_id)
            raise
        self.request_refresh(workspace_id, check_id)

    async def history(self, workspace_id: str, channel_id: str, limit: int) -> tuple[list[HistoryEntry], int]:
        """The channel's latest `limit` checks, and how many there are in all."""
        rows = await self.rt.db.run(repo.history, workspace_id, channel_id, limit)
        total = await self.rt.db.run(repo.count_checks, workspace_id, channel_id)
        entries = []
        for check, answered in rows:
            assert check.id is not None
            playbook = self.snapshot(check)
            asked = {q.id for q in playbook.questions()}
            entries.append(
                HistoryEntry(
                    id=check.id,
                    started_by=check.started_by,
                    started_at=check.started_at,
                    status=check.status,
                    permalink=check.permalink,
                    answered=len(answered & asked),  # answers to questions the playbook dropped don't count
                    questions=len(asked),
                    verdict=check.verdict,
                    score=check.score,
                    band=check.band,
                    cancelled_by=check.cancelled_by,
                )
            )
        return entries, total

    # --- drawing the thread -----------------------------------------------------------------------

    def request_refresh(
        self, workspace_id: str, check_id: int, *, ts: str | None = None, response_url: str | None = None
    ) -> asyncio.Task[None]:
        """Ask for a drawing of the thread; `ts`/`response_url`: the message clicked and the click's
        response_url, which redraws that message at once outside the chat.update budget."""
        return self.redraw.request((workspace_id, check_id), ts=ts, response_url=response_url)

    async def _draw(self, key: tuple[str, int], updater: Updater) -> None:
        await thread.draw(self, key[0], key[1], updater)


service_for = one_per_runtime(ChecklistService)
