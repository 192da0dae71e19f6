"""Scheduled tech-debt work: each team's daily import from its tracker.

`ensure_jobs` (run whenever a scheduler starts) creates one `debt.import` job per team the config file
gives an import, at its `schedule` in its time zone, and removes the jobs of teams that no longer have
one. A team that names no workspace is imported for every active workspace.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.debt import service, sync
from bot.scheduler import job_kind
from storage import installations

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.scheduler import Scheduler

log = logging.getLogger(__name__)

KIND = "debt.import"


@job_kind(KIND, grace=timedelta(hours=6), summary="import a team's sprint figures from its tracker")
async def import_team(
    rt: Runtime, run_time: datetime, channel_id: str, workspace_id: str | None = None, **_: Any
) -> None:
    """Import one team's active sprint (idempotent: an unchanged figure records nothing)."""
    if workspace_id:
        workspaces = [workspace_id]
    else:
        workspaces = [row.workspace_id for row in await rt.db.run(installations.active_workspaces)]
    for ws in workspaces:
        team = await service.team_for(rt, ws, channel_id)
        if team.debt.import_ is None:
            continue  # the file changed since the job was made; ensure_jobs removes it on the next start
        result = await sync.sync(rt, team)
        if result.busy:
            log.info(
                "tech-debt import already running; skipped", extra={"workspace": ws, "channel": channel_id}
            )


def ensure_jobs(scheduler: Scheduler) -> list[str]:
    """Create or update the daily import job of every team with an import; drop the others' jobs."""
    config = scheduler.rt.config
    wanted: list[str] = []
    for entry in config.teams:
        spec = entry.debt.import_
        if spec is None:
            continue
        zone = spec.timezone or config.digest_for(entry.workspace or "").timezone
        hour, minute = (int(part) for part in spec.schedule.split(":"))
        trigger = CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(zone))
        job_id = f"{KIND}/{entry.workspace or '-'}/{entry.channel}"
        existing = scheduler.job(job_id)
        unchanged = (
            existing is not None
            and existing.trigger == str(trigger)
            and existing.next_run is not None
            and getattr(existing.next_run.tzinfo, "key", None) == zone
        )
        # Leave an unchanged job alone: rescheduling it would drop a run missed while every scheduler was down.
        if not unchanged:
            scheduler.schedule(
                KIND, entry.channel, trigger, workspace_id=entry.workspace, channel_id=entry.channel
            )
        wanted.append(job_id)
    for info in scheduler.jobs():
        if info.kind == KIND and info.id not in wanted:
            scheduler.unschedule(info.id)
    return wanted
