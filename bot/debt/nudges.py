"""Nudges: one channel message per run of out-of-band sprints, and what its two buttons record.

A run is known by its first sprint, so a third sprint still out of band does not nudge again, and a
new run (back in band, then out again) does. The claim is a unique row, so two replicas evaluating the
same write post one message.
"""

from __future__ import annotations

import logging

from bot.debt import band, render, service
from bot.debt.model import Nudge, TeamDebt
from bot.errors import UserError
from bot.runtime import Runtime
from bot.slack_api import InstrumentedWebClient
from bot.teams import Team
from storage import debt_status as status_repo

log = logging.getLogger(__name__)


async def evaluate(rt: Runtime, client: InstrumentedWebClient, team: Team, debt: TeamDebt) -> Nudge | None:
    """Post the nudge when the current run of out-of-band sprints is long enough and has none yet."""
    alloc = debt.allocation
    if alloc is None or not band.nudge_due(alloc.run, team.debt.nudge_after, debt.nudged_runs):
        return None
    run = alloc.run
    row = await rt.db.run(
        status_repo.claim_nudge,
        team.workspace_id,
        team.channel_id,
        run[0].id,
        render.run_summary(run),
        len(run),
        render.run_direction(run),
        rt.clock.now(),
    )
    if row is None:
        return None
    nudge = service.nudge_of(row)
    try:
        response = await client.chat_postMessage(
            channel=team.channel_id, **render.nudge_message(team.name, nudge)
        )
    except Exception:
        await rt.db.run(status_repo.drop_nudge, team.workspace_id, nudge.id)  # the next write tries again
        raise
    await rt.db.run(status_repo.set_nudge_message, team.workspace_id, nudge.id, str(response["ts"]))
    log.info("tech-debt nudge posted", extra={"workspace": team.workspace_id, "channel": team.channel_id})
    return nudge


async def _mine(rt: Runtime, team: Team, nudge_id: int) -> None:
    row = await rt.db.run(status_repo.get_nudge, team.workspace_id, nudge_id)
    if row is None or row.channel_id != team.channel_id:
        raise UserError("That nudge is not this channel's any more.")


async def _refresh(client: InstrumentedWebClient, team: Team, nudge: Nudge, clicked_ts: str | None) -> None:
    """Update the nudge in place (by the ts stored, else the one clicked: a click can beat storing it)."""
    ts = nudge.message_ts or clicked_ts
    if ts:
        await client.chat_update(channel=nudge.channel_id, ts=ts, **render.nudge_message(team.name, nudge))


async def acknowledge(
    rt: Runtime,
    client: InstrumentedWebClient,
    team: Team,
    nudge_id: int,
    user_id: str,
    clicked_ts: str | None = None,
) -> tuple[Nudge, bool]:
    """Record who acknowledged; a second click changes nothing. (nudge, changed)."""
    await _mine(rt, team, nudge_id)
    row, changed = await rt.db.run(
        status_repo.acknowledge, team.workspace_id, nudge_id, user_id, rt.clock.now()
    )
    assert row is not None
    nudge = service.nudge_of(row)
    if changed:
        await _refresh(client, team, nudge, clicked_ts)
    return nudge, changed


async def plan_fixit(
    rt: Runtime,
    client: InstrumentedWebClient,
    team: Team,
    nudge_id: int,
    user_id: str,
    clicked_ts: str | None = None,
) -> tuple[Nudge, bool]:
    """Record a Fix-It sprint for the dates of the sprint after the current one, and tell the managers."""
    await _mine(rt, team, nudge_id)
    debt = await service.team_debt(rt, team)
    current = debt.allocation.current if debt.allocation else None
    dates = band.next_sprint_dates(current) if current else None
    row, changed = await rt.db.run(
        status_repo.plan_fixit,
        team.workspace_id,
        nudge_id,
        user_id,
        rt.clock.now(),
        dates[0] if dates else None,
        dates[1] if dates else None,
        current.name if current else "",
    )
    assert row is not None
    nudge = service.nudge_of(row)
    if changed:
        await _refresh(client, team, nudge, clicked_ts)
        for manager in team.managers:
            opened = await client.conversations_open(users=manager)
            await client.chat_postMessage(
                channel=opened["channel"]["id"], **render.fixit_dm(team.name, team.channel_id, nudge)
            )
    return nudge, changed
