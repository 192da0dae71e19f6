"""Mitigations for the top three risks: the modal, saving (with the owner's DM), statuses, and the
metric check that gates "done" (with a manager's recorded override when the metric can't be read)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import blocks as bk
from bot.errors import PermissionDenied, UserError
from bot.metrics.render import value_text
from bot.metrics.service import read_team_signals
from bot.metrics.signals import resolve_signals
from bot.premortem import owner_away
from bot.premortem.forms import MitigationForm
from bot.premortem.grouping import Group
from bot.premortem.mitigation import (
    REASON_MIN,
    check_done,
    local_today,
    may_change_status,
    may_override,
)
from bot.premortem.model import MITIGATION_STATUSES, Mitigation, Premortem
from bot.premortem.refs import MitigationRef
from bot.premortem.render_modals import mitigation_modal, note_view, override_modal
from bot.premortem.render_plan import ACTION_OVERRIDE, owner_dm
from bot.premortem.service import PremortemService, closed_sentence
from bot.premortem.state import mitigation_of
from bot.presence.render import back_text
from bot.teams import Team
from bot.words import quoted
from storage import premortem as repo
from storage import premortem_mitigations as mitigations_repo

log = logging.getLogger(__name__)

# A "mark done anyway" is checked when its modal is submitted, inside Slack's 3-second answer: the
# metric gets this long; no answer in time counts as still unreadable.
OVERRIDE_READ_SECONDS = 1.0

View = dict[str, Any]
Message = dict[str, Any]


def team_signals(svc: PremortemService, team: Team) -> list[str]:
    """The names of the team's signals a mitigation can be verified by (none without a source)."""
    if team.metrics is None or team.metrics.source not in svc.rt.config.sources:
        return []
    try:
        signals = resolve_signals(team.metrics, svc.rt.config.sources, svc.rt.config.defaults.metrics)
    except Exception:
        log.warning("could not list the team's signals", exc_info=True)
        return []
    return [s.name for s in signals if not s.is_feature]


async def _planning(
    svc: PremortemService, workspace_id: str, premortem_id: int, group_id: str
) -> tuple[Premortem, Team, Group]:
    pm = await svc.load(workspace_id, premortem_id)
    if pm.status != "planning":
        raise UserError(
            "Mitigations are planned once voting closes." if pm.status == "voting" else closed_sentence(pm)
        )
    team = await svc.team(workspace_id, pm.channel_id)
    board = await svc.board(pm, team)
    ranked = next((r for r in board.top if r.id == group_id), None)
    if ranked is None:
        raise UserError("That risk is not one of the top three; plan mitigations from the top-three message.")
    return pm, team, ranked.group


async def form(
    svc: PremortemService, workspace_id: str, premortem_id: int, group_id: str, user_id: str
) -> View:
    pm, team, group = await _planning(svc, workspace_id, premortem_id, group_id)
    await svc.require(
        workspace_id,
        user_id,
        {pm.started_by, *pm.lead_ids, *team.managers},
        "Only the person who started the pre-mortem, its leads, the team's managers or an admin plan "
        "mitigations.",
    )
    today = await today_for(svc, workspace_id, user_id)
    return mitigation_modal(pm.id, group, team_signals(svc, team), pm.mitigation_for(group.id), today)


async def today_for(svc: PremortemService, workspace_id: str, user_id: str) -> date:
    """Today's date where `user_id` is (their Slack time zone): what "a due date in the past" means."""
    return local_today(svc.rt.clock.now(), await svc.user_tz(workspace_id, user_id))


async def signals_for(svc: PremortemService, workspace_id: str, premortem_id: int) -> list[str]:
    pm = await svc.load(workspace_id, premortem_id)
    return team_signals(svc, await svc.team(workspace_id, pm.channel_id))


