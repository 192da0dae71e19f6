"""`/scale-check` (signals, new, cancel, history) and the checklist thread's buttons and modal."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from bot import blocks as bk
from bot.calibration.render import calibration_text
from bot.calibration.service import team_record
from bot.checklist.model import Ref
from bot.checklist.render import ACTION_OPEN, ACTION_SET
from bot.checklist.render_history import HISTORY_LIMIT, history_message, open_check_message
from bot.checklist.render_modal import INPUT_ACTION, INPUT_BLOCK, VIEW_ANSWER, answer_modal
from bot.checklist.render_verdict import ACTION_CANCEL, ACTION_RESUME, ACTION_SHARE
from bot.checklist.service import ChecklistService, closed_sentence, service_for
from bot.errors import UserError
from bot.words import plural, verb
from handlers.base import Ctx, FieldError, Listeners
from handlers.router import Subcommand

log = logging.getLogger(__name__)

BROKEN_BUTTON = "That button is not one of mine any more; run `/scale-check` to find the open check."


def _no_arguments(name: str) -> Callable[[str], str | None]:
    def check(args: str) -> str | None:
        return f"`/scale-check {name}` takes no arguments." if args.strip() else None

    return check


def _ref(raw: str | None) -> Ref:
    return Ref.parse(raw, BROKEN_BUTTON)


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

    async def start(self, ctx: Ctx, *, force_new: bool) -> None:
        state, new = await self.service.start(
            ctx.client, ctx.workspace_id, await ctx.team(), _user(ctx), force_new=force_new
        )
        if not new:
            message = open_check_message(state)
            await ctx.ephemeral(message["text"], message["blocks"])

    async def cancel_command(self, ctx: Ctx, args: str) -> None:
        team = await ctx.team()
        found, open_count = await self.service.open_check(ctx.workspace_id, team.channel_id)
        if found is None:
            raise UserError("There is no open scale check in this channel to cancel.")
        state = await self.service.cancel(ctx.client, ctx.workspace_id, found.id, _user(ctx))
        more = open_count - 1
        others = f" {plural(more, 'more open check')} {verb(more, 'remains', 'remain')} here." if more else ""
        await ctx.ephemeral(
            f"Cancelled the scale check {bk.mention(state.started_by)} started {bk.date(state.started_at)}.{others}"
        )

    async def history(self, ctx: Ctx, args: str) -> None:
        team = await ctx.team()
        entries, total = await self.service.history(ctx.workspace_id, team.channel_id, HISTORY_LIMIT)
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
            # The message clicked is redrawn through the click's response_url, at once.
            ts = (ctx.body.get("container") or {}).get("message_ts")
            await self.service.after_answer(ctx.workspace_id, ref.c, ts=ts, response_url=ctx.response_url)

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
            f"{plural(len(missing), 'required question')} left in {where}; next: *{bk.escape(missing[0].text)}*"
            if missing
            else f"All required questions are answered in {where}."
        )

    async def on_cancel(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = _ref(action.get("value"))
        await self.service.cancel(ctx.client, ctx.workspace_id, ref.c, _user(ctx))

    async def on_share(self, ctx: Ctx, action: dict[str, Any]) -> None:
        await self.service.share(ctx.client, ctx.workspace_id, _ref(action.get("value")).c, _user(ctx))

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
    handlers = ChecklistListeners(service_for(listeners.rt))
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
