"""What a digest is made of: the week, each team's sections (one per capability), and the facts in them.

A section comes from one capability through a provider, `async def section(rt, team, week) -> Section`
(see `bot/digest/sections.py`). A section is either available (its `facts`), not set up yet (`note`, no
facts: a team with no metrics source), or unavailable with the reason (`unavailable`): a failing source
marks only its own section, and the rest of the digest is posted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Generic, Literal, TypeVar
from zoneinfo import ZoneInfo

from bot.teams import Team

SectionKind = Literal["checklist", "premortem", "metrics", "debt", "launches", "calibration"]
SECTION_KINDS: tuple[SectionKind, ...] = (
    "checklist",
    "premortem",
    "metrics",
    "debt",
    "launches",
    "calibration",
)
SECTION_TITLES: Mapping[SectionKind, str] = {
    "checklist": "Signal checklist",
    "premortem": "Pre-mortem mitigations",
    "metrics": "Metrics and 10x headroom",
    "debt": "Tech-debt capacity",
    "launches": "Launches in the next 30 days",
    "calibration": "Pre-mortem calibration",
}

F = TypeVar("F")


@dataclass(frozen=True)
class Week:
    """An ISO week in a workspace's time zone (Monday to Sunday)."""

    year: int
    number: int
    timezone: str

    @classmethod
    def of(cls, when: datetime, timezone: str) -> Week:
        year, number, _ = when.astimezone(ZoneInfo(timezone)).isocalendar()
        return cls(year, number, timezone)

    @property
    def key(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def start(self) -> datetime:
        """Monday 00:00 in the workspace's zone."""
        return datetime.combine(self.monday, datetime.min.time(), tzinfo=ZoneInfo(self.timezone))

    @property
    def label(self) -> str:
        return f"week {self.number}, {self.year}"

    def minus(self, weeks: int) -> Week:
        back = self.monday - timedelta(weeks=weeks)
        year, number, _ = back.isocalendar()
        return Week(year, number, self.timezone)


@dataclass(frozen=True)
class Section(Generic[F]):
    """One capability's part of a team's digest."""

    kind: SectionKind
    facts: F | None = None
    note: str | None = None  # not set up yet, and how to set it up
    unavailable: str | None = None  # the reason the data could not be read

    @property
    def ok(self) -> bool:
        return self.facts is not None


def available(kind: SectionKind, facts: F) -> Section[F]:
    return Section(kind, facts=facts)


def not_set_up(kind: SectionKind, note: str) -> Section[F]:
    return Section(kind, note=note)


def unavailable(kind: SectionKind, reason: str) -> Section[F]:
    """A section whose source failed; the digest shows "unavailable: <reason>" in its place."""
    return Section(kind, unavailable=reason)


# --- facts, one kind per capability ----------------------------------------------------------------

STALE_AFTER = timedelta(days=90)


@dataclass(frozen=True)
class ChecklistFacts:
    verdict: str  # "Prepare for a surge now", "Watch"…
    stage: str | None  # "≈100", "1K", "10K", "100K", "1M"
    finished_at: datetime
    permalink: str | None = None
    open_check: bool = False  # another check is in progress

    def age(self, as_of: datetime) -> timedelta:
        return as_of - self.finished_at

    def stale(self, as_of: datetime) -> bool:
        return self.age(as_of) > STALE_AFTER


@dataclass(frozen=True)
class NoChecklist:
    """No finished checklist yet (maybe one in progress)."""

    open_check: bool = False


@dataclass(frozen=True)
class Mitigation:
    risk: str  # the component at risk, as the leads named it
    plan: str
    owner: str | None  # user id
    due: date | None
    status: str  # open, in progress, done, won't do
    overdue: bool = False


@dataclass(frozen=True)
class PremortemFacts:
    exists: bool  # a pre-mortem has been run for the team
    started_at: datetime | None = None
    permalink: str | None = None
    mitigations: tuple[Mitigation, ...] = ()  # still open (open or in progress), soonest due first
    top_risk: str | None = None  # the risk voted first
    top_risk_owner: str | None = None  # the owner of its mitigation
    unmitigated: int = 0  # top risks of the latest planned pre-mortem with no mitigation at all

    @property
    def overdue(self) -> tuple[Mitigation, ...]:
        return tuple(m for m in self.mitigations if m.overdue)


@dataclass(frozen=True)
class SignalLine:
    name: str
    title: str
    value: str  # formatted in its unit, "n/a" when unknown
    limit: str  # "limit 100 ms", "ceiling 80%", "no threshold"
    status: str  # ok, breached, n/a, unavailable, no threshold
    change: str | None = None  # since the reading compared against (`MetricsFacts.compared_at`): "+12 ms"
    error: str | None = None
    trend: str | None = None  # the 7-day chart on its stated scale, as `bot.metrics.render.trend_text`


@dataclass(frozen=True)
class TriggerLine:
    title: str  # "p95 read latency"
    value: str
    limit: str
    action: str  # "evaluate a read replica"
    seed: str | None  # the article the rule comes from
    origin: str = "seed"  # whose limit: the seed's, the team's, `defaults` in the config, or the brief's
    excess: float = 0.0  # how far past its limit, as a fraction of the limit (0.8 = 80% past it)


@dataclass(frozen=True)
class HeadroomLine:
    title: str
    headroom: float  # the load multiple at which it breaks
    saturates: bool


@dataclass(frozen=True)
class MetricsFacts:
    source: str
    read_at: datetime
    signals: tuple[SignalLine, ...]
    triggers: tuple[TriggerLine, ...] = ()
    breaks_first: tuple[HeadroomLine, ...] = ()  # least headroom first, under 10x only
    least_headroom: HeadroomLine | None = None  # for the App Home, even above 10x
    errors: tuple[str, ...] = ()  # "metrics unavailable from <source>: <reason>"
    # p95 latency in seconds, one value per week, oldest first, this week last (None: no reading).
    p95_weeks: tuple[tuple[date, float | None], ...] = ()
    assumptions: str = ""
    # When the reading the changes are against was taken, and whether it was in the week before the
    # digest's (else there was no reading that week; None: no earlier reading at all).
    compared_at: datetime | None = None
    compared_last_week: bool = True
    # mrkdwn lines: values that point at a rule not checked, and the seed rules the signals cannot check
    # with the config line that enables each
    hints: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = ()


@dataclass(frozen=True)
class DebtFacts:
    unit: str
    sprint: str
    share: float  # the current sprint's share, 0..1
    share_text: str  # "24%"
    rolling: float
    rolling_text: str
    status: str  # under, in band, over (of the rolling figure)
    direction: str  # rising, falling, steady
    sparkline: str
    out_of_band_run: int = 0  # consecutive sprints out of band, ending with the current one
    stale: str | None = None  # the tracker import failed: the reason, with the last good figure shown
    trend: tuple[tuple[str, float], ...] = ()  # (sprint, share), oldest first


@dataclass(frozen=True)
class LaunchesFacts:
    """The team's launches in the next 30 days, one line each (what, when, multiple, thread)."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class CalibrationFacts:
    """How the team's pre-mortem predictions compared with what broke, in one line (None: nothing
    resolved yet and no surprise)."""

    line: str | None = None


@dataclass(frozen=True)
class TeamDigest:
    team: Team
    sections: Mapping[SectionKind, Section[object]] = field(default_factory=dict)

    def section(self, kind: SectionKind) -> Section[object]:
        return self.sections.get(kind) or Section(kind, note="not collected")

    def facts(self, kind: SectionKind, cls: type[F]) -> F | None:
        facts = self.section(kind).facts
        return facts if isinstance(facts, cls) else None
