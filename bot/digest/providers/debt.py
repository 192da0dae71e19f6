"""The digest's tech-debt section, from the tech-debt capability's `team_debt`: the current sprint's
share, the rolling figure against the 20–30% band, the trend, and a stale import's reason."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.debt import band
from bot.debt.service import team_debt, workspace_debt
from bot.digest.model import DebtFacts, Section, Week, available, not_set_up
from bot.digest.sections import batched
from bot.teams import Team

if TYPE_CHECKING:
    from bot.runtime import Runtime


async def prefetch(rt: Runtime, workspace_id: str, teams: Sequence[Team], week: Week, as_of: datetime) -> Any:
    """Every team's tech-debt record, in one round trip."""
    return await workspace_debt(rt, workspace_id, list(teams))


async def section(rt: Runtime, team: Team, week: Week, as_of: datetime) -> Section[DebtFacts]:
    every = batched("debt")
    debt = every.get(team.channel_id) if every is not None else None
    if debt is None:
        debt = await team_debt(rt, team)
    allocation = debt.allocation
    if allocation is None:
        return not_set_up("debt", "no sprint recorded yet — `/scale-check debt 12 of 50` in the channel")
    stale = debt.import_status.reason if debt.import_status and debt.import_status.stale else None
    current = allocation.current
    return available(
        "debt",
        DebtFacts(
            unit=current.unit,
            sprint=current.name,
            share=float(current.share),
            share_text=band.percent(current.share),
            rolling=float(allocation.rolling.share),
            rolling_text=band.percent(allocation.rolling.share),
            status=str(allocation.status),
            direction=allocation.direction,
            sparkline=allocation.sparkline,
            out_of_band_run=len(allocation.run),
            stale=stale,
            trend=tuple((s.name, float(s.share)) for s in allocation.trend),
        ),
    )
