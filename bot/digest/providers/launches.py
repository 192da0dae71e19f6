"""The digest's launches section, from the launch capability's `upcoming`: the team's launches in the
next 30 days (what, when, the expected multiple)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.digest.model import LaunchesFacts, Section, Week, available
from bot.digest.sections import batched
from bot.launch.model import Launch
from bot.launch.render import home_lines
from bot.launch.service import service_for
from bot.teams import Team

if TYPE_CHECKING:
    from bot.runtime import Runtime


async def prefetch(rt: Runtime, workspace_id: str, teams: Sequence[Team], week: Week, as_of: datetime) -> Any:
    """Every team's upcoming launches, in two queries, by channel."""
    by_channel: dict[str, list[Launch]] = {}
    for launch in await service_for(rt).upcoming(workspace_id):
        by_channel.setdefault(launch.channel_id, []).append(launch)
    return by_channel


async def section(rt: Runtime, team: Team, week: Week, as_of: datetime) -> Section[LaunchesFacts]:
    every = batched("launches")
    if every is not None:
        launches = every.get(team.channel_id, [])
    else:
        launches = await service_for(rt).upcoming(team.workspace_id, channel_id=team.channel_id)
    return available("launches", LaunchesFacts(tuple(home_lines(launches))))
