"""`/scale-check` (signals, new, cancel, history) and the checklist thread's buttons and modal."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import blocks as bk
from bot.calibration.render import calibration_text
from bot.calibration.service import team_record
from bot.checklist import render_verdict
from bot.checklist.model import CheckState, Ref
from bot.checklist.render import ACTION_OPEN, ACTION_SET
from bot.checklist.render_history import HISTORY_LIMIT, HistoryEntry, history_message, open_check_message
from bot.checklist.render_modal import INPUT_ACTION, INPUT_BLOCK, VIEW_ANSWER, answer_modal
from bot.checklist.render_verdict import ACTION_CANCEL, ACTION_RESUME, ACTION_SHARE
from bot.errors import UserError
from handlers.base import Ctx, FieldError, Listeners
from handlers.checklist_service import ChecklistService, aware, closed_sentence, payload_digest
from handlers.router import Subcommand
from storage import checklist as repo
from storage.cache import locked

log = logging.getLogger(__name__)

BROKEN_BUTTON = "That button is not one of mine any more; run `/scale-check` to find the open check."


def _no_arguments(name: str) -> Callable[[str], str | None]:
    def check(args: str) -> str | None:
        return f"`/scale-check {name}` takes no arguments." if args.strip() else None

    return check


def _ref(raw: str | None) -> Ref:
    ref = Ref.load(raw)
    if ref is None:
        raise UserError(BROKEN_BUTTON)
    return ref


def _user(ctx: Ctx) -> str:
    if not ctx.user_id:
        raise UserError("I could not tell who you are; try again from Slack.")
    return ctx.user_id


class ChecklistListeners:
    """The listeners, sharing one service (and its pacer) per running app."""

    def __init__(self, service: ChecklistService) -> None:
        self.service = service
        self.rt = service.rt

    # --- commands ---------------------------------------------------------------------------------

    async def signals(self, ctx: Ctx, args: str) -> None:
        await self.start(ctx, force_new=False)

    async def new(self, ctx: Ctx, args: str) -> None:
        await self.start(ctx, force_new=True)

    async def _point_to_open(self, ctx: Ctx, channel: str) -> bool:
        open_checks = [
            c for c in await self.rt.db.run(repo.open_checks, ctx.workspace_id, channel) if c.root_ts
        ]
        if not open_checks:
            return False
        assert open_checks[0].id is not None
        state = self.service.state_of(await self.service.load(ctx.workspace_id, open_checks[0].id))
        message = open_check_message(state)
        await ctx.ephemeral(message["text"], message["blocks"])
        return True

    async def start(self, ctx: Ctx, *, force_new: bool) -> None:
        team = await ctx.team()
        user, channel = _user(ctx), team.channel_id
        playbook = await self.service.team_playbook(team)
        if not force_new and await self._point_to_open(ctx, channel):
            return
        async with locked(self.rt.cache, f"checklist:start:{ctx.workspace_id}:{channel}", 30) as held:
            if not held:
                raise UserError(
                    "A scale check is being started in this channel right now; it appears in a moment."
                )
            if not force_new and await self._point_to_open(ctx, channel):
                return
            now = self.rt.clock.now()
            row = await self.rt.db.run(
                repo.create_check,
                ctx.workspace_id,
                channel,
                team.name,
                team.playbook,
                playbook.model_dump_json(),
                playbook.digest,
                user,
                now,
            )
            assert row.id is not None
            state = CheckState(row.id, team.name, channel, playbook, playbook.digest, "open", user, now)
            root = render_verdict.root_message(state)
            try:
                posted = await ctx.client.chat_postMessage(channel=channel, **root)
            except BaseException:
                await self.rt.db.run(repo.discard_check, ctx.workspace_id, row.id)
                raise
            permalink = await self._permalink(ctx, channel, posted["ts"])
            await self.rt.db.run(
                repo.set_root, ctx.workspace_id, row.id, posted["ts"], payload_digest(root), permalink
            )
        log.info("scale check started", extra={"workspace": ctx.workspace_id, "check": row.id})
        await self.service.request_refresh(ctx.workspace_id, row.id)  # posts the thread

    @staticmethod
    async def _permalink(ctx: Ctx, channel: str, ts: str) -> str | None:
        try:
            return str((await ctx.client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"])
        except SlackApiError:
            return None

    async def cancel_command(self, ctx: Ctx, args: str) -> None:
        team = await ctx.team()
        open_checks = [
            c for c in await self.rt.db.run(repo.open_checks, ctx.workspace_id, team.channel_id) if c.root_ts
        ]
        if not open_checks:
            raise UserError("There is no open scale check in this channel to cancel.")
        assert open_checks[0].id is not None
        state = await self.service.cancel(ctx.client, ctx.workspace_id, open_checks[0].id, _user(ctx))
        others = f" {len(open_checks) - 1} more open check(s) remain here." if len(open_checks) > 1 else ""
        await ctx.ephemeral(
            f"Cancelled the scale check {bk.mention(state.started_by)} started {bk.date(state.started_at)}.{others}"
        )

    async def history(self, ctx: Ctx, args: str) -> None:
        team = await ctx.team()
        rows = await self.rt.db.run(repo.history, ctx.workspace_id, team.channel_id, HISTORY_LIMIT)
        total = await self.rt.db.run(repo.count_checks, ctx.workspace_id, team.channel_id)
        entries = []
        for check, answered in rows:
            assert check.id is not None
            playbook = self.service.snapshot(check)
            asked = {q.id for q in playbook.questions()}
            entries.append(
                HistoryEntry(
                    id=check.id,
                    started_by=check.started_by,
                    started_at=aware(check.started_at),
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
        message = history_message(team.name, entries, total)
        calibration = calibration_text(await team_record(self.rt, team))
        if calibration is not None:  # how the team's pre-mortems compared with what broke
            message["blocks"].append(bk.context(f":dart: {calibration}"))
            message["text"] += f" {calibration}"
        await ctx.ephemeral(message["text"], message["blocks"])

    # --- buttons ----------------------------------------------------------------------------------

    async def on_set(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = _ref(action.get("value"))
        if await self.service.record(ctx.workspace_id, _user(ctx), ref, ref.a or "", modal=False):
            await self.service.after_answer(ctx.workspace_id, ref.c)

    async def on_open(self, ctx: Ctx, action: dict[str, Any]) -> None:
        state, question = await self.service.question_for(
            ctx.workspace_id, _ref(action.get("value")), modal=True
        )
        if not ctx.trigger_id:
            raise UserError("Slack did not send what I need to open the form; click Answer again.")
        await ctx.client.views_open(trigger_id=ctx.trigger_id, view=answer_modal(state, question))

    async def on_resume(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = _ref(action.get("value"))
        loaded = await self.service.load(ctx.workspace_id, ref.c)
        if loaded.check.status != "open":
            raise UserError(closed_sentence(loaded.check))
        await self.service.sync_playbook(loaded)
        # A resume repairs what a restart may have left behind: missing thread messages, a stale
        # message, an unfinished finish.
        await self.service.request_refresh(ctx.workspace_id, ref.c)
        if await self.service.finish_if_complete(ctx.workspace_id, ref.c):
            await ctx.ephemeral("Every required answer is in: the verdict is in the thread.")
            return
        state = self.service.state_of(await self.service.load(ctx.workspace_id, ref.c))
        missing = [q for q in state.playbook.questions() if q.required and q.id not in state.answers]
        where = bk.link(state.permalink, "the thread") if state.permalink else "the thread"
        await ctx.ephemeral(
            f"{len(missing)} required question(s) left in {where}; next: *{bk.escape(missing[0].text)}*"
            if missing
            else f"All required questions are answered in {where}."
        )

    async def on_cancel(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = _ref(action.get("value"))
        await self.service.cancel(ctx.client, ctx.workspace_id, ref.c, _user(ctx))

    async def on_share(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref, user = _ref(action.get("value")), _user(ctx)
        loaded = await self.service.load(ctx.workspace_id, ref.c)
        state = self.service.state_of(loaded)
        outcome = self.service.outcome_of(state)
        if outcome is None or loaded.check.root_ts is None:
            raise UserError("This check has no verdict yet; share it once every required answer is in.")
        if not await self.rt.db.run(repo.mark_shared, ctx.workspace_id, ref.c, user, self.rt.clock.now()):
            again = self.service.state_of(await self.service.load(ctx.workspace_id, ref.c))
            when = bk.date(again.shared_at) if again.shared_at else ""
            who = bk.mention(again.shared_by) if again.shared_by else "someone"
            raise UserError(f"{who} already shared this summary to the channel {when}.")
        try:
            await ctx.client.chat_postMessage(
                channel=state.channel_id,
                thread_ts=loaded.check.root_ts,
                reply_broadcast=True,
                **render_verdict.share_message(state, outcome, user),
            )
        except BaseException:
            await self.rt.db.run(repo.unmark_shared, ctx.workspace_id, ref.c)
            raise
        self.service.request_refresh(ctx.workspace_id, ref.c)

    # --- the answer modal ---------------------------------------------------------------------------

    async def submit_answer(self, ctx: Ctx, view: dict[str, Any]) -> dict[str, Any] | None:
        ref = Ref.load(view.get("private_metadata"))
        if ref is None:
            raise FieldError(INPUT_BLOCK, "This form is out of date; close it and click Answer again.")
        entry = ((view.get("state") or {}).get("values") or {}).get(INPUT_BLOCK, {}).get(INPUT_ACTION) or {}
        raw = entry.get("value") or (entry.get("selected_option") or {}).get("value") or ""
        try:
            await self.service.record(ctx.workspace_id, _user(ctx), ref, str(raw), modal=True)
        except UserError as exc:
            raise FieldError(INPUT_BLOCK, exc.message) from exc
        return None

    async def after_answer(self, ctx: Ctx) -> None:
        ref = Ref.load((ctx.body.get("view") or {}).get("private_metadata"))
        if ref is not None:
            await self.service.after_answer(ctx.workspace_id, ref.c)


def register(listeners: Listeners) -> None:
    handlers = ChecklistListeners(ChecklistService(listeners.rt))
    router = listeners.router
    router.add(
        Subcommand(
            "signals",
            "run the signal checklist in a thread (or point to the open one)",
            "",
            "/scale-check signals",
            handlers.signals,
            check=_no_arguments("signals"),
            order=10,
        ),
        default=True,
    )
    router.add(
        Subcommand(
            "new",
            "start another signal checklist even if one is open",
            "",
            "/scale-check new",
            handlers.new,
            check=_no_arguments("new"),
            order=11,
        )
    )
    router.add(
        Subcommand(
            "cancel",
            "cancel the channel's open checklist (its starter, the team's managers or an admin)",
            "",
            "/scale-check cancel",
            handlers.cancel_command,
            check=_no_arguments("cancel"),
            order=12,
        )
    )
    router.add(
        Subcommand(
            "history",
            "the team's past checklists: date, who started, verdict, stage, thread",
            "",
            "/scale-check history",
            handlers.history,
            check=_no_arguments("history"),
            order=13,
        )
    )
    listeners.action(re.compile(rf"^{ACTION_SET}:(yes|no|not_sure)$"), handlers.on_set)
    listeners.action(ACTION_OPEN, handlers.on_open)
    listeners.action(ACTION_RESUME, handlers.on_resume)
    listeners.action(ACTION_CANCEL, handlers.on_cancel)
    listeners.action(ACTION_SHARE, handlers.on_share)
    listeners.view(VIEW_ANSWER, handlers.submit_answer, handlers.after_answer)
