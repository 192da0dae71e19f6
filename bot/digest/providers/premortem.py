"""The digest's pre-mortem section, from the pre-mortem capability's `team_summary`: whether the team has
had a pre-mortem, its open mitigations (owner, due date, status, overdue), and its top risk with the owner
of that risk's mitigation (for the cross-team dependencies)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.digest.model import Mitigation, PremortemFacts, Section, Week, available
from bot.digest.sections import batched
from bot.premortem.summary import TeamPremortemSummary, team_summary, workspace_summaries
from bot.teams import Team
from storage import digest_inputs as inputs

if TYPE_CHECKING:
    from bot.runtime import Runtime


async def prefetch(rt: Runtime, workspace_id: str, teams: Sequence[Team], week: Week, as_of: datetime) -> Any:
    """Every team's open mitigations and top risk, in two round trips."""
    summaries = await workspace_summaries(rt, workspace_id, as_of)
    tops = await rt.db.run(inputs.top_risks, workspace_id)
    return summaries, tops


async def section(rt: Runtime, team: Team, week: Week, as_of: datetime) -> Section[PremortemFacts]:
    every = batched("premortem")
    if every is not None:
        summaries, tops = every
        summary = summaries.get(team.channel_id) or TeamPremortemSummary(team.channel_id, False, 0, None, ())
        top = tops.get(team.channel_id)
    else:
        summary = await team_summary(rt, team.workspace_id, team.channel_id, as_of)
        top = await rt.db.run(inputs.top_risk, team.workspace_id, team.channel_id)
    permalink = next((m.permalink for m in summary.open_mitigations if m.permalink), None)
    return available(
        "premortem",
        PremortemFacts(
            exists=summary.has_premortem,
            unmitigated=summary.unmitigated,
            started_at=summary.last_started_at,
            permalink=permalink,
            mitigations=tuple(
                Mitigation(
                    risk=m.title,
                    plan=m.plan,
                    owner=m.owner,
                    due=m.due,
                    status=m.status_label.lower(),
                    overdue=m.overdue,
                )
                for m in summary.open_mitigations
            ),
            top_risk=top[0] if top else None,
            top_risk_owner=top[1] if top else None,
        ),
    )
