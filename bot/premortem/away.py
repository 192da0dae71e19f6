"""A pre-mortem's leads who are away: a reminder that finds its lead away waits for them, the thread says
"away until …" beside them, and when most leads are away at the deadline its starter is offered, once,
to move it. Who is away is `bot.presence` (`reach`); this module is what the pre-mortem does about it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot.premortem import schedule
from bot.premortem.model import Lead, Premortem
from bot.premortem.render_away import offer_dm
from bot.premortem.service import PremortemService
from bot.premortem.state import away_subject
from bot.presence.render import back_text
from bot.presence.rules import Away, away_at, most_away, next_working_hour, retry_at
from bot.presence.service import presence_for
from storage import presence as presence_repo

log = logging.getLogger(__name__)

ANSWER_DAY = timedelta(days=1)  # after the last lead is back, a working day to answer
AT_START = "start"  # the step of a hold made at the start: nothing waits, the thread shows it
UNKNOWN_RETURN = timedelta(days=7)  # how far a deadline moves for a lead whose status has no end


async def hold_if_away(svc: PremortemService, pm: Premortem, lead: Lead, step: str) -> str | None:
    """None when `lead` can be reminded now (a hold they had is released); else the reminder waits for
    them (tried again when they are back, or daily) and the outcome for the log is returned."""
    ws, now = pm.workspace_id, svc.rt.clock.now()
    presence = presence_for(svc.rt)
    reach = await presence.reach(ws, lead.user_id)
    subject = away_subject(pm.id)
    if not isinstance(reach, Away):
        if lead.away is not None:
            await svc.rt.db.run(presence_repo.release, ws, subject, lead.user_id)
            await svc.refresh(ws, pm.id)  # the thread no longer says they are away
        return None
    tries = await svc.rt.db.run(
        presence_repo.hold, ws, subject, lead.user_id, step, reach.why, reach.until, now
    )
    again = retry_at(reach, now, lead.tz, tries, presence.config(ws).max_daily_retries)
    if again is not None and again >= pm.deadline:
        again = None  # after the deadline the answers are revealed anyway
    await svc.rt.db.run(presence_repo.set_retry, ws, subject, lead.user_id, again)
    if again is not None:
        await schedule.apply(svc.rt, ws, [schedule.snooze_job(pm, lead.user_id, step, again)])
    await svc.refresh(ws, pm.id)
    await offer_to_move(svc, await svc.load(ws, pm.id))
    return f"away ({reach.why}), again {again.isoformat() if again else 'never'}"


async def look_at_start(svc: PremortemService, pm: Premortem) -> None:
    """Right after the start: leads already away are shown so in the thread (their reminders will look
    again), and the starter gets the offer now when most of them are away at the deadline."""
    ws, now, subject = pm.workspace_id, svc.rt.clock.now(), away_subject(pm.id)
    found = await presence_for(svc.rt).reach_many(ws, [lead.user_id for lead in pm.leads if lead.in_channel])
    away = {user: reach for user, reach in found.items() if isinstance(reach, Away)}
    for user, reach in away.items():
        await svc.rt.db.run(presence_repo.hold, ws, subject, user, AT_START, reach.why, reach.until, now)
    if away:
        await svc.refresh(ws, pm.id)
        await offer_to_move(svc, await svc.load(ws, pm.id))


def away_at_deadline(pm: Premortem) -> dict[str, datetime | None]:
    """The leads who have not answered and are away at the deadline, with when they are back."""
    return {
        lead.user_id: lead.away.until
        for lead in pm.leads
        if not lead.answered and lead.away is not None and away_at(lead.away.until, pm.deadline)
    }


def moved_deadline(pm: Premortem, away: dict[str, datetime | None]) -> datetime:
    """A working day after the last of them is back (a week later when one has no end)."""
    backs = []
    for lead in pm.leads:
        if lead.user_id in away:
            until = away[lead.user_id]
            back = until if until is not None else pm.deadline + UNKNOWN_RETURN
            backs.append(next_working_hour(back, lead.tz) + ANSWER_DAY)
    return max([pm.deadline + ANSWER_DAY, *backs])


async def offer_to_move(svc: PremortemService, pm: Premortem) -> bool:
    """Offer the starter, once, to move the deadline when more than half the leads are away at it."""
    if pm.status != "collecting":
        return False
    away = away_at_deadline(pm)
    states: dict[str, datetime | bool | None] = {
        lead.user_id: away.get(lead.user_id, False) for lead in pm.leads
    }
    if not away or not most_away(states, pm.deadline):
        return False
    ws, subject = pm.workspace_id, away_subject(pm.id)
    if not await svc.rt.db.run(presence_repo.claim_offer, ws, subject, pm.started_by, svc.rt.clock.now()):
        return False
    to = moved_deadline(pm, away)
    tz = {lead.user_id: lead.tz for lead in pm.leads}
    listed = [(user, back_text(until, tz.get(user))) for user, until in away.items()]
    try:
        await svc.dm(ws, pm.started_by, offer_dm(pm, listed, to))
    except SlackApiError as exc:  # a deactivated starter: the managers and admins can still extend
        log.info("could not offer to move a deadline", extra={"error": exc.response.get("error")})
        return False
    log.info("offered to move a pre-mortem deadline", extra={"premortem": pm.id, "away": len(away)})
    return True