async def save(
    svc: PremortemService,
    workspace_id: str,
    premortem_id: int,
    group_id: str,
    data: MitigationForm,
    user_id: str,
    view_id: str | None,
) -> View:
    """Store the mitigation, DM its owner, redraw the thread; returns the view to show in the modal."""
    pm, team, group = await _planning(svc, workspace_id, premortem_id, group_id)
    owner = await svc.user_info(workspace_id, data.owner)
    if owner.get("deleted") or owner.get("is_bot"):
        why = "is deactivated" if owner.get("deleted") else "is a bot"
        today = await today_for(svc, workspace_id, user_id)
        values = data.to_json()
        return mitigation_modal(
            pm.id,
            group,
            team_signals(svc, team),
            None,
            today,
            values,
            f"{bk.mention(data.owner)} {why}; pick another owner.",
        )
    target = data.target
    saved_input = mitigations_repo.MitigationInput(
        group_id=group.id,
        title=group.title,
        plan=data.plan,
        owner=data.owner,
        due=data.due,
        verification=data.verification,
        metric=data.metric,
        target_op=target.op if target else None,
        target_value=target.value if target else None,
        target_text=target.text if target else None,
        owner_tz=str(owner.get("tz") or "") or None,
    )
    try:
        saved = await svc.rt.db.run(
            mitigations_repo.save,
            workspace_id,
            premortem_id,
            saved_input,
            user_id,
            view_id,
            svc.rt.clock.now(),
        )
    except repo.Closed:
        return note_view(
            "Not saved", "The pre-mortem was cancelled meanwhile, so the mitigation was not saved."
        )
    title = bk.escape(group.title)
    if saved.duplicate:
        return note_view("Saved", f"The mitigation for *{title}* is saved.")
    mitigation = mitigation_of(saved.row)
    told = ""
    if saved.created or saved.previous_owner != data.owner:
        told = await dm_owner(svc, pm, mitigation)
    await svc.refresh(workspace_id, premortem_id)
    if not saved.created:
        await _update_dm(svc, pm, saved.row.id)
    verb = "Saved" if saved.created else "Updated"
    return note_view("Saved", f"{verb} the mitigation for *{title}*.{told}")


async def dm_owner(svc: PremortemService, pm: Premortem, mitigation: Mitigation) -> str:
    """DM the owner their mitigation, or, when they are away, hold it until they are back; what to tell the
    person who saved it."""
    tz = mitigation.owner_tz
    away = await owner_away.hold_if_away(svc, pm.workspace_id, mitigation.id, mitigation.owner, tz)
    if away is not None:
        return (
            f" {bk.mention(mitigation.owner)} is {back_text(away.until, tz)}; they get it by DM when they are "
            "back."
        )
    pm = await svc.load(pm.workspace_id, pm.id)
    try:
        channel, ts = await svc.dm(
            pm.workspace_id, mitigation.owner, owner_dm(pm, mitigation, svc.rt.clock.now())
        )
    except SlackApiError as exc:
        log.warning("could not DM a mitigation's owner", extra={"error": exc.response.get("error")})
        return f" I could not DM {bk.mention(mitigation.owner)}; tell them in the thread."
    await svc.rt.db.run(mitigations_repo.set_dm, pm.workspace_id, mitigation.id, channel, ts)
    return f" {bk.mention(mitigation.owner)} got it by DM."


async def _update_dm(svc: PremortemService, pm: Premortem, mitigation_id: int | None) -> None:
    if mitigation_id is None:
        return
    row = await svc.rt.db.run(mitigations_repo.get, pm.workspace_id, mitigation_id)
    if row is None or not row.dm_channel or not row.dm_ts:
        return
    pm = await svc.load(pm.workspace_id, pm.id)
    client = await svc.client(pm.workspace_id)
    message = owner_dm(pm, mitigation_of(row), svc.rt.clock.now())
    try:
        await client.chat_update(channel=row.dm_channel, ts=row.dm_ts, **message)
    except SlackApiError as exc:
        log.info("could not update the owner's DM", extra={"error": exc.response.get("error")})


