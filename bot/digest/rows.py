"""One row per team, as plain values: what the readiness canvas shows for every team and what a manager's
digest says about each of their teams (verdict and stage, debt share against the band, top risk and its
mitigation, breached triggers, what breaks first at 10x, the last check's age). Texts are raw (each
surface escapes them its own way)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.digest.model import ChecklistFacts, DebtFacts, MetricsFacts, NoChecklist, PremortemFacts, TeamDigest
from bot.digest.render_team import multiple


@dataclass(frozen=True)
class TeamRow:
    team: str
    channel_id: str
    verdict: str  # "Watch", "no checklist yet", "unavailable"
    stage: str | None
    check_days: int | None  # days since the last finished check (None: never)
    stale: bool
    debt: str  # "24% in band", "no sprint yet", "unavailable"
    debt_status: str | None  # under, in band, over
    top_risk: str | None
    mitigation: str | None  # the top risk's plan (or the soonest open mitigation's)
    mitigation_owner: str | None
    open_mitigations: int
    overdue: int
    triggers: tuple[str, ...]  # titles of breached triggers
    breaks_first: str | None  # "db pool ×1.6, …"; "nothing below 10x"; None without metrics
    unavailable: tuple[str, ...] = ()  # sections that could not be read


def _verdict(td: TeamDigest, as_of: datetime) -> tuple[str, str | None, int | None, bool]:
    section = td.section("checklist")
    facts = section.facts
    if isinstance(facts, ChecklistFacts):
        return facts.verdict, facts.stage, max(facts.age(as_of).days, 0), facts.stale(as_of)
    if isinstance(facts, NoChecklist):
        return "no checklist yet", None, None, True
    return ("unavailable" if section.unavailable else "not set up"), None, None, False


def _debt(td: TeamDigest) -> tuple[str, str | None]:
    facts = td.facts("debt", DebtFacts)
    if facts is not None:
        return f"{facts.rolling_text} {facts.status}", facts.status
    return ("unavailable" if td.section("debt").unavailable else "no sprint yet"), None


def _risk(td: TeamDigest) -> tuple[str | None, str | None, str | None, int, int]:
    facts = td.facts("premortem", PremortemFacts)
    if facts is None:
        return None, None, None, 0, 0
    top = next((m for m in facts.mitigations if m.risk == facts.top_risk), None)
    chosen = top or (facts.mitigations[0] if facts.mitigations else None)
    risk = facts.top_risk or (chosen.risk if chosen else None)
    return (
        risk,
        chosen.plan if chosen else None,
        chosen.owner if chosen else None,
        len(facts.mitigations),
        len(facts.overdue),
    )


def _metrics(td: TeamDigest) -> tuple[tuple[str, ...], str | None]:
    facts = td.facts("metrics", MetricsFacts)
    if facts is None:
        return (), None
    shown = [f"{h.title} {multiple(h.headroom)}" for h in facts.breaks_first[:3]]
    breaks = ", ".join(shown) if shown else None
    if breaks is None and facts.signals:
        breaks = "nothing measured below 10x"
    return tuple(t.title for t in facts.triggers), breaks


def team_row(td: TeamDigest, as_of: datetime) -> TeamRow:
    verdict, stage, days, stale = _verdict(td, as_of)
    debt, debt_status = _debt(td)
    risk, plan, owner, open_count, overdue = _risk(td)
    triggers, breaks = _metrics(td)
    return TeamRow(
        team=td.team.name,
        channel_id=td.team.channel_id,
        verdict=verdict,
        stage=stage,
        check_days=days,
        stale=stale,
        debt=debt,
        debt_status=debt_status,
        top_risk=risk,
        mitigation=plan,
        mitigation_owner=owner,
        open_mitigations=open_count,
        overdue=overdue,
        triggers=triggers,
        breaks_first=breaks,
        unavailable=tuple(k for k, s in td.sections.items() if s.unavailable),
    )
