"""`/scale-check metrics [team]`: a team's live metrics, 10x headroom and scaling triggers.

The argument only picks among teams the config file or the setup modal declares; nothing typed here
reaches a URL or a credential.
"""

from __future__ import annotations

import logging
import re

from bot.errors import UserError
from bot.metrics import render
from bot.metrics.service import read_team_signals
from bot.teams import Team, file_teams, resolve_team, slug
from bot.words import quoted
from handlers.base import Ctx, Listeners
from handlers.router import Subcommand
from storage import metrics as metrics_repo
from storage import teams as teams_repo

log = logging.getLogger(__name__)

_TEAM_NAME = re.compile(r"^[\w .&'-]{1,80}$")


def check_args(args: str) -> str | None:
    """Instant, in the ack: a team name or nothing."""
    text = args.strip()
    if not text or _TEAM_NAME.match(text):
        return None
    return "Name a team (letters, digits, spaces and dashes), or leave the name out for this channel's team."


async def known_teams(ctx: Ctx) -> list[Team]:
    """Teams of this workspace that the file declares or setup stored (setup wins for a channel)."""
    config = ctx.rt.config
    teams = {t.channel_id: t for t in file_teams(config, ctx.workspace_id)}
    rows = await ctx.rt.db.run(teams_repo.list_teams, ctx.workspace_id)
    for row in rows:
        if row.setup:
            teams[row.channel_id] = resolve_team(
                config, ctx.workspace_id, row.channel_id, row.name, row.setup
            )
    return list(teams.values())


async def pick_team(ctx: Ctx, name: str) -> Team:
    if not name:
        return await ctx.team()
    teams = await known_teams(ctx)
    wanted = slug(name)
    for team in teams:
        if team.key == wanted or team.name.casefold() == name.casefold():
            return team
    with_metrics = sorted(t.key for t in teams if t.metrics is not None)
    listed = ", ".join(f"`{k}`" for k in with_metrics) or "none yet"
    raise UserError(
        f"I don't know a team called {quoted(name[:80])}. Teams with metrics here: {listed}. "
        "Leave the name out for this channel's team."
    )


async def run_metrics(ctx: Ctx, args: str) -> None:
    team = await pick_team(ctx, args.strip())
    reading = await read_team_signals(ctx.rt, team)
    await ctx.ephemeral(render.reading_text(reading), render.reading_blocks(reading))
    if any(r.value is not None for r in reading.signals):
        try:
            await ctx.rt.db.run(
                metrics_repo.save_snapshot,
                team.workspace_id,
                team.channel_id,
                team.name,
                reading.source,
                reading.read_at,
                reading.snapshot(),
            )
        except Exception:  # the answer is out; a lost snapshot only thins next week's comparison
            log.warning("could not store the metrics snapshot", extra={"team": team.key}, exc_info=True)


def register(listeners: Listeners) -> None:
    listeners.router.add(
        Subcommand(
            name="metrics",
            summary="live metrics against thresholds, 10x headroom and scaling triggers",
            usage="[team]",
            example="/scale-check metrics",
            run=run_metrics,
            check=check_args,
            order=30,
        )
    )