async def _mitigation(
    svc: PremortemService, workspace_id: str, mitigation_id: int
) -> tuple[Premortem, Team, Mitigation]:
    row = await svc.rt.db.run(mitigations_repo.get, workspace_id, mitigation_id)
    if row is None:
        raise UserError("I can't find that mitigation any more; see the pre-mortem's thread.")
    pm = await svc.load(workspace_id, row.premortem_id)
    if pm.status == "cancelled":
        raise UserError(closed_sentence(pm))
    return pm, await svc.team(workspace_id, pm.channel_id), mitigation_of(row)


@dataclass(frozen=True)
class MetricNow:
    """A mitigation's metric read now: its value, how users read it ("82% now", with the window the
    metrics answer states), or why it can't be read."""

    value: float | None
    shown: str = ""
    why: str | None = None


async def metric_value(svc: PremortemService, team: Team, metric: str | None) -> MetricNow:
    """The metric's current value, or None and why it can't be read."""
    if team.metrics is None or not metric:
        return MetricNow(None, why="the team has no metrics source")
    try:
        reading = await read_team_signals(svc.rt, team)
    except UserError as exc:
        return MetricNow(None, why=exc.message)
    found = reading.get(metric)
    if found is None:
        return MetricNow(None, why=f"{metric} is no longer one of the team's signals")
    if found.error:
        return MetricNow(None, why=found.error)
    if found.value is None:
        return MetricNow(None, why=found.note or "no data")
    return MetricNow(found.value, value_text(found.signal, found.value))


async def set_status(
    svc: PremortemService, workspace_id: str, mitigation_id: int, status: str, user_id: str
) -> Message | None:
    """Change a mitigation's status; a message for the person when it can't (or didn't) change."""
    if status not in MITIGATION_STATUSES:
        raise UserError("That status is not one I know; use the buttons on the mitigation.")
    pm, team, m = await _mitigation(svc, workspace_id, mitigation_id)
    admins = svc.rt.config.admins_for(workspace_id)
    if not may_change_status(user_id, m.owner, team.managers, admins) and not await svc.is_admin(
        workspace_id, user_id
    ):
        raise PermissionDenied(
            f"Only the owner ({bk.mention(m.owner)}), the team's managers or an admin can change its status."
        )
    if m.status == status:
        text = f"*{bk.escape(m.title)}* is already {MITIGATION_STATUSES[status]}."
        return bk.message(text, [bk.section(text)])
    note = None
    if status == "done" and m.verification == "metric" and m.target is not None:
        now = await metric_value(svc, team, m.metric)
        check = check_done(m, now.value, now.why)
        target = f"{m.target.op} {bk.escape(m.target.text)}"
        metric = f"`{bk.escape(m.metric or '')}`"
        if check.value is None:
            text = (
                f"I can't read {metric} right now ({bk.escape(check.unavailable or '')}), so I can't check its "
                f"target ({target}). A manager can mark *{bk.escape(m.title)}* done anyway, with a reason."
            )
            button = bk.button(
                "Mark done anyway (managers)", ACTION_OVERRIDE, MitigationRef(m=m.id).dump(), style="danger"
            )
            return bk.message(text, [bk.section(text), bk.actions(button, block_id=f"override:{m.id}")])
        if not check.allowed:
            text = (
                f"*{bk.escape(m.title)}* can't be marked done yet: {metric} is {now.shown} "
                f"and its target is {target}. Mark it done once the metric meets it."
            )
            if user_id != m.owner:
                await _tell_owner(svc, workspace_id, m.owner, text)
            return bk.message(text, [bk.section(text)])
        note = f"{m.metric} = {now.shown} meets {m.target.op} {m.target.text}"
    await svc.rt.db.run(
        mitigations_repo.set_status, workspace_id, m.id, status, user_id, svc.rt.clock.now(), note
    )
    await svc.refresh(workspace_id, pm.id)
    await _update_dm(svc, pm, m.id)
    return None


