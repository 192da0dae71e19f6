"""What other capabilities read about a team's pre-mortems: the weekly digest and the App Home.

    summary = await team_summary(rt, workspace_id, channel_id)
    summary.has_premortem, summary.open_mitigations[0].owner, summary.overdue

`workspace_summaries` reads every team of a workspace in two queries (for a digest of many teams).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.premortem.mitigation import age_days, days_overdue
from bot.premortem.model import MITIGATION_STATUSES, OpenMitigation
from storage import premortem_mitigations as repo

if TYPE_CHECKING:
    from bot.runtime import Runtime


@dataclass(frozen=True)
class TeamPremortemSummary:
    channel_id: str
    has_premortem: bool  # at least one pre-mortem that was not cancelled
    premortems: int
    last_started_at: datetime | None
    open_mitigations: tuple[OpenMitigation, ...]  # earliest due first
    unmitigated: int = 0  # top risks of the latest planned pre-mortem with no mitigation at all

    @property
    def overdue(self) -> int:
        return sum(1 for m in self.open_mitigations if m.overdue)


def _summaries(
    session: Session, workspace_id: str, channel_id: str | None, now: datetime
) -> dict[str, TeamPremortemSummary]:
    counts = repo.premortem_counts(session, workspace_id)
    unmitigated = repo.unmitigated_top(session, workspace_id, channel_id)
    items: dict[str, list[OpenMitigation]] = {}
    for m, pm in repo.open_for_team(session, workspace_id, channel_id):
        assert m.id is not None and pm.id is not None
        items.setdefault(m.channel_id, []).append(
            OpenMitigation(
                mitigation_id=m.id,
                premortem_id=pm.id,
                title=m.title,
                plan=m.plan,
                owner=m.owner,
                due=m.due,
                status=m.status,
                status_label=MITIGATION_STATUSES.get(m.status, m.status),
                overdue=days_overdue(m.due, m.status, now, m.owner_tz) > 0,
                age_days=age_days(m.created_at, now),
                permalink=pm.permalink,
                owner_tz=m.owner_tz,
            )
        )
    channels = set(counts) | set(items) | set(unmitigated)
    if channel_id is not None:
        channels = {channel_id}
    out = {}
    for channel in channels:
        count, latest = counts.get(channel, (0, None))
        out[channel] = TeamPremortemSummary(
            channel_id=channel,
            has_premortem=count > 0,
            premortems=count,
            last_started_at=latest,
            open_mitigations=tuple(items.get(channel, ())),
            unmitigated=unmitigated.get(channel, 0),
        )
    return out


async def team_summary(
    rt: Runtime, workspace_id: str, channel_id: str, now: datetime | None = None
) -> TeamPremortemSummary:
    """A team's open mitigations (owner, due date, status, overdue) and whether it has had a pre-mortem."""
    found = await rt.db.run(_summaries, workspace_id, channel_id, now or rt.clock.now())
    return found[channel_id]


async def workspace_summaries(
    rt: Runtime, workspace_id: str, now: datetime | None = None
) -> dict[str, TeamPremortemSummary]:
    """Every team (by channel id) of the workspace that has had a pre-mortem or has open mitigations."""
    return await rt.db.run(_summaries, workspace_id, None, now or rt.clock.now())
