"""The tech-debt band, exactly as the product brief states it ("Tech-debt band", capability 4).

- share of a sprint = debt part / capacity;
- rolling figure = total debt part / total capacity of the last three sprints;
- the band is inclusive, 20% to 30% (`002_…` FAQ 4: "often 20–30%"; `001_…`: "about 20% of sprint
  capacity");
- "out of band" counts consecutive sprints outside it, in either direction;
- the current sprint is the one whose dates contain today, else the latest one that has started (a
  planned sprint is not counted until it starts).

Plain values in, plain values out: no Slack, no database. Shares are exact fractions so that 20% and 30%
are in the band however the figures were typed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Literal

from bot.sparkline import bars

BAND_LOW = Fraction(20, 100)
BAND_HIGH = Fraction(30, 100)
ROLLING_SPRINTS = 3
TREND_SPRINTS = 8
# The sparkline's scale: 0% to 50%, so the band sits in the middle and the bars compare across answers.
SPARK_CEILING = Fraction(50, 100)
# A trend moving less than this many percentage points a sprint is "steady".
STEADY_POINTS = 1.0

Direction = Literal["rising", "falling", "steady"]


class Status(StrEnum):
    UNDER = "under"
    IN_BAND = "in band"
    OVER = "over"


@dataclass(frozen=True)
class Sprint:
    """A sprint's winning figures (its latest write), as the rules need them."""

    id: int
    name: str
    capacity: Decimal
    debt: Decimal
    unit: str
    starts: date | None = None
    ends: date | None = None
    created: datetime = datetime(1970, 1, 1, tzinfo=UTC)

    @property
    def share(self) -> Fraction:
        return share(self.debt, self.capacity)

    @property
    def status(self) -> Status:
        return status_of(self.share)

    def contains(self, day: date) -> bool:
        return self.starts is not None and self.ends is not None and self.starts <= day <= self.ends


def share(debt: Decimal, capacity: Decimal) -> Fraction:
    """Debt part over capacity, exactly."""
    if capacity <= 0:
        raise ValueError("capacity must be more than 0")
    return Fraction(debt) / Fraction(capacity)


def status_of(value: Fraction) -> Status:
    """Under, in band (20% and 30% included) or over."""
    if value < BAND_LOW:
        return Status.UNDER
    if value > BAND_HIGH:
        return Status.OVER
    return Status.IN_BAND


def _anchor(sprint: Sprint) -> tuple[date, datetime, int]:
    day = sprint.starts or sprint.ends or sprint.created.date()
    return (day, sprint.created, sprint.id)


def chronological(sprints: Iterable[Sprint]) -> list[Sprint]:
    """Oldest first: by start date (else end date, else the day it was first recorded)."""
    return sorted(sprints, key=_anchor)


def has_started(sprint: Sprint, today: date) -> bool:
    """A sprint without a start date (undated, or a milestone with only a due date) counts as started."""
    return sprint.starts is None or sprint.starts <= today


def current_sprint(sprints: Iterable[Sprint], today: date) -> Sprint | None:
    """The sprint whose dates contain today (the latest-starting one if several do), else the latest one
    that has started: between two sprints that is the one just ended, not the next, planned one. None when
    no sprint has started yet."""
    ordered = chronological(sprints)
    containing = [s for s in ordered if s.contains(today)]
    if containing:
        return containing[-1]
    started = [s for s in ordered if has_started(s, today)]
    return started[-1] if started else None


def planned_starts(sprints: Iterable[Sprint], today: date) -> list[date]:
    """The start dates after today, earliest first: the days a planned sprint becomes current."""
    return sorted({s.starts for s in sprints if s.starts is not None and s.starts > today})


def up_to_current(sprints: Iterable[Sprint], today: date) -> list[Sprint]:
    """The sprints up to and including the current one, oldest first (later, planned sprints excluded)."""
    ordered = chronological(sprints)
    current = current_sprint(ordered, today)
    if current is None:
        return []
    return ordered[: ordered.index(current) + 1]


@dataclass(frozen=True)
class Rolling:
    """The rolling figure over the last (up to) three sprints."""

    share: Fraction
    sprints: tuple[Sprint, ...]
    debt: Decimal | None  # totals; None when the sprints use different units
    capacity: Decimal | None
    unit: str | None

    @property
    def status(self) -> Status:
        return status_of(self.share)

    @property
    def mixed_units(self) -> bool:
        return self.unit is None


