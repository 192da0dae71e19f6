"""The join between a launch and calibration: the pre-mortem a launch started is checked against what
broke up to the launch's T+30 (in the launch's zone), not the default 90 days, and that horizon follows the
launch when it moves.

The launch's pre-mortem step stores the id of the pre-mortem it started (`storage.launches`); voting's close
asks `until_for` and passes it to `calibration.predict`; a move calls `follow_move`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.calibration import service as calibration
from bot.launch import rules
from bot.launch.model import Launch
from storage import launches as repo

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


async def until_for(rt: Runtime, workspace_id: str, premortem_id: int) -> datetime | None:
    """The launch's T+30 when an active launch started this pre-mortem; None for any other pre-mortem."""
    launch = await rt.db.run(repo.launch_of_premortem, workspace_id, premortem_id)
    if launch is None:
        return None
    return rules.calibration_until(launch.launch_date, launch.zone)


async def follow_move(rt: Runtime, launch: Launch) -> int:
    """The launch moved: its pre-mortem's predictions (if any exist yet) resolve at the new T+30; how many
    moved."""
    until = rules.calibration_until(launch.day, launch.zone)
    moved = 0
    for premortem_id in await rt.db.run(repo.premortems_of, launch.workspace_id, launch.id):
        moved += await calibration.set_horizon(rt, launch.workspace_id, premortem_id, until)
    if moved:
        log.info(
            "prediction horizons moved with the launch",
            extra={"workspace": launch.workspace_id, "launch": launch.id, "predictions": moved},
        )
    return moved
