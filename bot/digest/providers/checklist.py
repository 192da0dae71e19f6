"""The digest's checklist section: the team's latest signal-checklist verdict and stage, and when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.checklist.verdict import HEADLINES, VerdictKind
from bot.digest.model import ChecklistFacts, NoChecklist, Section, Week, available
from bot.digest.sections import batched
from bot.teams import Team
from storage import digest_inputs as inputs

if TYPE_CHECKING:
    from bot.runtime import Runtime


def headline(verdict: str) -> str:
    try:
        return HEADLINES[VerdictKind(verdict)]
    except ValueError:
        return verdict.replace("_", " ").capitalize()


async def prefetch(rt: Runtime, workspace_id: str, teams: Sequence[Team], week: Week, as_of: datetime) -> Any:
    """Every team's latest checklist, in one round trip."""
    return await rt.db.run(inputs.latest_checks, workspace_id, as_of)


async def section(
    rt: Runtime, team: Team, week: Week, as_of: datetime
) -> Section[ChecklistFacts | NoChecklist]:
    every = batched("checklist")
    if every is not None:
        done, open_check = every.get(team.channel_id, (None, False))
    else:
        done, open_check = await rt.db.run(inputs.latest_check, team.workspace_id, team.channel_id, as_of)
    if done is None or done.finished_at is None or done.verdict is None:
        return available("checklist", NoChecklist(open_check=open_check))
    return available(
        "checklist",
        ChecklistFacts(
            verdict=headline(done.verdict),
            stage=done.band,
            finished_at=done.finished_at,
            permalink=done.permalink,
            open_check=open_check,
        ),
    )
