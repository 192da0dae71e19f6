"""A pre-mortem from start to reveal: start, answers, the reveal with "data says", extend, cancel,
replacing a lead, reminders and snoozes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot import blocks as bk
from bot.errors import UserError
from bot.metrics.render import value_text
from bot.metrics.service import read_team_signals
from bot.premortem import away, schedule
from bot.premortem.datasays import signal_view
from bot.premortem.model import ACTIVE, MAX_LEADS, DataSays, Premortem, Risk
from bot.premortem.render import mentions, root_message
from bot.premortem.render_plan import NO_SOURCE, absent_lead_dm, reminder_dm, snoozed_dm
from bot.premortem.service import PremortemService, closed_sentence
from bot.premortem.timing import reveal_reason, snooze_step, snoozed_reminder
from bot.slack_api import InstrumentedWebClient
from bot.teams import Team
from storage import premortem as repo
from storage import premortem_answers as answers_repo
from storage.cache import locked

log = logging.getLogger(__name__)

STARTERS = "the person who started it, the team's managers or an admin"


@dataclass(frozen=True)
class Started:
    pm: Premortem
    absent: list[str]  # leads not in the channel (told so by DM; replaceable in the thread)


async def _lead_info(svc: PremortemService, workspace_id: str, leads: Sequence[str]) -> dict[str, dict]:
    infos = await asyncio.gather(*(svc.user_info(workspace_id, u) for u in leads))
    return dict(zip(leads, infos, strict=True))


async def start(
    svc: PremortemService, team: Team, starter: str, leads: Sequence[str], origin_check: int | None = None
) -> Started:
    """Post the prompt in a new thread, mentioning the leads, and schedule the reminders and the reveal."""
    rt, ws, channel = svc.rt, team.workspace_id, team.channel_id
    wanted = list(dict.fromkeys(leads))
    if not wanted:
        raise UserError(
            "Name at least one tech lead: `/scale-check premortem @…`, picking each lead after the `@`."
        )
    if len(wanted) > MAX_LEADS:
        raise UserError(f"A pre-mortem takes at most {MAX_LEADS} leads; name the ones closest to the system.")
    infos = await _lead_info(svc, ws, wanted)
    bots = [u for u, info in infos.items() if info.get("is_bot")]
    if bots:
        raise UserError(f"{mentions(bots)} can't answer a pre-mortem (a bot); name people instead.")
    async with locked(rt.cache, f"premortem:start:{ws}:{channel}", 30) as held:
        if not held:
            raise UserError(
                "A pre-mortem is being started in this channel right now; it appears in a moment."
            )
        active = await rt.db.run(repo.active_in_channel, ws, channel)
        if active:
            raise UserError(running_sentence(active[0]))
        present = await svc.members(ws, channel)
        now = rt.clock.now()
        deadline = now + timedelta(hours=team.premortem.deadline_hours)
        new = [
            repo.NewLead(u, u in present and not infos[u].get("deleted"), infos[u].get("tz")) for u in wanted
        ]
        row = await rt.db.run(repo.create, ws, channel, team.name, starter, now, deadline, new, origin_check)
        assert row.id is not None
        pm = await svc.load(ws, row.id)
        board = await svc.board(pm, team)
        client = await svc.client(ws)
        try:
            posted = await client.chat_postMessage(channel=channel, **root_message(board))
        except BaseException:
            await rt.db.run(repo.discard, ws, row.id)
            raise
        permalink = await _permalink(client, channel, str(posted["ts"]))
        await rt.db.run(repo.set_messages, ws, row.id, root_ts=str(posted["ts"]), permalink=permalink)
    await svc.refresh(ws, row.id)  # posts the prompt in the thread
    pm = await svc.load(ws, row.id)
    await schedule.apply(rt, ws, [schedule.deadline_job(pm), *schedule.reminder_jobs(pm, pm.leads)])
    absent = [lead.user_id for lead in pm.leads if not lead.in_channel]
    for user in absent:
        await _tell(svc, ws, user, absent_lead_dm(pm, user))
    svc.background(away.look_at_start(svc, pm))  # leads already away (their status, Do Not Disturb)
    log.info("pre-mortem started", extra={"workspace": ws, "premortem": row.id, "leads": len(wanted)})
    return Started(pm, absent)


async def _permalink(client: InstrumentedWebClient, channel: str, ts: str) -> str | None:
    with contextlib.suppress(SlackApiError):
        return str((await client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"])
    return None


def running_sentence(row: repo.PremortemRow) -> str:
    where = bk.link(row.permalink, "its thread") if row.permalink else "its thread"
    return (
        f"A pre-mortem is already running here (started by {bk.mention(row.started_by)}): see {where}. "
        "Its starter, the team's managers or an admin can cancel it there before another starts."
    )


async def _tell(svc: PremortemService, workspace_id: str, user_id: str, message: dict) -> None:
    try:
        await svc.dm(workspace_id, user_id, message)
    except SlackApiError as exc:  # a deactivated user cannot be DMed; the thread still says it
        log.info("could not DM a lead", extra={"error": exc.response.get("error")})


# --- answers ------------------------------------------------------------------------------------------


async def answer_form(svc: PremortemService, workspace_id: str, premortem_id: int, user_id: str) -> Premortem:
    """Check that `user_id` may answer now (a current lead, in the channel, before the reveal)."""
    pm = await svc.load(workspace_id, premortem_id)
    if pm.status == "collecting" and svc.rt.clock.now() >= pm.deadline:
        await maybe_reveal(svc, workspace_id, premortem_id)  # the deadline job may not have run yet
        pm = await svc.load(workspace_id, premortem_id)
    if pm.status != "collecting":
        raise UserError(closed_sentence(pm))
    lead = pm.lead(user_id)
    if lead is None:
        raise UserError(
            f"Only this pre-mortem's leads answer ({mentions(pm.lead_ids)}); everyone votes once the "
            "answers are revealed."
        )
    if user_id not in await svc.members(workspace_id, pm.channel_id):
        await svc.rt.db.run(answers_repo.set_membership, workspace_id, premortem_id, {user_id: False})
        await svc.refresh(workspace_id, premortem_id)
        raise UserError(
            f"You are no longer in {bk.channel_link(pm.channel_id)}, where this pre-mortem runs. Rejoin it "
            f"to answer, or ask {bk.mention(pm.started_by)} to replace you."
        )
    return pm


async def save_answer(
    svc: PremortemService, workspace_id: str, premortem_id: int, user_id: str, risks: Sequence[Risk]
) -> bool:
    """Store the answer (an edit replaces it); a UserError with a plain sentence when it can't be."""
    rows = [(r.rank, r.component, r.why, r.evidence_kind, r.evidence, r.likelihood) for r in risks]
    row = await svc.rt.db.run(repo.get, workspace_id, premortem_id)
    if row is not None and row.status == "collecting" and svc.rt.clock.now() >= row.deadline:
        svc.background(maybe_reveal(svc, workspace_id, premortem_id))
        raise UserError(
            "The deadline has passed, so answers are closed and are being revealed in the thread. Your "
            "answer was not added; copy it before closing."
        )
    try:
        return await svc.rt.db.run(
            answers_repo.save_answer, workspace_id, premortem_id, user_id, rows, svc.rt.clock.now()
        )
    except repo.Closed as exc:
        if exc.row is None:
            raise UserError("This pre-mortem no longer exists.") from exc
        pm = await svc.load(workspace_id, premortem_id)
        raise UserError(
            closed_sentence(pm, plain=True) + " Your answer was not added; copy it before closing."
        ) from exc
    except answers_repo.NotALead as exc:
        raise UserError("You are no longer a lead of this pre-mortem, so your answer was not added.") from exc


