"""`/scale-check launch [move <id> <date> | cancel <id>]`, `/scale-check launches`, the launch modal and
the launch message's Move and Cancel buttons. Thin: each listener parses, calls `bot.launch`, answers."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.errors import PermissionDenied, UserError
from bot.launch import render
from bot.launch.model import LaunchForm
from bot.launch.service import UPCOMING_DAYS, LaunchService, service_for
from handlers.base import Ctx, FieldError, Listeners
from handlers.router import Subcommand

USAGE = "Use `/scale-check launch`, `/scale-check launch move <id> <YYYY-MM-DD>` or `/scale-check launch cancel <id>`."
MOVE = re.compile(r"^move\s+#?(\d+)\s+(\d{4}-\d{2}-\d{2})$", re.IGNORECASE)
CANCEL = re.compile(r"^cancel\s+#?(\d+)$", re.IGNORECASE)
BROKEN = "That form or button is out of date; run `/scale-check launches` to find the launch."


def check_args(args: str) -> str | None:
    text = args.strip()
    if not text or MOVE.match(text) or CANCEL.match(text):
        return None
    return USAGE


def _user(ctx: Ctx) -> str:
    if not ctx.user_id:
        raise UserError("I could not tell who you are; try again from Slack.")
    return ctx.user_id


def _day(raw: str | None) -> date:
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise FieldError("date", "Pick a date.") from None


def _form(raw: str | None) -> LaunchForm:
    return LaunchForm.parse(raw or "{}", BROKEN)


def _values(view: dict[str, Any]) -> dict[str, Any]:
    return dict((view.get("state") or {}).get("values") or {})


class LaunchListeners:
    def __init__(self, svc: LaunchService) -> None:
        self.svc = svc

    async def command(self, ctx: Ctx, args: str) -> None:
        text = args.strip()
        if (moved := MOVE.match(text)) is not None:
            launch = await self.svc.move(
                ctx.client, ctx.workspace_id, int(moved[1]), _day(moved[2]), _user(ctx)
            )
            await ctx.ephemeral(f"Moved launch #{launch.id} to {render.day_text(launch.day)}.")
            return
        if (cancelled := CANCEL.match(text)) is not None:
            launch = await self.svc.cancel(ctx.client, ctx.workspace_id, int(cancelled[1]), _user(ctx))
            await ctx.ephemeral(f"Cancelled launch #{launch.id}.")
            return
        team = await ctx.team()
        if not ctx.trigger_id:
            raise UserError("Slack did not send what I need to open the form; run the command again.")
        config = ctx.rt.config.launch_for(ctx.workspace_id)
        view = render.launch_modal(
            team.channel_id,
            team.leads,
            config.default_multiple,
            ctx.now.date(),
            LaunchForm(channel=team.channel_id),
        )
        await ctx.client.views_open(trigger_id=ctx.trigger_id, view=view)

    async def list(self, ctx: Ctx, args: str) -> None:
        launches = await self.svc.upcoming(ctx.workspace_id)
        message = render.list_message(launches, UPCOMING_DAYS)
        await ctx.ephemeral(message["text"], message["blocks"])

    async def submit(self, ctx: Ctx, view: dict[str, Any]) -> dict[str, Any] | None:
        """Check the form before Slack closes it: the fields, the date, and who may plan for the team."""
        form, values = _form(view.get("private_metadata")), _values(view)
        day = _day(values.get("date", {}).get("date", {}).get("selected_date"))
        if form.id is not None:  # a move: checked now, done after the ack
            try:
                await self.svc.check_move(ctx.client, ctx.workspace_id, form.id, day, _user(ctx))
            except UserError as exc:
                raise FieldError("date", exc.message) from exc
            return None
        title = str(values.get("what", {}).get("value", {}).get("value") or "").strip()
        if not title:
            raise FieldError("what", "Say what is launching.")
        try:
            multiple = float(values.get("multiple", {}).get("multiple", {}).get("value") or "")
        except ValueError:
            raise FieldError("multiple", "A number, like 10.") from None
        if not 1 < multiple <= 1000:
            raise FieldError("multiple", "A multiple above 1 and up to 1000, like 10.")
        channel = values.get("team", {}).get("channel", {}).get("selected_conversation")
        if not channel:
            raise FieldError("team", "Pick the team's channel.")
        try:
            await self.svc.check_plan(ctx.client, ctx.workspace_id, str(channel), _user(ctx), day)
        except PermissionDenied as exc:
            raise FieldError("team", exc.message) from exc
        except UserError as exc:
            raise FieldError("date", exc.message) from exc
        return None

    async def after(self, ctx: Ctx) -> None:
        view = ctx.body.get("view") or {}
        form, values = _form(view.get("private_metadata")), _values(view)
        day = _day(values.get("date", {}).get("date", {}).get("selected_date"))
        if form.id is not None:
            await self.svc.move(ctx.client, ctx.workspace_id, form.id, day, _user(ctx))
            return
        await self.svc.create(
            ctx.client,
            ctx.workspace_id,
            str(values["team"]["channel"]["selected_conversation"]),
            str(values["what"]["value"]["value"]),
            day,
            float(values["multiple"]["multiple"]["value"]),
            list(values.get("leads", {}).get("leads", {}).get("selected_users") or []),
            _user(ctx),
        )

    async def open_move(self, ctx: Ctx, action: dict[str, Any]) -> None:
        form = _form(action.get("value"))
        if form.id is None or not ctx.trigger_id:
            raise UserError(BROKEN)
        launch = await self.svc.load(ctx.workspace_id, form.id)
        view = render.launch_modal(None, (), launch.multiple, launch.day, LaunchForm(id=launch.id))
        await ctx.client.views_open(trigger_id=ctx.trigger_id, view=view)

    async def cancel(self, ctx: Ctx, action: dict[str, Any]) -> None:
        form = _form(action.get("value"))
        if form.id is None:
            raise UserError(BROKEN)
        await self.svc.cancel(ctx.client, ctx.workspace_id, form.id, _user(ctx))


def register(listeners: Listeners) -> None:
    handlers = LaunchListeners(service_for(listeners.rt))
    listeners.router.add(
        Subcommand(
            name="launch",
            summary="plan a launch: the pre-mortem, checklist, go/no-go and retro come at the right time",
            usage="[move <id> <date> | cancel <id>]",
            example="/scale-check launch",
            run=handlers.command,
            check=check_args,
            order=25,
        )
    )
    listeners.router.add(
        Subcommand(
            name="launches",
            summary="the launches in the next 30 days, with their next step",
            usage="",
            example="/scale-check launches",
            run=handlers.list,
            check=lambda args: "`/scale-check launches` takes no arguments." if args.strip() else None,
            order=26,
        )
    )
    listeners.view(render.VIEW_LAUNCH, handlers.submit, handlers.after)
    listeners.action(render.ACTION_MOVE, handlers.open_move)
    listeners.action(render.ACTION_CANCEL, handlers.cancel)
