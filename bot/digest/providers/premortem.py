"""The digest's pre-mortem section, from the pre-mortem capability's `team_summary`: whether the team has
had a pre-mortem, its open mitigations (owner, due date, status, overdue), and its top risk with the owner
of that risk's mitigation (for the cross-team dependencies)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.digest.model import Mitigation, PremortemFacts, Section, Week, available
from bot.premortem.summary import team_summary
from bot.teams import Team
from storage import digest_inputs as inputs

if TYPE_CHECKING:
    from bot.runtime import Runtime


async def section(rt: Runtime, team: Team, week: Week, as_of: datetime) -> Section[PremortemFacts]:
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