def rolling(history: Sequence[Sprint], n: int = ROLLING_SPRINTS) -> Rolling | None:
    """Total debt over total capacity of the last `n` sprints of `history` (oldest first).

    Points and hours cannot be added together: when the sprints use different units, the figure is the
    mean of their shares instead, and `unit` is None so the answer can say so.
    """
    window = tuple(history[-n:])
    if not window:
        return None
    units = {s.unit for s in window}
    if len(units) == 1:
        debt = sum((s.debt for s in window), Decimal(0))
        capacity = sum((s.capacity for s in window), Decimal(0))
        return Rolling(share(debt, capacity), window, debt, capacity, window[0].unit)
    mean = sum((s.share for s in window), Fraction(0)) / len(window)
    return Rolling(mean, window, None, None, None)


def out_of_band_run(history: Sequence[Sprint]) -> tuple[Sprint, ...]:
    """The consecutive sprints out of band (under or over) ending with the last one of `history`."""
    run: list[Sprint] = []
    for sprint in reversed(history):
        if sprint.status is Status.IN_BAND:
            break
        run.append(sprint)
    return tuple(reversed(run))


NudgedSprint = tuple[int, str]  # (sprint id, the sprint's status when its run was nudged: under or over)


def nudge_marks(run: Sequence[Sprint]) -> tuple[NudgedSprint, ...]:
    """What a nudge of `run` records: each sprint with the direction it was out of band in."""
    return tuple((s.id, s.status.value) for s in run)


def nudge_due(run: Sequence[Sprint], nudge_after: int, nudged: Iterable[NudgedSprint]) -> bool:
    """A run of at least `nudge_after` sprints gets one nudge. It is the same run as one nudged before if
    it holds a sprint of that run still out of band in the same direction, so a sprint corrected or
    back-filled out of band before it (which moves its first sprint) does not make it new."""
    return len(run) >= nudge_after and not set(nudge_marks(run)) & set(nudged)


def trend(history: Sequence[Sprint], n: int = TREND_SPRINTS) -> tuple[Sprint, ...]:
    return tuple(history[-n:])


def direction(shares: Sequence[Fraction]) -> Direction:
    """Least-squares slope of the shares: rising or falling by at least a point a sprint, else steady."""
    if len(shares) < 2:
        return "steady"
    xs = range(len(shares))
    mean_x = sum(xs) / len(shares)
    ys = [float(s) * 100 for s in shares]
    mean_y = sum(ys) / len(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    if slope >= STEADY_POINTS:
        return "rising"
    if slope <= -STEADY_POINTS:
        return "falling"
    return "steady"


def sparkline(shares: Sequence[Fraction], ceiling: Fraction = SPARK_CEILING) -> str:
    """One bar per share on a fixed 0–50% scale (a share at or above the ceiling is the full bar)."""
    return bars([float(s) for s in shares], 0.0, float(ceiling))


def percent(value: Fraction) -> str:
    """24%, 19.6%: as few decimals as say the truth, so 19.96% never reads as an in-band "20%"."""
    for digits in range(1, 4):
        shown = round(value * 100, digits)
        if status_of(Fraction(shown) / 100) is status_of(value) or digits == 3:
            text = f"{float(shown):.{digits}f}"
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            return f"{text}%"
    raise AssertionError("unreachable")  # pragma: no cover


def next_sprint_dates(sprint: Sprint) -> tuple[date, date] | None:
    """The dates of the sprint after `sprint`: the day after it ends, for as long as it lasted."""
    if sprint.starts is None or sprint.ends is None:
        return None
    length = sprint.ends - sprint.starts
    starts = sprint.ends + timedelta(days=1)
    return starts, starts + length


@dataclass(frozen=True)
class Allocation:
    """A team's tech-debt allocation today: what the answer, the nudge and the digest show."""

    current: Sprint
    history: tuple[Sprint, ...]  # up to and including the current sprint, oldest first
    rolling: Rolling
    run: tuple[Sprint, ...]  # the out-of-band run ending with the current sprint (may be empty)
    trend: tuple[Sprint, ...]  # the last eight sprints, oldest first
    direction: Direction

    @property
    def status(self) -> Status:
        """The band status of the rolling figure."""
        return self.rolling.status

    @property
    def sparkline(self) -> str:
        return sparkline([s.share for s in self.trend])


def allocation(sprints: Iterable[Sprint], today: date) -> Allocation | None:
    """Everything the rules say about a team's sprints today (None before the first sprint)."""
    history = up_to_current(sprints, today)
    figure = rolling(history)
    if not history or figure is None:
        return None
    recent = trend(history)
    return Allocation(
        current=history[-1],
        history=tuple(history),
        rolling=figure,
        run=out_of_band_run(history),
        trend=recent,
        direction=direction([s.share for s in recent]),
    )