async def after_answer(svc: PremortemService, workspace_id: str, premortem_id: int) -> None:
    await svc.refresh(workspace_id, premortem_id)
    await maybe_reveal(svc, workspace_id, premortem_id)


async def maybe_reveal(svc: PremortemService, workspace_id: str, premortem_id: int) -> bool:
    pm = await svc.load(workspace_id, premortem_id)
    if pm.status != "collecting":
        return False
    reason = reveal_reason(pm.lead_ids, pm.answered, pm.deadline, svc.rt.clock.now())
    if reason is None:
        return False
    if not pm.answered:  # the deadline passed with nothing to vote on: close it, free the channel
        try:
            closed = await svc.rt.db.run(
                repo.close_unanswered, workspace_id, premortem_id, svc.rt.clock.now()
            )
        except repo.Closed:
            return False
        if closed:
            log.info("pre-mortem closed without answers", extra={"premortem": premortem_id})
            await svc.refresh(workspace_id, premortem_id)
            return False
        # an answer was saved since it was loaded: reveal it like any other
    if not await svc.rt.db.run(repo.reveal, workspace_id, premortem_id, reason, svc.rt.clock.now()):
        return False
    log.info("pre-mortem revealed", extra={"premortem": premortem_id, "reason": reason})
    await svc.refresh(workspace_id, premortem_id)  # the answers, grouped, with vote buttons
    team = await svc.team(workspace_id, pm.channel_id)
    data = await read_data(svc, team)
    await svc.rt.db.run(repo.set_data, workspace_id, premortem_id, data.to_json())
    await svc.refresh(workspace_id, premortem_id)  # "data says" and the marks beside each risk
    return True


