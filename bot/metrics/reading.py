"""Reading one signal: the value at the evaluation time and, where the source keeps history, the 7-day
trend; judged against its threshold. Each read is shared with concurrent askers and cached (`flight`).

Prometheus answers both with one range query whose last point is at the evaluation time. When a server
aligns the range to the step (Thanos with `--query-range.align-range-with-step`, VictoriaMetrics) or the
range has no point there, an instant query at that time gives the value. Datadog and New Relic range
points are rollup buckets, so their value always comes from an instant read, sent with the range read.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.metrics import flight
from bot.metrics.model import SignalReading
from bot.metrics.projection import is_utilisation
from bot.metrics.signals import Signal
from bot.metrics.sources import Source, SourceError, SourceRateLimited
from bot.metrics.sources.base import Point, Result
from bot.metrics.thresholds import Status, feature_growth, judge
from bot.metrics.trend import STAMPED_AT_START, daily, days_over, mean_over, point_at

if TYPE_CHECKING:
    from bot.runtime import Runtime

TREND = timedelta(days=7)
TREND_STEP = timedelta(days=1)
WEEK = timedelta(days=7)
FEATURE_STEP = timedelta(hours=1)
# Datadog and New Relic availability: the window read an hour a bucket (168 points for a week), averaged.
AVERAGE_STEP = timedelta(hours=1)
STALE = "(stale)"  # ends the warning on a figure kept from before a source's rate limit


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _non_finite_note(v: float) -> str:
    return "NaN" if math.isnan(v) else ("+Inf" if v > 0 else "-Inf")


def _one_series(signal: Signal, result: Result) -> SignalReading | None:
    if len(result.series) > 1:
        return SignalReading(
            signal,
            None,
            "n/a",
            note=f"the query returns {len(result.series)} series; aggregate it to one (sum, max…)",
            warnings=result.warnings,
        )
    return None


def _points(result: Result) -> tuple[Point, ...]:
    return result.series[0].points if result.series else ()


def _latest(result: Result) -> Point | None:
    points = _points(result)
    return points[-1] if points else None


def _merged(*warnings: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for group in warnings for w in group))


def out_of_range_note(signal: Signal, value: float) -> str | None:
    """Why a saturation value cannot be used (a utilisation is a fraction in [0, 1]), or None."""
    if signal.kind != "saturation" or is_utilisation(value):
        return None
    hint = "; is the query in percent?" if value > 1 else ""
    return f"got {value:g}; a utilisation must be between 0 and 1{hint}"


def _plain(
    signal: Signal,
    current: Point | None,
    trend: tuple[float | None, ...],
    warnings: tuple[str, ...],
    cached: bool,
    ends_with_value: bool = True,
) -> SignalReading:
    if trend and ends_with_value:  # the trend ends at the value shown, whichever read it came from
        trend = (*trend[:-1], _finite(current[1]) if current is not None else None)
        if signal.kind == "saturation":  # a day in percent is no more a utilisation than today is
            trend = tuple(v if v is None or is_utilisation(v) else None for v in trend)
    if current is None:
        return SignalReading(
            signal, None, "n/a", note="no data", trend=trend, warnings=warnings, cached=cached
        )
    value = _finite(current[1])
    note = None if value is not None else _non_finite_note(current[1])
    if value is not None and (note := out_of_range_note(signal, value)) is not None:
        value = None
    status = judge(value, signal.rule, signal.ceiling)
    return SignalReading(signal, value, status, note=note, trend=trend, warnings=warnings, cached=cached)


def _features(signal: Signal, result: Result, at: datetime, cached: bool) -> SignalReading:
    split = (at - WEEK).timestamp()
    start = (at - 2 * WEEK).timestamp()
    last: dict[str, float] = {}
    previous: dict[str, float] = {}
    for series in result.series:
        name = series.labels.get(signal.label or "feature") or series.labels.get("facet") or "(none)"
        recent = [v for t, v in series.points if t > split and math.isfinite(v)]
        before = [v for t, v in series.points if start < t <= split and math.isfinite(v)]
        if recent:
            last[name] = sum(recent) / len(recent)
        if before:
            previous[name] = sum(before) / len(before)
    growth = tuple(feature_growth(last, previous))
    if not growth:
        note = "needs at least two features with two weeks of history"
        return SignalReading(signal, None, "n/a", note=note, warnings=result.warnings, cached=cached)
    top = growth[0].relative
    value = top if math.isfinite(top) else None
    status: Status = judge(value, signal.rule, None) if value is not None else "breached"
    return SignalReading(
        signal,
        value,
        status,
        note=None if value is not None else "a new feature",
        features=growth,
        warnings=result.warnings,
        cached=cached,
    )


class _Unavailable(Exception):
    """A read that gave no result; `error` is the line to show instead of the value."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


