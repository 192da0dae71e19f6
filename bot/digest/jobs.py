"""The weekly digest as scheduler jobs: one `digest.weekly` job per workspace, in its own time zone.

Each (job, scheduled time) is claimed once across schedulers (bot/scheduler.py), and the job is
idempotent per workspace and ISO week, so a run taken over after its process died edits in place and
posts only what is missing. A run that starts later than the workspace's grace (default 12 hours) after
its scheduled time is recorded as missed and not sent. `ensure_jobs` (whenever a scheduler starts, and
every 15 minutes for workspaces installed since) creates, reschedules or removes the jobs so they match
each workspace's schedule; setup calls `reschedule` when someone changes it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.interval import IntervalTrigger

from bot.digest.model import Week
from bot.digest.schedule import Schedule, effective, zone_is_set
from bot.digest.service import schedule_for, send_week
from bot.scheduler import job_kind
from storage import digest as repo
from storage import installations

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.scheduler import JobInfo, Scheduler

log = logging.getLogger(__name__)

KIND = "digest.weekly"
ENSURE_KIND = "digest.ensure"
JOB_KEY = "weekly"
# The longest grace the config allows; the workspace's own grace is applied inside the job.
MAX_GRACE = timedelta(hours=144)
ENSURE_EVERY = timedelta(minutes=15)


def job_id(workspace_id: str) -> str:
    return f"{KIND}/{workspace_id}/{JOB_KEY}"


@job_kind(KIND, grace=MAX_GRACE, summary="post a workspace's weekly scalability digest")
async def weekly(rt: Runtime, run_time: datetime, workspace_id: str | None = None, **_: Any) -> None:
    """Send the week's digest of one workspace, unless it is later than the workspace's grace."""
    if workspace_id is None:
        return
    schedule = await schedule_for(rt, workspace_id)
    if not schedule.channel:
        log.info("no digest channel; nothing to send", extra={"workspace": workspace_id})
        return
    week = Week.of(run_time, schedule.timezone)
    now = rt.clock.now()
    if now - run_time > schedule.grace:
        if await rt.db.run(repo.record_missed, workspace_id, week.key, run_time, now):
            log.warning(
                "digest missed its grace; not sent",
                extra={"workspace": workspace_id, "week": week.key, "grace_hours": schedule.grace_hours},
            )
        return
    await send_week(
        rt, workspace_id, week, run_time, reason="schedule", scheduled_for=run_time, schedule=schedule
    )


@job_kind(ENSURE_KIND, grace=timedelta(hours=1), summary="keep each workspace's digest job in step")
async def ensure(rt: Runtime, run_time: datetime, **_: Any) -> None:
    """Create the digest jobs of workspaces installed since the scheduler started."""
    if rt.scheduler is not None:
        await asyncio.get_running_loop().run_in_executor(None, ensure_jobs, rt.scheduler)


def sync_job(
    scheduler: Scheduler, workspace_id: str, schedule: Schedule, current: JobInfo | None
) -> str | None:
    """Make the workspace's job match its schedule; an unchanged job is left alone (rescheduling it would
    drop a run missed while every scheduler was down)."""
    wanted = job_id(workspace_id)
    if not schedule.channel:
        if current is not None:
            scheduler.unschedule(wanted)
        return None
    if current is None or current.kwargs.get("signature") != schedule.signature:
        scheduler.schedule(
            KIND, JOB_KEY, schedule.trigger(), workspace_id=workspace_id, signature=schedule.signature
        )
        log.info(
            "digest scheduled",
            extra={"workspace": workspace_id, "schedule": schedule.signature},
        )
    return wanted


def _schedule(scheduler: Scheduler, workspace_id: str, stored: dict[str, Any] | None) -> Schedule:
    config = scheduler.rt.config
    ws = config.workspaces.get(workspace_id)
    return effective(
        config.digest_for(workspace_id),
        stored,
        file_sets_workspace=bool(ws and ws.digest and ws.digest.channel),
    )


def ensure_jobs(scheduler: Scheduler) -> list[str]:
    """One digest job per active workspace with a digest channel, at its schedule; no others."""
    db = scheduler.rt.db
    stored = db.call(repo.all_schedules)
    active = [row.workspace_id for row in db.call(installations.active_workspaces)]
    jobs = {info.id: info for kind in (KIND, ENSURE_KIND) for info in scheduler.jobs(f"{kind}/")}
    wanted = []
    config = scheduler.rt.config
    for workspace_id in active:
        schedule = _schedule(scheduler, workspace_id, stored.get(workspace_id))
        if schedule.channel and not zone_is_set(config.digest_for(workspace_id), stored.get(workspace_id)):
            # The workspace's own zone comes from Slack, so its job is synced on the event loop.
            later = asyncio.run_coroutine_threadsafe(_sync_job_now(scheduler, workspace_id), scheduler.loop)
            later.add_done_callback(_log_failure)
            wanted.append(job_id(workspace_id))
            continue
        made = sync_job(scheduler, workspace_id, schedule, jobs.get(job_id(workspace_id)))
        if made:
            wanted.append(made)
    for info in jobs.values():
        if info.kind == KIND and info.id not in wanted:
            scheduler.unschedule(info.id)
    # Check again later only while the file names a digest channel for a workspace not installed yet
    # (or for every workspace): setup, the digest command and the App Home sync their own workspace.
    waiting = config.digest.channel is not None or any(
        ws.digest and ws.digest.channel and ws_id not in active for ws_id, ws in config.workspaces.items()
    )
    ensure_job = next((info for info in jobs.values() if info.kind == ENSURE_KIND), None)
    if waiting and ensure_job is None:
        start = scheduler.rt.clock.now() + ENSURE_EVERY
        scheduler.schedule(ENSURE_KIND, "all", IntervalTrigger(minutes=15, start_date=start, timezone=UTC))
    elif not waiting and ensure_job is not None:
        scheduler.unschedule(ensure_job.id)
    return wanted


async def _sync_job_now(scheduler: Scheduler, workspace_id: str) -> str | None:
    schedule = await schedule_for(scheduler.rt, workspace_id)

    def sync() -> str | None:
        return sync_job(scheduler, workspace_id, schedule, scheduler.job(job_id(workspace_id)))

    return await asyncio.get_running_loop().run_in_executor(None, sync)


def _log_failure(future: Any) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("could not schedule a digest job", exc_info=future.exception())


async def ensure_workspace(rt: Runtime, workspace_id: str) -> str | None:
    """Create the workspace's digest job if its schedule wants one and it is missing (cheap when present)."""
    return await reschedule(rt, workspace_id)


async def reschedule(rt: Runtime, workspace_id: str) -> str | None:
    """After setup changed the schedule: the job follows it (a web replica writes the shared job store)."""
    if rt.scheduler is None:
        return None
    return await _sync_job_now(rt.scheduler, workspace_id)
