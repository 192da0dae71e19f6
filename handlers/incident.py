"""`/scale-check incident …`: report what broke, list the team's outcomes, withdraw a wrong one."""

from __future__ import annotations

from bot.calibration import command, render, service
from handlers.base import Ctx, Listeners, is_admin
from handlers.router import Subcommand


def register(listeners: Listeners) -> None:
    listeners.router.add(
        Subcommand(
            "incident",
            "report what broke, so the pre-mortems' predictions are checked against it",
            command.USAGE,
            command.EXAMPLE,
            run,
            check=command.problem,
            order=35,
        )
    )


async def run(ctx: Ctx, args: str) -> None:
    parsed = command.parse(args)
    assert not isinstance(parsed, str)  # the ack refused it
    team = await ctx.team()
    user = ctx.user_id or ""
    if isinstance(parsed, command.ListOutcomes):
        outcomes = await service.team_outcomes(ctx.rt, team)
        message = render.outcomes_message(team.name, outcomes, await service.team_record(ctx.rt, team))
    elif isinstance(parsed, command.ListPredictions):
        message = render.predictions_message(team.name, await service.team_record(ctx.rt, team))
    elif isinstance(parsed, command.Watch):
        watched = await service.watch(
            ctx.rt, team, parsed.prediction_id, parsed.signal, user, await is_admin(ctx)
        )
        message = render.watching_message(team.name, watched)
    elif isinstance(parsed, command.Withdraw):
        outcome = await service.withdraw(ctx.rt, team, parsed.outcome_id, user, await is_admin(ctx))
        message = render.withdrawn_message(team.name, outcome, await service.team_record(ctx.rt, team))
    else:
        outcome = await service.incident(
            ctx.rt, team, user, await is_admin(ctx), parsed.component, parsed.note
        )
        message = render.reported_message(team.name, outcome, await service.team_record(ctx.rt, team))
    await ctx.ephemeral(message["text"], message["blocks"])
