"""The digest's launches section, from the launch capability's `upcoming`: the team's launches in the
next 30 days (what, when, the expected multiple)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.digest.model import LaunchesFacts, Section, Week, available
from bot.launch.render import home_lines
from bot.launch.service import service_for
from bot.teams import Team

if TYPE_CHECKING:
    from bot.runtime import Runtime


async def section(rt: Runtime, team: Team, week: Week, as_of: datetime) -> Section[LaunchesFacts]:
    launches = await service_for(rt).upcoming(team.workspace_id, channel_id=team.channel_id)
    return available("launches", LaunchesFacts(tuple(home_lines(launches))))
