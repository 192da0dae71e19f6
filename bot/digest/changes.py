"""What changed since last week: teams newly out of the tech-debt band, newly breached triggers,
mitigations closed or newly overdue, and checklists whose verdict changed.

Each sent digest keeps every team's state (plain JSON in its run); this week's digest compares against
the latest earlier one. Plain values in, plain values out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from bot import blocks as bk
from bot.digest.model import ChecklistFacts, DebtFacts, MetricsFacts, PremortemFacts, TeamDigest


@dataclass(frozen=True)
class TeamState:
    name: str
    verdict: str | None = None
    out_of_band: bool = False
    triggers: tuple[str, ...] = ()
    open: tuple[str, ...] = ()  # open mitigations, by risk
    overdue: tuple[str, ...] = ()
    # Whether each capability could be read (an unreadable one is not compared).
    read: tuple[str, ...] = ()


def team_state(td: TeamDigest) -> TeamState:
    check = td.facts("checklist", ChecklistFacts)
    debt = td.facts("debt", DebtFacts)
    metrics = td.facts("metrics", MetricsFacts)
    premortem = td.facts("premortem", PremortemFacts)
    return TeamState(
        name=td.team.name,
        verdict=check.verdict if check else None,
        out_of_band=bool(debt and debt.status != "in band"),
        triggers=tuple(t.title for t in metrics.triggers) if metrics else (),
        open=tuple(m.risk for m in premortem.mitigations) if premortem else (),
        overdue=tuple(m.risk for m in premortem.overdue) if premortem else (),
        read=tuple(k for k, s in td.sections.items() if s.ok),
    )


def dump(teams: Sequence[TeamDigest]) -> str:
    return json.dumps({td.team.channel_id: asdict(team_state(td)) for td in teams}, sort_keys=True)


def load(raw: str) -> dict[str, TeamState]:
    out = {}
    for channel, f in json.loads(raw).items():
        out[channel] = TeamState(
            name=str(f["name"]),
            verdict=f.get("verdict"),
            out_of_band=bool(f.get("out_of_band")),
            triggers=tuple(f.get("triggers") or ()),
            open=tuple(f.get("open") or ()),
            overdue=tuple(f.get("overdue") or ()),
            read=tuple(f.get("read") or ()),
        )
    return out


@dataclass(frozen=True)
class Changes:
    since: str  # the week compared against, "2026-W47"
    out_of_band: list[str] = field(default_factory=list)  # team names
    triggers: list[tuple[str, str]] = field(default_factory=list)  # (team, trigger)
    closed: list[tuple[str, str]] = field(default_factory=list)  # (team, risk)
    overdue: list[tuple[str, str]] = field(default_factory=list)
    verdicts: list[tuple[str, str, str]] = field(default_factory=list)  # (team, before, now)

    @property
    def empty(self) -> bool:
        return not (self.out_of_band or self.triggers or self.closed or self.overdue or self.verdicts)


def compare(since: str, before: Mapping[str, TeamState], now: Mapping[str, TeamState]) -> Changes:
    """Changes of the teams present both weeks, in the capabilities read both weeks."""
    changes = Changes(since)
    triggers, closed, overdue = changes.triggers, changes.closed, changes.overdue
    for channel, cur in now.items():
        old = before.get(channel)
        if old is None:
            continue
        both = set(old.read) & set(cur.read)
        if "debt" in both and cur.out_of_band and not old.out_of_band:
            changes.out_of_band.append(cur.name)
        if "metrics" in both:
            triggers.extend((cur.name, t) for t in cur.triggers if t not in old.triggers)
        if "premortem" in both:
            closed.extend((cur.name, r) for r in old.open if r not in cur.open)
            overdue.extend((cur.name, r) for r in cur.overdue if r not in old.overdue)
        if "checklist" in both and old.verdict and cur.verdict and old.verdict != cur.verdict:
            changes.verdicts.append((cur.name, old.verdict, cur.verdict))
    return changes


def _capped(items: list[str], cap: int, more: str) -> str:
    shown = ", ".join(items[:cap])
    return shown + (f" and {len(items) - cap} more{more}" if len(items) > cap else "")


def change_lines(changes: Changes, cap: int, more: str = "") -> list[str]:
    """One line per kind of change (mrkdwn, names escaped), each listing up to `cap` teams."""
    e = bk.escape
    lines = []
    if changes.triggers:
        items = [f"*{e(t)}* ({e(x)})" for t, x in changes.triggers]
        lines.append(f":rotating_light: Newly breached triggers ({len(items)}): {_capped(items, cap, more)}")
    if changes.overdue:
        items = [f"*{e(t)}* “{e(r)}”" for t, r in changes.overdue]
        lines.append(f":alarm_clock: Newly overdue mitigations ({len(items)}): {_capped(items, cap, more)}")
    if changes.closed:
        items = [f"*{e(t)}* “{e(r)}”" for t, r in changes.closed]
        lines.append(f":white_check_mark: Mitigations closed ({len(items)}): {_capped(items, cap, more)}")
    if changes.out_of_band:
        items = [f"*{e(t)}*" for t in changes.out_of_band]
        lines.append(f":scales: Newly out of the debt band ({len(items)}): {_capped(items, cap, more)}")
    if changes.verdicts:
        items = [f"*{e(t)}* {e(a)} → {e(b)}" for t, a, b in changes.verdicts]
        lines.append(f":clipboard: Checklist verdicts changed ({len(items)}): {_capped(items, cap, more)}")
    return lines


def change_block(changes: Changes | None, cap: int, more: str = "") -> bk.Block:
    if changes is None:
        return bk.section("*What changed since last week*: nothing to compare with yet (the first digest).")
    head = f"*What changed since the digest of {changes.since}*"
    if changes.empty:
        return bk.section(head + ": nothing on the agenda's lists changed.")
    return bk.section(
        bk.truncate(head + "\n" + "\n".join(change_lines(changes, cap, more)), bk.MAX_SECTION_TEXT)
    )
