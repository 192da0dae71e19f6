"""Reading a team's signals: every query at one evaluation time, in parallel, cached and shared, each
judged against its threshold, projected to 10x and ranked. A failing source marks only its own signals.

`read_team_signals(rt, team, at=None)` is what other capabilities call (the pre-mortem's "data says",
the weekly digest).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.errors import UserError
from bot.metrics import flight
from bot.metrics.projection import Measured, Projection, project
from bot.metrics.signals import Signal, resolve_signals
from bot.metrics.sources import Source, SourceError, make_source
from bot.metrics.sources.base import Result
from bot.metrics.thresholds import FeatureGrowth, Status, breached, feature_growth, judge

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.teams import Team

TREND = timedelta(days=7)
TREND_STEP = timedelta(days=1)
WEEK = timedelta(days=7)
FEATURE_STEP = timedelta(hours=1)


class MetricsNotConfigured(UserError):
    """The team has no metrics source (or names one the file no longer declares)."""


@dataclass(frozen=True)
class SignalReading:
    signal: Signal
    value: float | None  # None: no number to show ("n/a"; `note` or `error` says why)
    status: Status
    note: str | None = None
    error: str | None = None  # "metrics unavailable from <source>: <reason>"
    trend: tuple[float | None, ...] = ()  # one value a day for the last 7 days, oldest first, now last
    features: tuple[FeatureGrowth, ...] = ()  # feature_request_rate only, largest relative growth first
    warnings: tuple[str, ...] = ()
    cached: bool = False

    @property
    def name(self) -> str:
        return self.signal.name


@dataclass(frozen=True)
class Trigger:
    """A breached threshold and what the seed says to do about it."""

    signal: str
    title: str
    kind: str
    value: float
    op: str
    limit: float
    action: str
    seed: str | None  # None: the team's own threshold
    subject: str | None = None  # the feature, for feature growth


@dataclass(frozen=True)
class TeamReading:
    team: str
    workspace_id: str
    channel_id: str
    source: str  # the team's source
    source_kinds: Mapping[str, str]  # every source read: name -> kind
    read_at: datetime  # the evaluation time of every query
    signals: tuple[SignalReading, ...]
    projection: Projection
    triggers: tuple[Trigger, ...]
    errors: Mapping[str, str] = field(default_factory=dict)  # source -> the first reason it failed
    cache_ttl: float = 0.0

    @property
    def breaks_first(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.projection.breaks_first)

    def get(self, name: str) -> SignalReading | None:
        return next((s for s in self.signals if s.name == name), None)

    def values(self) -> dict[str, float | None]:
        return {s.name: s.value for s in self.signals if not s.signal.is_feature}

    def snapshot(self) -> dict[str, dict[str, float | str | None]]:
        """What the weekly snapshot keeps: each signal's value (features: the top relative growth)."""
        return {s.name: {"value": s.value, "status": s.status} for s in self.signals}


def evaluation_time(at: datetime, ttl: float) -> datetime:
    """`at` floored to the cache TTL, so every reader within one TTL asks the same question."""
    seconds = math.floor(at.timestamp())
    if ttl >= 1:
        seconds -= seconds % int(ttl)
    return datetime.fromtimestamp(seconds, UTC)


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


def _plain(signal: Signal, result: Result, at: datetime, ranged: bool, cached: bool) -> SignalReading:
    many = _one_series(signal, result)
    if many is not None:
        return many
    points = result.series[0].points if result.series else ()
    trend: tuple[float | None, ...] = ()
    current = points[-1] if points else None
    if ranged:
        by_time = {round(t): v for t, v in points}
        start = at - TREND
        days = int(TREND / TREND_STEP)
        trend = tuple(
            _finite(by_time[k]) if (k := round((start + i * TREND_STEP).timestamp())) in by_time else None
            for i in range(days + 1)
        )
        # A range read has a point at `at` only when an instant query at `at` has data.
        current = points[-1] if points and round(points[-1][0]) == round(at.timestamp()) else None
    if current is None:
        return SignalReading(
            signal, None, "n/a", note="no data", trend=trend, warnings=result.warnings, cached=cached
        )
    value = _finite(current[1])
    note = None if value is not None else _non_finite_note(current[1])
    status = judge(value, signal.rule, signal.ceiling)
    return SignalReading(
        signal, value, status, note=note, trend=trend, warnings=result.warnings, cached=cached
    )


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