async def _fetch(
    rt: Runtime, source: Source, ask: flight.Ask, deadline: float, ttl: float
) -> tuple[Result, bool]:
    """One shared, cached read within the answer's deadline; raises `_Unavailable`."""

    def count(outcome: str) -> None:
        rt.telemetry.source_queries.labels(source=source.kind, outcome=outcome).inc()

    remaining = deadline - asyncio.get_running_loop().time()
    try:
        async with asyncio.timeout(max(remaining, 0.01)):
            return await flight.fetch(source, ask, rt.cache, ttl, count)
    except SourceRateLimited as exc:  # the last good figure, marked stale, with when to ask again
        last = await flight.last_good(source, ask, rt.cache)
        if last is None:
            raise _Unavailable(f"metrics unavailable from {source.name}: {exc.reason}") from None
        result, read_at = last
        stale = f"{exc.reason}; showing the figure read {read_at:%Y-%m-%d %H:%M} UTC {STALE}"
        return Result(result.series, (*result.warnings, stale)), True
    except SourceError as exc:
        raise _Unavailable(f"metrics unavailable from {source.name}: {exc.reason}") from None
    except TimeoutError:
        reason = f"no answer within {rt.config.defaults.metrics.answer_within_seconds:g} s"
        raise _Unavailable(f"metrics unavailable from {source.name}: {reason}") from None


async def _read_daily(
    rt: Runtime, signal: Signal, source: Source, at: datetime, deadline: float, ttl: float
) -> SignalReading:
    """A value over a window of days (Prometheus availability): the value from an instant read of the
    window's query, the trend from the one-day query read once a day (each point the day before it)."""
    assert signal.query is not None and signal.trend_query is not None
    now, week = await asyncio.gather(
        _fetch(rt, source, flight.Ask(signal.query, at), deadline, ttl),
        _fetch(rt, source, flight.Ask(signal.trend_query, at, TREND, TREND_STEP), deadline, ttl),
        return_exceptions=True,
    )
    if isinstance(now, BaseException):
        raise now
    result, cached = now
    many = _one_series(signal, result)
    if many is not None:
        return many
    if isinstance(week, BaseException):
        if not isinstance(week, _Unavailable):
            raise week
        reason = week.error.split(": ", 1)[-1]
        warnings = _merged(result.warnings, (f"no daily trend for {signal.title}: {reason}",))
        return _plain(signal, _latest(result), (), warnings, cached)
    history, cached_week = week
    days = daily(_points(history), at, TREND, TREND_STEP)[1:] if len(history.series) == 1 else ()
    warnings = _merged(result.warnings, history.warnings)
    return _plain(signal, _latest(result), days, warnings, cached and cached_week, ends_with_value=False)


async def _read_averaged(
    rt: Runtime, signal: Signal, source: Source, query: str, at: datetime, deadline: float, ttl: float
) -> SignalReading:
    """A value over a window of days from a source whose range points are buckets (Datadog, New Relic):
    one read of the window an hour a bucket; the value is the time-weighted mean over the whole window,
    the trend the same mean day by day."""
    window = signal.window or TREND
    ask = flight.Ask(query, at, window, AVERAGE_STEP)
    history, cached = await _fetch(rt, source, ask, deadline, ttl)
    many = _one_series(signal, history)
    if many is not None:
        return many
    points, at_start = _points(history), source.kind in STAMPED_AT_START
    value = mean_over(points, at - window, at, AVERAGE_STEP, at_start)
    days = days_over(points, at, round(window / timedelta(days=1)), AVERAGE_STEP, at_start)
    current = None if value is None else (at.timestamp(), value)
    return _plain(signal, current, days, history.warnings, cached, ends_with_value=False)


