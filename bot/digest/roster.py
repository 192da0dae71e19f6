"""The teams of a workspace: those the config file declares or setup stored, and channels with records of
their own (a signal check, a pre-mortem, a tech-debt sprint, a metrics snapshot). A channel where someone
only ran a command, even a refused one, is not a team here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.teams import Team, file_teams, resolve_team
from storage import teams as teams_repo
from storage import teams_activity

if TYPE_CHECKING:
    from bot.runtime import Runtime


async def workspace_teams(rt: Runtime, workspace_id: str) -> list[Team]:
    """Every team of the workspace, by name; setup wins over the file for a channel."""
    teams = {t.channel_id: t for t in file_teams(rt.config, workspace_id)}
    rows = await rt.db.run(teams_repo.list_teams, workspace_id)
    with_records = await rt.db.run(teams_activity.channels_with_records, workspace_id)
    for row in rows:
        if row.setup or row.channel_id in teams or row.channel_id in with_records:
            teams[row.channel_id] = resolve_team(rt.config, workspace_id, row.channel_id, row.name, row.setup)
    return sorted(teams.values(), key=lambda t: (t.name.casefold(), t.channel_id))
