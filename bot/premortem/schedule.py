"""The pre-mortem's scheduler jobs: one reveal at the deadline, and each lead's reminders.

Jobs live in the scheduler's database store, so they survive a restart and fire once however many
schedulers run. Each job checks the stored state before acting (and a reminder that its step's time is
still its own), so a stale one (after an extension, an answer, the reveal, a cancellation) does nothing:
jobs are replaced or left to fire harmlessly, never removed from under a running scheduler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.triggers.date import DateTrigger

from bot.premortem.model import Lead, Premortem
from bot.premortem.timing import reminder_plan, reminder_time

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

REMIND = "premortem.remind"
DEADLINE = "premortem.deadline"


@dataclass(frozen=True)
class Planned:
    kind: str
    key: str
    at: datetime
    kwargs: dict[str, object]


def remind_key(premortem_id: int, user_id: str, step: str) -> str:
    return f"{premortem_id}:{user_id}:{step}"


def lead_plan(pm: Premortem, lead: Lead) -> dict[str, datetime]:
    """A lead's reminders by step, counted from when they became a lead (a replacement starts later)."""
    since = max(pm.started_at, lead.added_at) if lead.added_at else pm.started_at
    return dict(reminder_plan(since, pm.deadline, lead.tz))


def still_planned(pm: Premortem, lead: Lead, step: str, run_time: datetime) -> bool:
    """A job whose step was moved (extension) or dropped, or that a snooze holds, does nothing; one
    holding a reminder for a lead who was away runs at the time it was held until."""
    slack = timedelta(minutes=1)
    if lead.snoozed_until is not None and run_time < lead.snoozed_until:
        return False
    held = lead.away
    if held is not None and held.step == step and held.retry_at and abs(held.retry_at - run_time) < slack:
        return True
    if step.endswith("+1d"):
        if lead.snoozed_until is None:
            return False
        at = reminder_time(lead.snoozed_until, lead.tz, pm.deadline)
        return at is not None and abs(at - run_time) < slack
    at = lead_plan(pm, lead).get(step)
    return at is not None and abs(at - run_time) < slack


def reminder_jobs(pm: Premortem, leads: Iterable[Lead]) -> list[Planned]:
    """Each lead's halfway and final reminders (a lead outside the channel is told so when one is due)."""
    planned = []
    for lead in leads:
        if lead.answered:
            continue
        for step, at in lead_plan(pm, lead).items():
            kwargs: dict[str, object] = {"premortem_id": pm.id, "user_id": lead.user_id, "step": step}
            planned.append(Planned(REMIND, remind_key(pm.id, lead.user_id, step), at, kwargs))
    return planned


def deadline_job(pm: Premortem) -> Planned:
    return Planned(DEADLINE, str(pm.id), pm.deadline, {"premortem_id": pm.id})


def snooze_job(pm: Premortem, user_id: str, step: str, at: datetime) -> Planned:
    kwargs: dict[str, object] = {"premortem_id": pm.id, "user_id": user_id, "step": step}
    return Planned(REMIND, remind_key(pm.id, user_id, step), at, kwargs)


async def apply(rt: Runtime, workspace_id: str, jobs: Iterable[Planned]) -> None:
    """Create or replace the jobs, off the event loop (the job store is a database)."""
    scheduler = rt.scheduler
    if scheduler is None:
        log.warning("no scheduler: pre-mortem reminders and the deadline reveal are not scheduled")
        return
    todo = list(jobs)

    def work() -> None:
        for job in todo:
            trigger = DateTrigger(run_date=job.at.astimezone(UTC), timezone=UTC)
            scheduler.schedule(job.kind, job.key, trigger, workspace_id=workspace_id, **job.kwargs)

    await asyncio.get_running_loop().run_in_executor(None, work)