async def _tell_owner(svc: PremortemService, workspace_id: str, owner: str, text: str) -> None:
    try:
        await svc.dm(workspace_id, owner, bk.message(text, [bk.section(text)]))
    except SlackApiError as exc:
        log.info("could not DM the owner", extra={"error": exc.response.get("error")})


async def _may_override(svc: PremortemService, workspace_id: str, team: Team, user_id: str) -> None:
    admins = svc.rt.config.admins_for(workspace_id)
    if not may_override(user_id, team.managers, admins) and not await svc.is_admin(workspace_id, user_id):
        raise PermissionDenied("Only the team's managers or an admin can mark it done without the metric.")


def _refuse_closed(m: Mitigation, opened: str | None) -> None:
    """An override is for a mitigation not done yet, in the status it had when the form opened."""
    title = f"{quoted(m.title)}"
    if m.status == "done":
        raise UserError(f"{title} is already done, so there is nothing to mark done. Close this form.")
    if opened is not None and m.status != opened:
        raise UserError(
            f"{title} was set to {MITIGATION_STATUSES[m.status]} meanwhile, so this form is out of date. "
            "Close it and see the mitigation in the thread."
        )


def _readable_again(m: Mitigation, shown: str) -> UserError:
    return UserError(
        f"{m.metric} can be read again ({shown}), so it can't be marked done without it: "
        "close this form and use “Done”, which checks the target."
    )


async def override_form(svc: PremortemService, workspace_id: str, mitigation_id: int, user_id: str) -> View:
    _, team, m = await _mitigation(svc, workspace_id, mitigation_id)
    await _may_override(svc, workspace_id, team, user_id)
    if m.status == "done":
        raise UserError(f"*{bk.escape(m.title)}* is already done.")
    now = await metric_value(svc, team, m.metric)
    if now.value is not None:
        raise UserError(
            f"`{bk.escape(m.metric or '')}` can be read again ({now.shown}), so use “Done”: it "
            "checks the target."
        )
    return override_modal(m, now.why or "unavailable")


async def override(
    svc: PremortemService,
    workspace_id: str,
    mitigation_id: int,
    user_id: str,
    reason: str,
    opened: str | None = None,
) -> int:
    """Mark a metric-verified mitigation done without its metric, the reason on record; returns its
    pre-mortem's id. Run when the modal is submitted, which may be long after it opened, so everything
    `override_form` checked is checked again: the person may override, the mitigation is not done and
    has the status it had when the form opened (`opened`), and the metric still can't be read (asked for
    at most `OVERRIDE_READ_SECONDS`, so the modal gets its answer in time). A `UserError` says why the
    override no longer applies; `after_override` redraws the thread."""
    if len(reason) < REASON_MIN:
        raise UserError(f"Give a reason of at least {REASON_MIN} characters; it is kept on record.")
    pm, team, m = await _mitigation(svc, workspace_id, mitigation_id)
    await _may_override(svc, workspace_id, team, user_id)
    _refuse_closed(m, opened)
    try:
        read = await asyncio.wait_for(metric_value(svc, team, m.metric), OVERRIDE_READ_SECONDS)
    except TimeoutError:
        read = MetricNow(None)  # no answer in time: as unreadable as the form said
    if read.value is not None:
        raise _readable_again(m, read.shown)
    changed = await svc.rt.db.run(
        mitigations_repo.set_status,
        workspace_id,
        m.id,
        "done",
        user_id,
        svc.rt.clock.now(),
        f"override: {reason}",
        reason,
        (m.status,),
    )
    if changed is None or not changed[1]:  # someone changed it between the checks and the write
        _, _, now = await _mitigation(svc, workspace_id, mitigation_id)
        _refuse_closed(now, m.status)
    return pm.id


async def after_override(svc: PremortemService, workspace_id: str, mitigation_id: int) -> None:
    """Show an override in the thread and in the owner's DM."""
    pm, _, m = await _mitigation(svc, workspace_id, mitigation_id)
    await svc.refresh(workspace_id, pm.id)
    await _update_dm(svc, pm, m.id)
