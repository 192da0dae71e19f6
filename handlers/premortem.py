"""`/scale-check premortem [@lead …] | status | export` and the pre-mortem's buttons, modals and suggestions.

Thin: each listener reads the payload, calls `bot.premortem`, and answers; slow work runs after the ack.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot import blocks as bk
from bot.checklist.model import CheckState
from bot.checklist.outcome import Outcome
from bot.checklist.render_verdict import VERDICT_ACTIONS, add_verdict_action
from bot.errors import UserError
from bot.premortem import lifecycle, plans, reports, voting
from bot.premortem.forms import (
    FormErrors,
    parse_answer,
    parse_mitigation,
    raw_mitigation,
    reason_of,
    values_of,
)
from bot.premortem.grouping import normalise
from bot.premortem.mitigation import REASON_MIN
from bot.premortem.refs import (
    ExtendRef,
    FromCheck,
    GroupRef,
    MitigationRef,
    PremortemRef,
    SnoozeRef,
    StartForm,
    StatusRef,
)
from bot.premortem.render import (
    ACTION_ANSWER,
    ACTION_CANCEL,
    ACTION_CLOSE,
    ACTION_EXTEND,
    ACTION_REPLACE,
    ACTION_SPLIT,
    ACTION_START_FROM_CHECK,
    ACTION_UNVOTE,
    ACTION_VOTE,
    REPLACE_BLOCK,
    mentions,
    start_button,
)
from bot.premortem.render_modals import (
    ACTION_COMPONENT,
    REASON,
    VIEW_ANSWER,
    VIEW_MITIGATION,
    VIEW_OVERRIDE,
    VIEW_START,
    answer_modal,
    block,
    component_option,
    note_view,
    start_modal,
    surprise_option,
)
from bot.premortem.render_plan import ACTION_MITIGATE, ACTION_OVERRIDE, ACTION_SNOOZE, ACTION_STATUS
from bot.premortem.service import PremortemService, service_for
from bot.words import verb
from handlers.base import Ctx, FieldError, Listeners, ViewErrors
from handlers.router import Subcommand

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
BROKEN = "That button is not one of mine any more; run `/scale-check premortem status` to find your items."
USAGE = "Mention the tech leads (type `@` and pick them), or use `status` or `export`."


def check_args(args: str) -> str | None:
    """Instant, in the ack: mentions only, or one of the words."""
    words = args.split()
    if not words:
        return None
    if words[0].lower() in ("status", "export"):
        return (
            None if len(words) == 1 else f"`/scale-check premortem {words[0].lower()}` takes no more words."
        )
    return USAGE if MENTION.sub("", args).strip() else None


def _user(ctx: Ctx) -> str:
    if not ctx.user_id:
        raise UserError("I could not tell who you are; try again from Slack.")
    return ctx.user_id


class PremortemListeners:
    def __init__(self, svc: PremortemService) -> None:
        self.svc = svc

    # --- the command ----------------------------------------------------------------------------------

    async def command(self, ctx: Ctx, args: str) -> None:
        word = (args.split() or [""])[0].lower()
        team = await ctx.team()
        if word == "status":
            message = await reports.status(self.svc, team)
            await ctx.ephemeral(message["text"], message["blocks"])
        elif word == "export":
            _, message = await reports.export(self.svc, team)
            await ctx.ephemeral(message["text"], message["blocks"])
        else:
            await self._start(ctx, MENTION.findall(args) or list(team.leads), None)

    async def _start(self, ctx: Ctx, leads: list[str], check_id: int | None) -> None:
        team = await ctx.team()
        if not leads:
            active = await self.svc.active_in_channel(ctx.workspace_id, team.channel_id)
            if active:
                raise UserError(lifecycle.running_sentence(active[0]))
            if not ctx.trigger_id:
                raise UserError(USAGE)
            await ctx.client.views_open(
                trigger_id=ctx.trigger_id, view=start_modal(team.channel_id, check_id)
            )
            return
        started = await lifecycle.start(self.svc, team, _user(ctx), leads, check_id)
        asked = started.pm.lead_ids
        text = (
            f"Started the pre-mortem; {mentions(asked)} {verb(len(asked), 'is', 'are')} asked in the thread."
        )
        if started.absent:
            text += (
                f" {mentions(started.absent)} not in this channel: told by DM, and you can replace "
                "them in the thread."
            )
        await ctx.ephemeral(text)

    async def start_from_check(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = FromCheck.parse(action.get("value"), BROKEN)
        team = await ctx.team()
        await self._start(ctx, list(team.leads), ref.check)

    async def submit_start(self, ctx: Ctx, view: dict[str, Any]) -> dict[str, Any] | None:
        if StartForm.load(view.get("private_metadata")) is None:
            raise FieldError("leads", "This form is out of date; run `/scale-check premortem` again.")
        return None

    async def after_start(self, ctx: Ctx) -> None:
        view = ctx.body.get("view") or {}
        ref = StartForm.parse(view.get("private_metadata"), BROKEN)
        leads = (values_of(view).get("leads") or {}).get("leads", {}).get("selected_users") or []
        team = await self.svc.team(ctx.workspace_id, ref.ch)
        started = await lifecycle.start(self.svc, team, _user(ctx), list(leads), ref.check)
        if started.absent:
            await ctx.dm(
                _user(ctx),
                f"{mentions(started.absent)} not in {bk.channel_link(team.channel_id)}: told by DM, "
                "and you can replace them in the pre-mortem's thread.",
            )

    # --- answers --------------------------------------------------------------------------------------

    async def open_answer(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = PremortemRef.parse(action.get("value"), BROKEN)
        user = _user(ctx)
        pm = await lifecycle.answer_form(self.svc, ctx.workspace_id, ref.pm, user)
        if not ctx.trigger_id:
            raise UserError("Slack did not send what I need to open the form; click again.")
        view = answer_modal(pm.id, pm.team_name, pm.risks_of(user))
        await ctx.client.views_open(trigger_id=ctx.trigger_id, view=view)

    async def submit_answer(self, ctx: Ctx, view: dict[str, Any]) -> dict[str, Any] | None:
        ref = PremortemRef.load(view.get("private_metadata"))
        if ref is None:
            raise FieldError(
                block(1, "component"), "This form is out of date; close it and click Add my answer."
            )
        user = _user(ctx)
        try:
            risks = parse_answer(user, values_of(view))
        except FormErrors as exc:
            raise ViewErrors(exc.errors) from exc
        try:
            await lifecycle.save_answer(self.svc, ctx.workspace_id, ref.pm, user, risks)
        except UserError as exc:
            raise FieldError(block(1, "component"), exc.message) from exc
        return None

    async def after_answer(self, ctx: Ctx) -> None:
        ref = PremortemRef.load((ctx.body.get("view") or {}).get("private_metadata"))
        if ref is not None:
            await lifecycle.after_answer(self.svc, ctx.workspace_id, ref.pm)

    async def suggest_components(self, ctx: Ctx, body: dict[str, Any]) -> list[dict[str, Any]]:
        ref = PremortemRef.load((body.get("view") or {}).get("private_metadata"))
        if ref is None:
            return []
        names, surprised = await self.svc.component_names(ctx.workspace_id, ref.pm)
        typed = normalise(str(body.get("value") or ""))
        return [
            surprise_option(n) if n in surprised else component_option(n)
            for n in names
            if typed in normalise(n)
        ][:100]

    # --- the starter's controls -----------------------------------------------------------------------

    async def extend(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = ExtendRef.parse(action.get("value"), BROKEN)
        to = datetime.fromtimestamp(ref.to, UTC)
        sentence = await lifecycle.extend(self.svc, ctx.workspace_id, ref.pm, _user(ctx), to)
        await ctx.ephemeral(sentence)

    async def cancel(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = PremortemRef.parse(action.get("value"), BROKEN)
        await lifecycle.cancel(self.svc, ctx.workspace_id, ref.pm, _user(ctx))

    async def replace(self, ctx: Ctx, action: dict[str, Any]) -> None:
        parts = str(action.get("block_id") or "").split(":")
        new = action.get("selected_user")
        if len(parts) != 3 or parts[0] != REPLACE_BLOCK or not parts[1].isdigit() or not new:
            raise UserError(BROKEN)
        await lifecycle.replace(self.svc, ctx.workspace_id, int(parts[1]), _user(ctx), parts[2], str(new))

    async def snooze(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = SnoozeRef.parse(action.get("value"), BROKEN)
        message = await lifecycle.snooze(self.svc, ctx.workspace_id, ref.pm, _user(ctx), ref.step)
        ts = (ctx.body.get("message") or {}).get("ts")
        if ctx.channel_id and ts:
            await ctx.client.chat_update(channel=ctx.channel_id, ts=ts, **message)
        else:
            await ctx.ephemeral(message["text"])

    # --- votes ----------------------------------------------------------------------------------------

    async def vote(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = GroupRef.parse(action.get("value"), BROKEN)
        said = await voting.vote(self.svc, ctx.workspace_id, ref.pm, ref.g, _user(ctx))
        if said:
            await ctx.ephemeral(said)

    async def unvote(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = GroupRef.parse(action.get("value"), BROKEN)
        said = await voting.unvote(self.svc, ctx.workspace_id, ref.pm, ref.g, _user(ctx))
        if said:
            await ctx.ephemeral(said)

    async def split(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = GroupRef.parse(action.get("value"), BROKEN)
        await voting.split(self.svc, ctx.workspace_id, ref.pm, ref.g, _user(ctx))

    async def close(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = PremortemRef.parse(action.get("value"), BROKEN)
        await voting.close(self.svc, ctx.workspace_id, ref.pm, _user(ctx))

    # --- mitigations ----------------------------------------------------------------------------------

    async def open_mitigation(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = GroupRef.parse(action.get("value"), BROKEN)
        view = await plans.form(self.svc, ctx.workspace_id, ref.pm, ref.g, _user(ctx))
        if not ctx.trigger_id:
            raise UserError("Slack did not send what I need to open the form; click again.")
        await ctx.client.views_open(trigger_id=ctx.trigger_id, view=view)

    async def submit_mitigation(self, ctx: Ctx, view: dict[str, Any]) -> dict[str, Any] | None:
        ref = GroupRef.load(view.get("private_metadata"))
        if ref is None:
            raise FieldError("plan", "This form is out of date; close it and click Add mitigation again.")
        signals = await plans.signals_for(self.svc, ctx.workspace_id, ref.pm)
        today = await plans.today_for(self.svc, ctx.workspace_id, _user(ctx))  # in the submitter's zone
        try:
            parse_mitigation(raw_mitigation(values_of(view)), signals, today)
        except FormErrors as exc:
            raise ViewErrors(exc.errors) from exc
        # The owner is checked (deactivated?) with Slack after the ack; the modal says so meanwhile.
        return {"response_action": "update", "view": note_view("Saving…", "Checking the owner and saving…")}

    async def after_mitigation(self, ctx: Ctx) -> None:
        view = ctx.body.get("view") or {}
        ref = GroupRef.parse(view.get("private_metadata"), BROKEN)
        signals = await plans.signals_for(self.svc, ctx.workspace_id, ref.pm)
        today = await plans.today_for(self.svc, ctx.workspace_id, _user(ctx))
        try:
            data = parse_mitigation(raw_mitigation(values_of(view)), signals, today)
            shown = await plans.save(
                self.svc, ctx.workspace_id, ref.pm, ref.g, data, _user(ctx), view.get("id")
            )
        except (UserError, FormErrors) as exc:  # the pre-mortem changed between the ack and now
            shown = note_view("Not saved", bk.escape(str(exc)))
        await ctx.client.views_update(view_id=view["id"], view=shown)

    async def set_status(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = StatusRef.parse(action.get("value"), BROKEN)
        said = await plans.set_status(self.svc, ctx.workspace_id, ref.m, ref.s, _user(ctx))
        if said:
            await ctx.ephemeral(said["text"], said["blocks"])

    async def open_override(self, ctx: Ctx, action: dict[str, Any]) -> None:
        ref = MitigationRef.parse(action.get("value"), BROKEN)
        view = await plans.override_form(self.svc, ctx.workspace_id, ref.m, _user(ctx))
        if not ctx.trigger_id:
            raise UserError("Slack did not send what I need to open the form; click again.")
        await ctx.client.views_open(trigger_id=ctx.trigger_id, view=view)

    async def submit_override(self, ctx: Ctx, view: dict[str, Any]) -> dict[str, Any] | None:
        reason = reason_of(values_of(view), REASON)
        if len(reason) < REASON_MIN:
            raise FieldError(
                REASON, f"Give a reason of at least {REASON_MIN} characters; it is kept on record."
            )
        ref = MitigationRef.load(view.get("private_metadata"))
        if ref is None:
            raise FieldError(REASON, "This form is out of date; close it and click the button again.")
        # Checked again now, not when the form opened: the metric may be back or the item closed since.
        try:
            await plans.override(
                self.svc,
                ctx.workspace_id,
                ref.m,
                _user(ctx),
                reason,
                ref.s,
            )
        except UserError as exc:
            raise FieldError(REASON, exc.message) from exc
        return None

    async def after_override(self, ctx: Ctx) -> None:
        ref = MitigationRef.parse((ctx.body.get("view") or {}).get("private_metadata"), BROKEN)
        await plans.after_override(self.svc, ctx.workspace_id, ref.m)


def start_from_check_button(state: CheckState, outcome: Outcome) -> dict[str, Any] | None:
    """Beside "Share to channel" on every finished signal check: start a pre-mortem from its summary."""
    return start_button(state.id)


def register(listeners: Listeners) -> None:
    if start_from_check_button not in VERDICT_ACTIONS:  # once per process, however many apps run
        add_verdict_action(start_from_check_button)
    handlers = PremortemListeners(service_for(listeners.rt))
    listeners.router.add(
        Subcommand(
            name="premortem",
            summary="what breaks first at 10x? Silent answers from the leads, a vote, mitigations with owners",
            usage="[@lead …] | status | export",
            example="/scale-check premortem {you}",
            run=handlers.command,
            check=check_args,
            order=20,
        )
    )
    listeners.action(ACTION_START_FROM_CHECK, handlers.start_from_check)
    listeners.action(ACTION_ANSWER, handlers.open_answer)
    listeners.action(ACTION_EXTEND, handlers.extend)
    listeners.action(ACTION_CANCEL, handlers.cancel)
    listeners.action(ACTION_REPLACE, handlers.replace)
    listeners.action(ACTION_SNOOZE, handlers.snooze)
    listeners.action(ACTION_VOTE, handlers.vote)
    listeners.action(ACTION_UNVOTE, handlers.unvote)
    listeners.action(ACTION_SPLIT, handlers.split)
    listeners.action(ACTION_CLOSE, handlers.close)
    listeners.action(ACTION_MITIGATE, handlers.open_mitigation)
    listeners.action(re.compile(rf"^{ACTION_STATUS}:(open|in_progress|done|wont_do)$"), handlers.set_status)
    listeners.action(ACTION_OVERRIDE, handlers.open_override)
    listeners.view(VIEW_START, handlers.submit_start, handlers.after_start)
    listeners.view(VIEW_ANSWER, handlers.submit_answer, handlers.after_answer)
    listeners.view(VIEW_MITIGATION, handlers.submit_mitigation, handlers.after_mitigation)
    listeners.view(VIEW_OVERRIDE, handlers.submit_override, handlers.after_override)
    listeners.options(ACTION_COMPONENT, handlers.suggest_components)
