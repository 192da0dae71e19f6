"""A team's tech-debt record as the answers show it: sprints with every write, imports, nudges, plans.

Plain dataclasses, built from storage rows by `bot/debt/service.py` and rendered by `bot/debt/render.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from bot.debt import band

Source = Literal["slack", "jira_cloud", "jira_datacenter", "linear", "github"]

SOURCE_NAMES: dict[str, str] = {
    "slack": "Slack",
    "jira_cloud": "Jira Cloud",
    "jira_datacenter": "Jira Data Center",
    "linear": "Linear",
    "github": "GitHub",
}


@dataclass(frozen=True)
class Entry:
    """One write to a sprint: typed in Slack or imported; who or what wrote it, and when."""

    id: int
    capacity: Decimal
    debt: Decimal
    unit: str
    source: str
    author: str  # a Slack user id for typed writes, the tracker's name for imports
    recorded_at: datetime
    starts: date | None = None
    ends: date | None = None
    note: str | None = None
    typed: str | None = None
    issues: int | None = None
    unestimated: int | None = None
    unestimated_rule: str | None = None  # "skipped" or "counted as 3 points"

    @property
    def share(self) -> Fraction:
        return band.share(self.debt, self.capacity)

    @property
    def imported(self) -> bool:
        return self.source != "slack"


@dataclass(frozen=True)
class SprintRecord:
    """A sprint and its writes, oldest first; the latest write wins whether typed or imported."""

    id: int
    name: str
    starts: date | None
    ends: date | None
    created_at: datetime
    entries: tuple[Entry, ...]

    @property
    def latest(self) -> Entry:
        return self.entries[-1]

    @property
    def corrections(self) -> int:
        """How many writes the latest one replaced."""
        return len(self.entries) - 1

    def figures(self) -> band.Sprint:
        latest = self.latest
        return band.Sprint(
            id=self.id,
            name=self.name,
            capacity=latest.capacity,
            debt=latest.debt,
            unit=latest.unit,
            starts=self.starts,
            ends=self.ends,
            created=self.created_at,
        )


@dataclass(frozen=True)
class ImportStatus:
    """The last import of a team: fine, or stale with the reason (the last good figure stays)."""

    tracker: str
    kind: str
    stale: bool
    reason: str | None
    last_attempt_at: datetime
    last_success_at: datetime | None
    sprint_name: str | None
    issues: int | None
    unestimated: int | None
    unestimated_rule: str | None


@dataclass(frozen=True)
class Nudge:
    """The one message a run of out-of-band sprints gets, and what the team did about it."""

    id: int
    channel_id: str
    run_start_sprint_id: int
    run_names: str
    run_length: int
    direction: str  # under, over, or outside (some of each)
    message_ts: str | None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    fixit_by: str | None = None
    fixit_at: datetime | None = None
    fixit_starts: date | None = None
    fixit_ends: date | None = None
    fixit_after: str | None = None  # the sprint the Fix-It sprint follows
    sprints: tuple[band.NudgedSprint, ...] = ()  # the run's sprints, each with its direction then

    @property
    def fixit_planned(self) -> bool:
        return self.fixit_at is not None


@dataclass(frozen=True)
class TeamDebt:
    """Everything about a team's tech-debt capacity today: what the answer and the digest show."""

    team_name: str
    channel_id: str
    unit: str
    today: date
    sprints: tuple[SprintRecord, ...]  # oldest first
    allocation: band.Allocation | None
    import_status: ImportStatus | None
    fixits: tuple[Nudge, ...]  # planned Fix-It sprints not yet over
    run_nudge: Nudge | None  # the nudge of the current out-of-band run, if it got one
    nudged: frozenset[band.NudgedSprint] = frozenset()  # every nudged sprint, with its direction then

    def record(self, sprint_id: int) -> SprintRecord:
        return next(s for s in self.sprints if s.id == sprint_id)

    @property
    def current(self) -> SprintRecord | None:
        if self.allocation is None:
            return None
        return self.record(self.allocation.current.id)