async def read_data(svc: PremortemService, team: Team) -> DataSays:
    """The team's signals ranked by 10x headroom, from the metrics capability."""
    if team.metrics is None:
        return DataSays(note=NO_SOURCE)
    try:
        reading = await read_team_signals(svc.rt, team)
    except UserError as exc:
        return DataSays(note=exc.message)
    except Exception:
        log.warning("metrics could not be read for the pre-mortem", exc_info=True)
        return DataSays(note="The metrics could not be read just now, so the data can't weigh in.")
    signals = []
    for h in reading.projection.ranked:
        found = reading.get(h.name)
        title = found.signal.title if found else h.name
        shown = value_text(found.signal, h.current) if found else ""
        signals.append(signal_view(h.name, title, h.kind, h.current, h.headroom, reading.projection.k, shown))
    return DataSays(
        source=reading.source,
        read_at=reading.read_at,
        signals=tuple(signals),
        unavailable=tuple(dict.fromkeys(r.error for r in reading.signals if r.error)),
        assumptions=reading.projection.assumptions,
    )


# --- the starter's controls -----------------------------------------------------------------------------


async def _starter_check(svc: PremortemService, pm: Premortem, user_id: str, doing: str) -> Team:
    team = await svc.team(pm.workspace_id, pm.channel_id)
    people = {pm.started_by, *team.managers}
    await svc.require(
        pm.workspace_id,
        user_id,
        people,
        f"Only {bk.mention(pm.started_by)} (who started it), the team's managers or an admin can {doing}.",
    )
    return team


async def extend(
    svc: PremortemService, workspace_id: str, premortem_id: int, user_id: str, to: datetime
) -> str:
    pm = await svc.load(workspace_id, premortem_id)
    if pm.status != "collecting":
        raise UserError(closed_sentence(pm))
    await _starter_check(svc, pm, user_id, "extend the deadline")
    try:
        changed = await svc.rt.db.run(repo.extend, workspace_id, premortem_id, to, svc.rt.clock.now())
    except repo.Closed as exc:
        raise UserError("The answers were revealed meanwhile; the deadline no longer matters.") from exc
    pm = await svc.load(workspace_id, premortem_id)
    if changed:
        await schedule.apply(
            svc.rt, workspace_id, [schedule.deadline_job(pm), *schedule.reminder_jobs(pm, pm.leads)]
        )
        await svc.refresh(workspace_id, premortem_id)
    return f"The deadline is {bk.date(pm.deadline)}."


async def cancel(svc: PremortemService, workspace_id: str, premortem_id: int, user_id: str) -> None:
    pm = await svc.load(workspace_id, premortem_id)
    if pm.status not in ACTIVE:
        raise UserError(closed_sentence(pm))
    await _starter_check(svc, pm, user_id, "cancel it")
    try:
        await svc.rt.db.run(repo.cancel, workspace_id, premortem_id, user_id, svc.rt.clock.now())
    except repo.Closed as exc:
        raise UserError("It was closed meanwhile; nothing to cancel.") from exc
    await svc.refresh(workspace_id, premortem_id)


