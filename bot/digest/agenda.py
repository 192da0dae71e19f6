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

BAND = (0.20, 0.30)

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
    # Within its kind, higher is more urgent (see `URGENCY_RULE`).
    urgency: float = 0.0


URGENCY_RULE = (
    "Breached scaling triggers first, the furthest past its limit first; then overdue mitigations, the "
    "most days overdue first; then teams out of the tech-debt band, by distance from the band times the "
    "sprints they have been out of it; then signal checks, never run first and then the oldest; then "
    "teams with no pre-mortem, by name."
)
NEVER_CHECKED = 1e9  # a check never run is more urgent than any stale one


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
            urgency=t.excess,
        )
        for t in facts.triggers
    ]


def _overdue_items(td: TeamDigest, as_of: datetime) -> list[AgendaItem]:
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
                urgency=float((as_of.date() - m.due).days) if m.due else 0.0,
            )
        )
    return out


def band_distance(share: float) -> float:
    """Percentage points outside the 20–30% band (0 inside it)."""
    return max(BAND[0] - share, share - BAND[1], 0.0) * 100


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
            urgency=band_distance(facts.rolling) * max(facts.out_of_band_run, 1),
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
        return [AgendaItem("stale_check", td.team.name, td.team.channel_id, text, float(days))]
    if isinstance(section.facts, NoChecklist):
        started = " (one is in progress)" if section.facts.open_check else ""
        return [
            AgendaItem(
                "stale_check",
                td.team.name,
                td.team.channel_id,
                f"{_team(td)}: no signal checklist yet{started} — `/scale-check` in {bk.channel_link(td.team.channel_id)}",
                NEVER_CHECKED,
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


RANK = {k: i for i, k in enumerate(AGENDA_ORDER)}


def urgency_key(item: AgendaItem) -> tuple[int, float]:
    """The one urgency rule (`URGENCY_RULE`): by kind, then most urgent first within the kind."""
    return RANK[item.kind], -item.urgency


def agenda(teams: Sequence[TeamDigest], as_of: datetime) -> list[AgendaItem]:
    """What needs a decision this week, grouped in `AGENDA_ORDER`, most urgent first within a kind (ties
    in the order of `teams`)."""
    items: list[AgendaItem] = []
    for td in teams:
        items += _trigger_items(td)
        items += _overdue_items(td, as_of)
        items += _debt_items(td)
        items += _check_items(td, as_of)
        items += _premortem_items(td)
    return sorted(items, key=urgency_key)  # stable: team order kept among equals


def teams_by_urgency(items: Sequence[AgendaItem]) -> list[str]:
    """The channels of the teams on the agenda, the team of the most urgent item first."""
    order: dict[str, tuple[int, float]] = {}
    for item in sorted(items, key=urgency_key):
        order.setdefault(item.channel_id, urgency_key(item))
    return list(order)


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
