"""The 7-day trend and the value at the evaluation time, from the points a source returned for a range.

Sources place range points differently: Prometheus at exactly `start + i·step`; Thanos (with
`--query-range.align-range-with-step`) and VictoriaMetrics at multiples of the step, so the last one can
fall hours before the evaluation time; Datadog at the start of each rollup bucket; New Relic at the end of
each TIMESERIES bucket. A day of the trend therefore takes the points of the step that ends at it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise

from bot.metrics.sources.base import Point

# Prometheus sends times with millisecond precision; a point this close to a time is at that time.
EPSILON = 0.001


def point_at(points: Sequence[Point], at: datetime) -> Point | None:
    """The point at `at` (within a millisecond), or None when the range has none there."""
    when = at.timestamp()
    return next((p for p in reversed(points) if abs(p[0] - when) <= EPSILON), None)


def daily(
    points: Sequence[Point], at: datetime, span: timedelta, step: timedelta
) -> tuple[float | None, ...]:
    """One value per step from `at - span` to `at`, oldest first: the mean of the finite points in
    `(t - step, t]` for each time t, or None when there are none."""
    end, size = at.timestamp(), step.total_seconds()
    count = int(span / step)
    out: list[float | None] = []
    for i in range(count + 1):
        t = end - (count - i) * size
        inside = [v for p, v in points if t - size + EPSILON < p <= t + EPSILON and math.isfinite(v)]
        out.append(sum(inside) / len(inside) if inside else None)
    return tuple(out)


# Sources whose range points stand at the start of their bucket (the rest stand at its end).
STAMPED_AT_START = frozenset({"datadog"})


def _spacing(points: Sequence[Point], step: timedelta) -> float:
    """The bucket size the points stand for: their usual spacing (a source may roll up to another
    interval than the one asked, e.g. Datadog for a query it cannot roll up), else `step`."""
    gaps = sorted(b[0] - a[0] for a, b in pairwise(points) if b[0] > a[0])
    return gaps[len(gaps) // 2] if gaps else step.total_seconds()


def mean_over(
    points: Sequence[Point], start: datetime, end: datetime, step: timedelta, stamped_at_start: bool
) -> float | None:
    """The time-weighted mean over `[start, end]` of points that each stand for one bucket (`step`, or
    the points' usual spacing when it differs):
    each finite point weighs the part of its bucket inside the window (a bucket without a value, or
    with NaN, counts neither way). None when no bucket with a value overlaps the window."""
    low, high, size = start.timestamp(), end.timestamp(), _spacing(points, step)
    total = weight = 0.0
    for t, v in points:
        if not math.isfinite(v):
            continue
        first, last = (t, t + size) if stamped_at_start else (t - size, t)
        inside = min(last, high) - max(first, low)
        if inside > EPSILON:
            total += v * inside
            weight += inside
    return total / weight if weight > 0 else None


def days_over(
    points: Sequence[Point], at: datetime, days: int, step: timedelta, stamped_at_start: bool
) -> tuple[float | None, ...]:
    """The time-weighted mean of each of the `days` days ending at `at`, oldest first."""
    day = timedelta(days=1)
    return tuple(
        mean_over(points, at - (days - i) * day, at - (days - i - 1) * day, step, stamped_at_start)
        for i in range(days)
    )
