"""The teams of a workspace: those the config file declares, set up in Slack, or met in a channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.teams import Team, file_teams, resolve_team
from storage import teams as teams_repo

if TYPE_CHECKING:
    from bot.runtime import Runtime


async def workspace_teams(rt: Runtime, workspace_id: str) -> list[Team]:
    """Every team of the workspace, by name; setup wins over the file for a channel."""
    teams = {t.channel_id: t for t in file_teams(rt.config, workspace_id)}
    for row in await rt.db.run(teams_repo.list_teams, workspace_id):
        teams[row.channel_id] = resolve_team(rt.config, workspace_id, row.channel_id, row.name, row.setup)
    return sorted(teams.values(), key=lambda t: (t.name.casefold(), t.channel_id))


def members(team: Team) -> set[str]:
    """The people the team declares: its leads and managers."""
    return {*team.leads, *team.managers}
