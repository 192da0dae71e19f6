"""The digest's calibration line, from the calibration capability's `team_record`: of the team's
resolved top risks how many happened, the surprises, the Brier score."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.calibration.rules import line
from bot.calibration.service import team_record
from bot.digest.model import CalibrationFacts, Section, Week, available
from bot.teams import Team

if TYPE_CHECKING:
    from bot.runtime import Runtime


async def section(rt: Runtime, team: Team, week: Week, as_of: datetime) -> Section[CalibrationFacts]:
    return available("calibration", CalibrationFacts(line=line(await team_record(rt, team))))