def _triggers(readings: tuple[SignalReading, ...]) -> tuple[Trigger, ...]:
    out = []
    for r in readings:
        rule, s = r.signal.rule, r.signal
        if rule is None or r.status != "breached":
            continue
        limit = rule.limit if rule.limit is not None else s.ceiling
        if limit is None:
            continue
        if s.is_feature:
            for g in r.features:
                if breached(g.relative, rule.op, limit):
                    action = f"evaluate extracting {g.feature}"
                    out.append(
                        Trigger(
                            s.name, s.title, "rate", g.relative, rule.op, limit, action, rule.seed, g.feature
                        )
                    )
        elif r.value is not None:
            out.append(Trigger(s.name, s.title, s.kind, r.value, rule.op, limit, rule.trigger, rule.seed))
    return tuple(out)


async def _read_one(
    rt: Runtime, signal: Signal, source: Source | str, at: datetime, deadline: float, ttl: float
) -> SignalReading:
    if isinstance(source, str):  # the reason the source could not be built
        return SignalReading(
            signal, None, "unavailable", error=f"metrics unavailable from {signal.source}: {source}"
        )
    if signal.query is None:
        note = f"no query ({source.kind} has no default for {signal.name}; the operator adds one)"
        return SignalReading(signal, None, "n/a", note=note)
    if signal.is_feature:
        ask = flight.Ask(signal.query, at, 2 * WEEK, FEATURE_STEP)
    elif source.has_history:
        ask = flight.Ask(signal.query, at, TREND, TREND_STEP)
    else:
        ask = flight.Ask(signal.query, at)

    def count(outcome: str) -> None:
        rt.telemetry.source_queries.labels(source=source.kind, outcome=outcome).inc()

    remaining = deadline - asyncio.get_running_loop().time()
    try:
        result, cached = await asyncio.wait_for(
            flight.fetch(source, ask, rt.cache, ttl, count), max(remaining, 0.01)
        )
    except SourceError as exc:
        return SignalReading(
            signal, None, "unavailable", error=f"metrics unavailable from {source.name}: {exc.reason}"
        )
    except TimeoutError:
        reason = f"no answer within {rt.config.defaults.metrics.answer_within_seconds:g} s"
        return SignalReading(
            signal, None, "unavailable", error=f"metrics unavailable from {source.name}: {reason}"
        )
    if signal.is_feature:
        return _features(signal, result, at, cached)
    return _plain(signal, result, at, ask.history is not None, cached)


def _sources(rt: Runtime, signals: list[Signal]) -> dict[str, Source | str]:
    """Each source the signals read from, or why it cannot be read."""
    out: dict[str, Source | str] = {}
    defaults = rt.config.defaults.metrics
    for name in {s.source for s in signals}:
        config = rt.config.sources.get(name)
        if config is None:
            out[name] = "not configured"
            continue
        try:
            out[name] = make_source(name, config, rt.config.secret, defaults)
        except KeyError:  # a config built without loading its credentials from the environment
            out[name] = f"its credentials are not loaded (see sources.{name})"
    return out


async def read_team_signals(rt: Runtime, team: Team, at: datetime | None = None) -> TeamReading:
    """Read, judge and project every signal of `team` at `at` (default now), within the configured
    answer time; raises `MetricsNotConfigured` when the team has no usable metrics section."""
    metrics = team.metrics
    if metrics is None:
        raise MetricsNotConfigured(
            f"{team.name} has no metrics source yet. An operator adds one under the team's `metrics:` in "
            "the config file, or an admin picks one with `/scale-check setup`."
        )
    if metrics.source not in rt.config.sources:
        raise MetricsNotConfigured(
            f"{team.name} reads metrics from {metrics.source!r}, which the config file no longer declares; "
            "ask the operator to add it under `sources:` or pick another with `/scale-check setup`."
        )
    defaults = rt.config.defaults.metrics
    ttl = defaults.cache_ttl_seconds
    when = evaluation_time(at or rt.clock.now(), ttl)
    signals = resolve_signals(metrics, rt.config.sources, defaults)
    sources = _sources(rt, signals)
    deadline = asyncio.get_running_loop().time() + defaults.answer_within_seconds
    readings = tuple(
        await asyncio.gather(*(_read_one(rt, s, sources[s.source], when, deadline, ttl) for s in signals))
    )
    projection = project(
        [
            Measured(r.name, r.signal.kind, r.value, r.signal.threshold, r.signal.driven_by, r.signal.ceiling)
            for r in readings
            if not r.signal.is_feature
        ],
        ceiling=defaults.ceiling,
    )
    errors: dict[str, str] = {}
    for r in readings:
        if r.error is not None:
            errors.setdefault(r.signal.source, r.error.split(": ", 1)[-1])
    return TeamReading(
        team=team.name,
        workspace_id=team.workspace_id,
        channel_id=team.channel_id,
        source=metrics.source,
        source_kinds={name: src.kind for name, src in sources.items() if not isinstance(src, str)},
        read_at=when,
        signals=readings,
        projection=projection,
        triggers=_triggers(readings),
        errors=errors,
        cache_ttl=ttl,
    )
