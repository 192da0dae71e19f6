"""`/scale-check metrics [team]`: a team's live metrics, 10x headroom and scaling triggers.

The argument only picks among teams the config file or the setup modal declares; nothing typed here
reaches a URL or a credential.
"""

from __future__ import annotations

import logging
import re

from bot.errors import UserError
from bot.metrics import render
from bot.metrics.service import read_team_signals, save_snapshot
from bot.setup.service import known_teams
from bot.teams import Team, slug
from bot.words import quoted
from handlers.base import Ctx, Listeners
from handlers.router import Subcommand

log = logging.getLogger(__name__)

_TEAM_NAME = re.compile(r"^[\w .&'-]{1,80}$")


def check_args(args: str) -> str | None:
    """Instant, in the ack: a team name or nothing."""
    text = args.strip()
    if not text or _TEAM_NAME.match(text):
        return None
    return "Name a team (letters, digits, spaces and dashes), or leave the name out for this channel's team."


async def pick_team(ctx: Ctx, name: str) -> Team:
    if not name:
        return await ctx.team()
    teams = await known_teams(ctx.rt, ctx.workspace_id)
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
    await save_snapshot(ctx.rt, team, reading)


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