async def _read_plain(
    rt: Runtime, signal: Signal, source: Source, query: str, at: datetime, deadline: float, ttl: float
) -> SignalReading:
    """The value at `at` and, from a source with history, the 7-day trend (see the module's docstring)."""
    instant = flight.Ask(query, at)
    if not source.has_history:
        result, cached = await _fetch(rt, source, instant, deadline, ttl)
        return _one_series(signal, result) or _plain(signal, _latest(result), (), result.warnings, cached)
    ranged = flight.Ask(query, at, TREND, TREND_STEP)
    if source.range_ends_with_value:
        history, cached = await _fetch(rt, source, ranged, deadline, ttl)
        many = _one_series(signal, history)
        if many is not None:
            return many
        trend = daily(_points(history), at, TREND, TREND_STEP)
        current = point_at(_points(history), at)
        if current is None and any(w.endswith(STALE) for w in history.warnings):
            current = _latest(history)  # a rate limit: the last good range's value stands, stale
        if current is not None:
            return _plain(signal, current, trend, history.warnings, cached)
        result, cached_now = await _fetch(rt, source, instant, deadline, ttl)
        warnings = _merged(history.warnings, result.warnings)
        return _one_series(signal, result) or _plain(
            signal, _latest(result), trend, warnings, cached and cached_now
        )
    now, week = await asyncio.gather(
        _fetch(rt, source, instant, deadline, ttl),
        _fetch(rt, source, ranged, deadline, ttl),
        return_exceptions=True,
    )
    if isinstance(now, BaseException):
        raise now
    if isinstance(week, BaseException) and not isinstance(week, _Unavailable):
        raise week
    result, cached = now
    many = _one_series(signal, result)
    if many is not None:
        return many
    if isinstance(week, _Unavailable):  # the value stands without its trend
        reason = week.error.split(": ", 1)[-1]
        warnings = _merged(result.warnings, (f"no 7-day trend for {signal.title}: {reason}",))
        return _plain(signal, _latest(result), (), warnings, cached)
    history, cached_week = week
    trend = daily(_points(history), at, TREND, TREND_STEP) if len(history.series) == 1 else ()
    warnings = _merged(result.warnings, history.warnings)
    return _plain(signal, _latest(result), trend, warnings, cached and cached_week)


async def read_signal(
    rt: Runtime, signal: Signal, source: Source | str, at: datetime, deadline: float, ttl: float
) -> SignalReading:
    """`signal` read from `source` (or the reason the source could not be built) at `at`, giving up at
    `deadline` (event-loop time); never raises for a source's failure, which becomes the line's error."""
    if isinstance(source, str):  # the reason the source could not be built
        return SignalReading(
            signal, None, "unavailable", error=f"metrics unavailable from {signal.source}: {source}"
        )
    if signal.query is None:
        note = f"no query ({source.kind} has no default for {signal.name}; the operator adds one)"
        return SignalReading(signal, None, "n/a", note=note)
    try:
        if signal.is_feature:
            ask = flight.Ask(signal.query, at, 2 * WEEK, FEATURE_STEP)
            result, cached = await _fetch(rt, source, ask, deadline, ttl)
            return _features(signal, result, at, cached)
        if signal.averaged and source.has_history:
            return await _read_averaged(rt, signal, source, signal.query, at, deadline, ttl)
        if signal.trend_query is not None and source.has_history:
            return await _read_daily(rt, signal, source, at, deadline, ttl)
        return await _read_plain(rt, signal, source, signal.query, at, deadline, ttl)
    except _Unavailable as exc:
        return SignalReading(signal, None, "unavailable", error=exc.error)
