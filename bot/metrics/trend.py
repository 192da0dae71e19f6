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
