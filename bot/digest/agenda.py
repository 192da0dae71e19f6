"""The agenda for the week's sync, and the cross-team dependencies: plain rules over the teams' facts.

The seeds' antidote to "scaling in silos" is a weekly or bi-weekly sync between product, engineering and
support (`001_…`); the digest is its agenda. What needs a decision: breached scaling triggers, overdue
mitigations, teams out of the tech-debt band, stale or missing signal checks, teams with no pre-mortem yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot import blocks as bk
from bot import seeds
from bot.digest.model import (
    STALE_AFTER,
    ChecklistFacts,
    DebtFacts,
    MetricsFacts,
    NoChecklist,
    PremortemFacts,
    TeamDigest,
)
from bot.digest.roster import members
from bot.words import plural, quoted

AgendaKind = Literal["trigger", "overdue", "out_of_band", "stale_check", "no_premortem"]
AGENDA_ORDER: tuple[AgendaKind, ...] = ("trigger", "overdue", "out_of_band", "stale_check", "no_premortem")
AGENDA_HEADINGS: Mapping[AgendaKind, str] = {
    "trigger": ":rotating_light: Breached scaling triggers",
    "overdue": ":alarm_clock: Overdue mitigations",
    "out_of_band": ":scales: Tech debt out of the 20–30% band",
    "stale_check": ":hourglass_flowing_sand: Signal checks stale (over 90 days) or never run",
    "no_premortem": ":crystal_ball: No pre-mortem yet",
}


@dataclass(frozen=True)
class AgendaItem:
    kind: AgendaKind
    team: str
    channel_id: str
    text: str  # mrkdwn, user text escaped


@dataclass(frozen=True)
class Dependency:
    team: str
    risk: str
    owner: str  # user id
    owner_team: str


LIMIT_ORIGINS = {
    "team": "the team's own limit",
    "defaults": "the default ceiling in the config file",
    "brief": "the default 80% ceiling of the product brief's 10x rule",
}


def seed_ref(seed: str | None, origin: str = "seed") -> str:
    """The title of the article a rule comes from (by seed file name), and whose limit it is when not the
    seed's."""
    parts = [bk.escape(seeds.cite(seed))] if seed else []
    if origin in LIMIT_ORIGINS:
        parts.append(LIMIT_ORIGINS[origin])
    return "; ".join(parts) or "the team's own limit"


def _team(td: TeamDigest) -> str:
    return f"*{bk.escape(td.team.name)}*"


def _trigger_items(td: TeamDigest) -> list[AgendaItem]:
    facts = td.facts("metrics", MetricsFacts)
    if facts is None:
        return []
    return [
        AgendaItem(
            "trigger",
            td.team.name,
            td.team.channel_id,
            f"{_team(td)}: {t.title} {t.value} ({t.limit}) → {t.action} ({seed_ref(t.seed, t.origin)})",
        )
        for t in facts.triggers
    ]


def _overdue_items(td: TeamDigest) -> list[AgendaItem]:
    facts = td.facts("premortem", PremortemFacts)
    if facts is None:
        return []
    out = []
    for m in facts.overdue:
        owner = bk.mention(m.owner) if m.owner else "no owner"
        due = f"due {m.due.isoformat()}" if m.due else "no due date"
        out.append(
            AgendaItem(
                "overdue",
                td.team.name,
                td.team.channel_id,
                f"{_team(td)}: {quoted(bk.escape(m.risk))} — {bk.escape(m.plan)} ({owner}, {due}, {m.status})",
            )
        )
    return out


def _debt_items(td: TeamDigest) -> list[AgendaItem]:
    facts = td.facts("debt", DebtFacts)
    if facts is None or facts.status == "in band":
        return []
    side = "under" if facts.status == "under" else "over"
    run = f", {facts.out_of_band_run} sprints running" if facts.out_of_band_run > 1 else ""
    return [
        AgendaItem(
            "out_of_band",
            td.team.name,
            td.team.channel_id,
            f"{_team(td)}: {facts.rolling_text} of capacity on tech debt over the last sprints, "
            f"{side} the band{run}",
        )
    ]


def _check_items(td: TeamDigest, as_of: datetime) -> list[AgendaItem]:
    section = td.section("checklist")
    if isinstance(section.facts, ChecklistFacts):
        facts = section.facts
        if not facts.stale(as_of):
            return []
        days = facts.age(as_of).days
        text = (
            f"{_team(td)}: last signal checklist {plural(days, 'day')} ago "
            f"({bk.date(facts.finished_at, '{date_short_pretty}')}; stale after {STALE_AFTER.days}) "
            f"— `/scale-check` in {bk.channel_link(td.team.channel_id)}"
        )
        return [AgendaItem("stale_check", td.team.name, td.team.channel_id, text)]
    if isinstance(section.facts, NoChecklist):
        started = " (one is in progress)" if section.facts.open_check else ""
        return [
            AgendaItem(
                "stale_check",
                td.team.name,
                td.team.channel_id,
                f"{_team(td)}: no signal checklist yet{started} — `/scale-check` in {bk.channel_link(td.team.channel_id)}",
            )
        ]
    return []


def _premortem_items(td: TeamDigest) -> list[AgendaItem]:
    facts = td.facts("premortem", PremortemFacts)
    if facts is None or facts.exists:
        return []
    return [
        AgendaItem(
            "no_premortem",
            td.team.name,
            td.team.channel_id,
            f"{_team(td)}: no pre-mortem yet — `/scale-check premortem` in {bk.channel_link(td.team.channel_id)}",
        )
    ]


def agenda(teams: Sequence[TeamDigest], as_of: datetime) -> list[AgendaItem]:
    """What needs a decision this week, grouped in `AGENDA_ORDER`, teams in the order given."""
    items: list[AgendaItem] = []
    for td in teams:
        items += _trigger_items(td)
        items += _overdue_items(td)
        items += _debt_items(td)
        items += _check_items(td, as_of)
        items += _premortem_items(td)
    rank = {k: i for i, k in enumerate(AGENDA_ORDER)}
    return sorted(items, key=lambda i: rank[i.kind])  # stable: team order kept within a kind


def dependencies(teams: Sequence[TeamDigest]) -> list[Dependency]:
    """A team's top risk owned by someone in another team (and not in the team itself)."""
    by_member: dict[str, list[str]] = {}
    for td in teams:
        for person in members(td.team):
            by_member.setdefault(person, []).append(td.team.name)
    out = []
    for td in teams:
        facts = td.facts("premortem", PremortemFacts)
        if facts is None or not facts.top_risk or not facts.top_risk_owner:
            continue
        owner = facts.top_risk_owner
        if owner in members(td.team):
            continue
        others = [name for name in by_member.get(owner, []) if name != td.team.name]
        if others:
            out.append(Dependency(td.team.name, facts.top_risk, owner, sorted(others, key=str.casefold)[0]))
    return out
