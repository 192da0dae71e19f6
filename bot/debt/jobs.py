"""Scheduled tech-debt work: each team's daily import from its tracker, and the nudge check on the day a
planned sprint starts.

`ensure_jobs` (run whenever a scheduler starts) creates one `debt.import` job per team the config file
gives an import, at its `schedule` in its time zone, and removes the jobs of teams that no longer have
one. A team that names no workspace is imported for every active workspace. Each import, whether it
succeeds or not, also looks for a nudge that came due by date.

`debt.nudge_check` jobs are made by `nudges.plan_checks` after every write: one per day a planned sprint
starts, since then it becomes the current sprint without anyone writing anything.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.debt import nudges, service, sync
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


@job_kind(
    nudges.CHECK_KIND,
    grace=timedelta(days=7),
    summary="post a team's tech-debt nudge if one is due now that a planned sprint has started",
)
async def check_nudge(
    rt: Runtime, run_time: datetime, channel_id: str, workspace_id: str | None = None, **_: Any
) -> None:
    """Look for a nudge on the day a planned sprint starts (idempotent: a run is nudged once)."""
    assert workspace_id is not None
    team = await service.team_for(rt, workspace_id, channel_id)
    debt = await service.team_debt(rt, team)
    nudge = await nudges.after_write(rt, await rt.client_for(workspace_id), team, debt)
    log.info(
        "tech-debt nudge check",
        extra={"workspace": workspace_id, "channel": channel_id, "nudged": nudge is not None},
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
    for info in scheduler.jobs(f"{KIND}/"):
        # A one-off import after a tracker's rate limit (`sync`) stays until it runs.
        if info.id not in wanted and not info.id.endswith("@after-rate-limit"):
            scheduler.unschedule(info.id)
    return wanted
