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
    WATCH_KIND, grace=timedelta(hours=1), summary="post a team's metric triggers (headroom, seed rules)"
)
async def watch_metrics(rt: Runtime, run_time: datetime, workspace_id: str | None = None, **_: Any) -> None:
    assert workspace_id is not None
    posted = await watch.evaluate(rt, workspace_id)
    log.info("launch watch", extra={"workspace": workspace_id, "posted": posted})


def ensure_jobs(scheduler: Scheduler) -> list[str]:
    """One watch job per active workspace whose config enables it, every `watch.every_minutes`."""
    config = scheduler.rt.config
    wanted = []
    for row in scheduler.rt.db.call(installations.active_workspaces):
        spec = config.launch_for(row.workspace_id).watch
        if not spec.enabled:
            continue
        trigger = IntervalTrigger(
            minutes=spec.every_minutes, start_date=datetime(2026, 1, 1, tzinfo=UTC), timezone=UTC
        )
        job_id = f"{WATCH_KIND}/{row.workspace_id}/metrics"
        existing = scheduler.job(job_id)
        if existing is None or existing.trigger != str(trigger):
            scheduler.schedule(WATCH_KIND, "metrics", trigger, workspace_id=row.workspace_id)
        wanted.append(job_id)
    for info in scheduler.jobs(f"{WATCH_KIND}/"):
        if info.id not in wanted:
            scheduler.unschedule(info.id)
    return wanted
