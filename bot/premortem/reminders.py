"""A pre-mortem's reminders: each lead's planned nudges (sent once, across replicas, skipped when moved
by an extension or held by a snooze) and the snooze button."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.errors import UserError
from bot.premortem import away, schedule
from bot.premortem.lifecycle import tell
from bot.premortem.render_plan import absent_lead_dm, reminder_dm, snoozed_dm
from bot.premortem.service import PremortemService, closed_sentence
from bot.premortem.timing import snooze_step, snoozed_reminder
from storage import premortem_answers as answers_repo


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
            await tell(svc, workspace_id, user_id, absent_lead_dm(pm, user_id))
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
) -> dict[str, Any]:
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
