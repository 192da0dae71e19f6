"""The launch's scheduled work: each step at its time (`launch.step`), and the metric triggers
evaluated on a schedule (`launch.watch`, hourly by default)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.interval import IntervalTrigger

from bot.launch import watch
from bot.launch.service import STEP_KIND, service_for
from bot.launch.steps import run_step
from bot.scheduler import Scheduler, job_kind
from storage import installations

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

WATCH_KIND = "launch.watch"
WATCH_JOB = f"{WATCH_KIND}/-/all"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # interval runs fall on whole hours (minutes) counted from here


# The step itself decides whether it is too late to run (the launch's `grace_hours`) and says so in the
# thread: the scheduler hands every run over, however late, within 30 days.
@job_kind(
    STEP_KIND, grace=timedelta(days=30), summary="a launch's step: pre-mortem, checklist, go/no-go, retro"
)
async def step(
    rt: Runtime, run_time: datetime, launch_id: int, step: str, workspace_id: str | None = None, **_: Any
) -> None:
    assert workspace_id is not None
    outcome = await run_step(service_for(rt), workspace_id, launch_id, step, run_time)
    log.info("launch step", extra={"launch": launch_id, "step": step, "outcome": outcome})


@job_kind(
    WATCH_KIND, grace=timedelta(hours=1), summary="post the teams' metric triggers (headroom, seed rules)"
)
async def watch_metrics(rt: Runtime, run_time: datetime, **_: Any) -> None:
    """Every active workspace whose config enables the watch (its thresholds are its own)."""
    for row in await rt.db.run(installations.active_workspaces):
        if not rt.config.launch_for(row.workspace_id).watch.enabled:
            continue
        posted = await watch.evaluate(rt, row.workspace_id)
        log.info("launch watch", extra={"workspace": row.workspace_id, "posted": posted})


def ensure_jobs(scheduler: Scheduler) -> str | None:
    """One watch job for the deployment, every top-level `launch.watch.every_minutes` (one job, so a
    workspace installed later is watched from the next run); none when no workspace enables it."""
    config = scheduler.rt.config
    if not config.launch.watch.enabled and not any(
        ws.launch and ws.launch.watch.enabled for ws in config.workspaces.values()
    ):
        scheduler.unschedule(WATCH_JOB)
        return None
    trigger = IntervalTrigger(minutes=config.launch.watch.every_minutes, start_date=EPOCH, timezone=UTC)
    existing = scheduler.job(WATCH_JOB)
    # Leave an unchanged job alone: rescheduling it would drop a run missed while every scheduler was down.
    if existing is None or existing.trigger != str(trigger):
        scheduler.schedule(WATCH_KIND, "all", trigger)
    return WATCH_JOB