async def replace(
    svc: PremortemService, workspace_id: str, premortem_id: int, user_id: str, old: str, new: str
) -> None:
    """Swap a lead who is not in the channel for one who is; the new lead is mentioned in the thread."""
    pm = await svc.load(workspace_id, premortem_id)
    if pm.status != "collecting":
        raise UserError(closed_sentence(pm))
    await _starter_check(svc, pm, user_id, "replace a lead")
    lead = pm.lead(old)
    if lead is None:
        raise UserError(f"{bk.mention(old)} is no longer a lead here.")
    if lead.answered:
        raise UserError(f"{bk.mention(old)} has already answered; their answer counts.")
    if pm.lead(new) is not None:
        raise UserError(f"{bk.mention(new)} is already a lead of this pre-mortem.")
    info = await svc.user_info(workspace_id, new)
    if info.get("deleted") or info.get("is_bot"):
        raise UserError(f"{bk.mention(new)} can't answer (deactivated or a bot); pick someone else.")
    if new not in await svc.members(workspace_id, pm.channel_id):
        raise UserError(
            f"{bk.mention(new)} is not in this channel either; invite them first, or pick someone else."
        )
    now = svc.rt.clock.now()
    try:
        swapped = await svc.rt.db.run(
            answers_repo.replace_lead,
            workspace_id,
            premortem_id,
            old,
            repo.NewLead(new, True, info.get("tz")),
            user_id,
            now,
        )
    except repo.Closed as exc:
        raise UserError("The answers were revealed meanwhile, so leads can no longer change.") from exc
    if not swapped:
        return
    pm = await svc.load(workspace_id, premortem_id)
    joined = pm.lead(new)
    await schedule.apply(svc.rt, workspace_id, schedule.reminder_jobs(pm, [joined] if joined else []))
    await svc.refresh(workspace_id, premortem_id)
    client = await svc.client(workspace_id)
    text = (
        f"{bk.mention(new)} replaces {bk.mention(old)} as a lead (by {bk.mention(user_id)}): please add your "
        f"answer before {bk.date(pm.deadline)} with “Add my answer” above."
    )
    await client.chat_postMessage(
        channel=pm.channel_id, thread_ts=pm.root_ts, **bk.message(text, [bk.section(text)])
    )


# --- reminders ------------------------------------------------------------------------------------------


async def remind(
    svc: PremortemService, workspace_id: str, premortem_id: int, user_id: str, step: str, run_time: datetime
) -> str:
    """Send one reminder if it is still due; returns what happened (for the log and the tests)."""
    pm = await svc.load(workspace_id, premortem_id)
    lead = pm.lead(user_id)
    if pm.status != "collecting" or lead is None or lead.answered:
        return "not needed"
    if not schedule.still_planned(pm, lead, step, run_time):
        return "stale"
    if user_id not in await svc.members(workspace_id, pm.channel_id):
        changed = await svc.rt.db.run(
            answers_repo.set_membership, workspace_id, premortem_id, {user_id: False}
        )
        if changed:
            await _tell(svc, workspace_id, user_id, absent_lead_dm(pm, user_id))
            await svc.refresh(workspace_id, premortem_id)
        return "not in the channel"
    if not lead.in_channel:  # joined since: drop the warning from the thread
        await svc.rt.db.run(answers_repo.set_membership, workspace_id, premortem_id, {user_id: True})
        await svc.refresh(workspace_id, premortem_id)
    if (held := await away.hold_if_away(svc, pm, lead, step)) is not None:
        return held  # away (their status or Do Not Disturb): the reminder waits for them
    now = svc.rt.clock.now()
    if not await svc.rt.db.run(answers_repo.claim_reminder, workspace_id, premortem_id, user_id, step, now):
        return "already sent"
    try:
        channel, ts = await svc.dm(workspace_id, user_id, reminder_dm(pm, step))
    except BaseException:
        await svc.rt.db.run(answers_repo.unclaim_reminder, workspace_id, premortem_id, user_id, step)
        raise
    await svc.rt.db.run(answers_repo.reminder_sent, workspace_id, premortem_id, user_id, step, channel, ts)
    return "sent"


async def snooze(
    svc: PremortemService, workspace_id: str, premortem_id: int, user_id: str, step: str
) -> dict:
    """Hold this lead's reminders for a day, then remind once more (unless the deadline comes first)."""
    pm = await svc.load(workspace_id, premortem_id)
    lead = pm.lead(user_id)
    if pm.status != "collecting":
        raise UserError(closed_sentence(pm))
    if lead is None:
        raise UserError("You are no longer a lead of this pre-mortem, so there is nothing to snooze.")
    if lead.answered:
        raise UserError("You have answered, so no more reminders will come.")
    until, next_at = snoozed_reminder(svc.rt.clock.now(), lead.tz, pm.deadline)
    await svc.rt.db.run(answers_repo.snooze, workspace_id, premortem_id, user_id, until)
    if next_at is not None:
        await schedule.apply(
            svc.rt, workspace_id, [schedule.snooze_job(pm, user_id, snooze_step(step), next_at)]
        )
    return snoozed_dm(pm, until, next_at)
