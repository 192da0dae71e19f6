"""The digest's calibration line, from the calibration capability's `team_record`: of the team's
resolved top risks how many happened, the surprises, the Brier score."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.calibration.rules import line
from bot.calibration.service import team_record, workspace_records
from bot.digest.model import CalibrationFacts, Section, Week, available
from bot.digest.sections import batched
from bot.teams import Team

if TYPE_CHECKING:
    from bot.runtime import Runtime


async def prefetch(rt: Runtime, workspace_id: str, teams: Sequence[Team], week: Week, as_of: datetime) -> Any:
    """Every team's record, in two queries."""
    return await workspace_records(rt, workspace_id, teams)


async def section(rt: Runtime, team: Team, week: Week, as_of: datetime) -> Section[CalibrationFacts]:
    every = batched("calibration")
    record = every.get(team.channel_id) if every is not None else None
    if record is None:
        record = await team_record(rt, team)
    return available("calibration", CalibrationFacts(line=line(record)))
