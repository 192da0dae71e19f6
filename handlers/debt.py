"""`/scale-check debt …`, its form, and the nudge's buttons: parse, call `bot.debt`, render, respond."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from bot import blocks as bk
from bot import outbound
from bot.debt import band, command, nudges, render, service, sync
from bot.debt.model import SOURCE_NAMES, TeamDebt
from bot.debt.refs import DebtForm, NudgeButton
from bot.errors import UserError
from bot.teams import Team
from handlers.base import Ctx, Listeners, ViewErrors
from handlers.router import Subcommand

log = logging.getLogger(__name__)


def register(listeners: Listeners) -> None:
    listeners.router.add(
        Subcommand(
            "debt",
            "record and see the share of sprint capacity spent on tech debt, against the 20–30% band",
            command.USAGE,
            command.EXAMPLE,
            run,
            check=command.problem,
            order=40,
        )
    )
    listeners.view(render.MODAL_CALLBACK, submit_form, after=after_form)
    listeners.action(render.ACK_ACTION, acknowledge)
    listeners.action(render.FIXIT_ACTION, plan_fixit)


async def run(ctx: Ctx, args: str) -> None:
    parsed = command.parse(args)  # the ack already refused anything that does not parse
    team = await ctx.team()
    if isinstance(parsed, command.OpenForm):
        debt = await service.team_debt(ctx.rt, team)
        await ctx.client.views_open(
            trigger_id=ctx.trigger_id, view=render.record_modal(team.channel_id, team.debt.unit, debt.current)
        )
        if debt.sprints:
            await ctx.ephemeral(**_kw(render.allocation_message(debt)))
    elif isinstance(parsed, command.ShowHistory):
        await ctx.ephemeral(**_kw(render.history_message(await service.team_debt(ctx.rt, team))))
    elif isinstance(parsed, command.Sync):
        result = await sync.sync(ctx.rt, team, ctx.client)
        if result.busy:
            raise UserError(
                "An import for this team is running already; `/scale-check debt` shows its result."
            )
        assert result.debt is not None
        await ctx.ephemeral(**_kw(render.allocation_message(result.debt, _synced(result))))
    else:
        figures = service.Figures(
            capacity=parsed.capacity,
            debt=parsed.debt,
            unit=parsed.unit or team.debt.unit,
            author=ctx.user_id or "",
            sprint=parsed.sprint,
            starts=parsed.starts,
            ends=parsed.ends,
            typed=parsed.typed,
        )
        written = await service.write(ctx.rt, team, figures)
        await ctx.ephemeral(
            **_kw(render.allocation_message(written.debt, _recorded(written.debt, written.sprint)))
        )
        await _nudge(ctx, team, written.debt)


async def _nudge(ctx: Ctx, team: Team, debt: TeamDebt) -> None:
    """The write is recorded and confirmed already; a nudge that cannot be posted is retried on the next
    write or scheduled check."""
    try:
        await nudges.after_write(ctx.rt, ctx.client, team, debt)
    except Exception:
        log.warning(
            "could not post the tech-debt nudge", extra={"workspace": team.workspace_id}, exc_info=True
        )


def _kw(message: dict[str, Any]) -> dict[str, Any]:
    return {"text": message["text"], "blocks": message.get("blocks")}


def _recorded(debt: TeamDebt, sprint: str) -> str:
    """What the write did: a new sprint, or a correction (both values kept)."""
    key = " ".join(sprint.split()).casefold()
    record = next(r for r in debt.sprints if r.name.casefold() == key)
    latest = record.latest
    now = f"{render.number(latest.debt)} of {render.number(latest.capacity)} {latest.unit} ({band.percent(latest.share)})"
    if record.corrections == 0:
        return f":white_check_mark: Recorded {now} for *{bk.escape(record.name)}*."
    before = record.entries[-2]
    was = f"{render.number(before.debt)} of {render.number(before.capacity)} {before.unit} ({band.percent(before.share)})"
    origin = (
        "typed in Slack"
        if not before.imported
        else f"imported from {SOURCE_NAMES.get(before.source, before.source)}"
    )
    return (
        f":pencil2: Corrected *{bk.escape(record.name)}*: now {now}, was {was}, {origin}. "
        "Both are kept in `/scale-check debt history`; the latest write wins."
    )


def _synced(result: sync.SyncResult) -> str:
    if not result.ok:
        return f":warning: The import failed: {outbound.mrkdwn(result.reason or 'unknown reason')}. The last good figure stays."
    assert result.tally is not None
    what = "Recorded" if result.recorded else "Nothing changed since the last import of"
    return f":inbox_tray: {what} *{bk.escape(result.sprint or '')}* from the tracker ({result.tally.issues} issues)."


# --- the form ----------------------------------------------------------------------------------------


def _value(values: dict[str, Any], block: str) -> Any:
    return (values.get(block) or {}).get("value") or {}


def _form(ctx: Ctx, view: dict[str, Any]) -> tuple[str, service.Figures]:
    channel = DebtForm.parse(
        view.get("private_metadata"),
        "This form lost its channel; run `/scale-check debt` again in your team's channel.",
    ).channel
    values = view["state"]["values"]
    errors: dict[str, str] = {}
    name = " ".join(str(_value(values, "sprint").get("value") or "").split())
    if not name:
        errors["sprint"] = "Name the sprint, like Sprint 42."
    starts = _date(_value(values, "starts").get("selected_date"))
    ends = _date(_value(values, "ends").get("selected_date"))
    if (starts is None) != (ends is None):
        errors["ends" if starts else "starts"] = "Give both dates, or neither."
    elif starts and ends and ends < starts:
        errors["ends"] = "The sprint can't end before it starts."
    capacity = _number(_value(values, "capacity").get("value"))
    debt = _number(_value(values, "debt").get("value"))
    if capacity is None or capacity <= 0:
        errors["capacity"] = "The capacity must be a number more than 0."
    if debt is None or debt < 0:
        errors["debt"] = "The debt part must be a number, 0 or more."
    elif capacity is not None and capacity > 0 and debt > capacity:
        errors["debt"] = f"The debt part can't be more than the capacity ({render.number(capacity)})."
    if errors:
        raise ViewErrors(errors)
    assert capacity is not None and debt is not None
    unit = ((_value(values, "unit").get("selected_option") or {}).get("value")) or "points"
    note = str(_value(values, "note").get("value") or "").strip() or None
    return channel, service.Figures(
        capacity=capacity,
        debt=debt,
        unit=unit,
        author=ctx.user_id or "",
        sprint=name,
        starts=starts,
        ends=ends,
        note=note,
    )


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _number(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number <= command.MAX_FIGURE else None


async def submit_form(ctx: Ctx, view: dict[str, Any]) -> dict[str, Any] | None:
    """Validate and store before the ack (errors show under the inputs; nothing half-recorded)."""
    channel, figures = _form(ctx, view)
    team = await service.team_for(ctx.rt, ctx.workspace_id, channel)
    await service.write(ctx.rt, team, figures)
    return None


async def after_form(ctx: Ctx) -> None:
    view = ctx.body.get("view") or {}
    channel, figures = _form(ctx, view)
    ctx.channel_id = channel
    team = await service.team_for(ctx.rt, ctx.workspace_id, channel)
    debt = await service.team_debt(ctx.rt, team)
    assert figures.sprint is not None
    await ctx.ephemeral(**_kw(render.allocation_message(debt, _recorded(debt, figures.sprint))))
    await _nudge(ctx, team, debt)


# --- the nudge's buttons -----------------------------------------------------------------------------


def _clicked(ctx: Ctx) -> str | None:
    ts = (ctx.body.get("message") or {}).get("ts") or (ctx.body.get("container") or {}).get("message_ts")
    return str(ts) if ts else None


def _nudge_id(action: dict[str, Any]) -> int:
    return NudgeButton.parse(
        action.get("value"), "That button is out of date; use the latest nudge in the channel."
    ).n


async def acknowledge(ctx: Ctx, action: dict[str, Any]) -> None:
    team = await ctx.team()
    nudge, changed = await nudges.acknowledge(
        ctx.rt, ctx.client, team, _nudge_id(action), ctx.user_id or "", _clicked(ctx)
    )
    if not changed and nudge.acknowledged_by:
        await ctx.ephemeral(f"{bk.mention(nudge.acknowledged_by)} acknowledged this already.")


async def plan_fixit(ctx: Ctx, action: dict[str, Any]) -> None:
    team = await ctx.team()
    nudge, changed = await nudges.plan_fixit(
        ctx.rt, ctx.client, team, _nudge_id(action), ctx.user_id or "", _clicked(ctx)
    )
    if not changed:
        await ctx.ephemeral(render.fixit_line(nudge).replace(":hammer_and_wrench: ", "Already planned: "))
    elif not team.managers:
        await ctx.ephemeral(
            "Planned. This team has no managers configured, so nobody else was told; "
            "setup or the config file can name them."
        )
