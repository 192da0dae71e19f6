"""Teams as stored: a channel's team (remembered with the channel's name), the teams a workspace knows,
and saving what the setup modal sets (the team's setup, and the digest's schedule when it changed)."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.runtime import Runtime
from bot.setup.rules import DigestSetup, TeamSetup
from bot.slack_api import InstrumentedWebClient
from bot.teams import Team, file_teams, resolve_team
from storage import digest as digest_repo
from storage import digest_canvas
from storage import teams as teams_repo


async def remember_channel(rt: Runtime, workspace_id: str, channel_id: str, name: str | None) -> Team:
    """The channel's team; the channel is remembered with its name (`name`, else the one stored)."""
    row = await rt.db.run(teams_repo.remember, workspace_id, channel_id, name or channel_id, rt.clock.now())
    return resolve_team(rt.config, workspace_id, channel_id, name or row.name, row.setup)


async def team_of_channel(
    rt: Runtime, client: InstrumentedWebClient, workspace_id: str, channel_id: str
) -> Team:
    """The channel's team as it stands (setup, else the file, else the channel's own name)."""
    row = await rt.db.run(teams_repo.find, workspace_id, channel_id)
    name = row.name if row else None
    if name is None and rt.config.team_for(workspace_id, channel_id) is None:
        try:
            name = (await client.conversations_info(channel=channel_id))["channel"].get("name")
        except SlackApiError:
            name = None
    return resolve_team(rt.config, workspace_id, channel_id, name, row.setup if row else None)


async def known_teams(rt: Runtime, workspace_id: str) -> list[Team]:
    """Teams of this workspace that the file declares or setup stored (setup wins for a channel)."""
    config = rt.config
    teams = {t.channel_id: t for t in file_teams(config, workspace_id)}
    for row in await rt.db.run(teams_repo.list_teams, workspace_id):
        if row.setup:
            teams[row.channel_id] = resolve_team(config, workspace_id, row.channel_id, row.name, row.setup)
    return list(teams.values())


async def save(
    rt: Runtime,
    workspace_id: str,
    team_setup: TeamSetup,
    digest_setup: DigestSetup | None,
    user_id: str,
    now: datetime,
    own_digest: tuple[str | None] | None = None,
) -> None:
    """Store the team's setup, the digest's schedule when one is given, and where the person's own
    digest goes when they chose (`own_digest`: a 1-tuple of the channel, None for their DM)."""
    if own_digest is not None:
        await rt.db.run(digest_canvas.save_manager_channel, workspace_id, user_id, own_digest[0], now)
    await rt.db.run(
        teams_repo.save_setup, workspace_id, team_setup.channel, team_setup.stored(rt.config), user_id, now
    )
    if digest_setup is not None:
        await rt.db.run(
            digest_repo.save_schedule,
            workspace_id,
            digest_setup.channel,
            digest_setup.day,
            digest_setup.time,
            digest_setup.timezone,
            list(digest_setup.managers),
            user_id,
            now,
        )
