"""The deletion of an uninstalled workspace's data, `SCALEBOT_UNINSTALL_GRACE` after the uninstall.

Scheduled once per uninstall through the scheduler's public `schedule` (under no workspace, so that
stopping the workspace's own jobs does not stop it); the scheduler's claims run it exactly once, and
it is idempotent besides. A reinstall within the grace period makes it do nothing: the workspace is
active again and nothing was lost.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.date import DateTrigger

from bot.scheduler import job_kind
from storage import installations
from storage.workspace_data import delete_workspace

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

DELETE = "uninstall.delete"


@job_kind(DELETE, grace=timedelta(days=365), summary="delete an uninstalled workspace's data")
async def delete_uninstalled(rt: Runtime, run_time: datetime, workspace: str, **_: Any) -> None:
    row = await rt.db.run(installations.find_installation, workspace, active_only=False)
    if row is not None and row.active:
        log.info("workspace reinstalled: its data is kept", extra={"workspace": workspace})
        return
    deleted = await rt.db.run(delete_workspace, workspace)
    log.info(
        "uninstalled workspace's data deleted",
        extra={"workspace": workspace, "rows": sum(deleted.values())},
    )


async def schedule_deletion(rt: Runtime, workspace_id: str) -> datetime:
    """Plan the deletion (now, when the grace period is 0); returns when it runs."""
    at = rt.clock.now().astimezone(UTC) + rt.settings.uninstall_grace
    if rt.settings.uninstall_grace <= timedelta(0) or rt.scheduler is None:
        await delete_uninstalled(rt, at, workspace_id)
        return at
    scheduler = rt.scheduler

    def plan() -> None:
        scheduler.schedule(
            DELETE, workspace_id, DateTrigger(run_date=at, timezone=UTC), workspace=workspace_id
        )

    await asyncio.get_running_loop().run_in_executor(None, plan)
    log.info(
        "uninstalled workspace's data will be deleted",
        extra={
            "workspace": workspace_id,
            "at": at.isoformat(),
            "export": f"scalebot export --workspace {workspace_id}",
        },
    )
    return at
