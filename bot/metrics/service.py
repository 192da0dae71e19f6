"""Reading a team's signals: every query at one evaluation time, in parallel, cached and shared, each
judged against its threshold, projected to 10x and ranked. A failing source marks only its own signals.

`read_team_signals(rt, team, at=None)` is what other capabilities call (the pre-mortem's "data says",
the weekly digest).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.errors import UserError
from bot.metrics import promql
from bot.metrics.coverage import Hint, Unchecked, hints, read_latency_note, unchecked
from bot.metrics.projection import Measured, Projection, project
from bot.metrics.reading import SignalReading, read_signal
from bot.metrics.signals import Signal, resolve_signals
from bot.metrics.sources import Source, make_source
from bot.metrics.thresholds import LimitOrigin, Rule, breached
from storage import metrics as metrics_repo

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.teams import Team

log = logging.getLogger(__name__)

__all__ = [
    "MetricsNotConfigured",
    "SignalReading",
    "TeamReading",
    "Trigger",
    "on_reading",
    "read_team_signals",
]


class MetricsNotConfigured(UserError):
    """The team has no metrics source (or names one the file no longer declares)."""


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
    seed: str | None  # the article the trigger comes from (None: the team's own rule)
    subject: str | None = None  # the feature, for feature growth
    # Where `limit` comes from: the seed, the team's threshold or ceiling, the file's
    # `defaults.metrics.ceiling`, or the product brief's default ceiling (0.8).
    origin: LimitOrigin = "seed"


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
    unchecked: tuple[Unchecked, ...] = ()  # seed rules the team's signals cannot check
    hints: tuple[Hint, ...] = ()  # values that point at an unchecked rule (not triggers)

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


def _limit_origin(signal: Signal, rule: Rule) -> LimitOrigin:
    if rule.limit is None and signal.ceiling_origin is not None:  # saturation: breaks at its ceiling
        return signal.ceiling_origin
    return "seed" if rule.seed is not None else "team"


def _triggers(readings: tuple[SignalReading, ...]) -> tuple[Trigger, ...]:
    out = []
    for r in readings:
        rule, s = r.signal.rule, r.signal
        if rule is None or r.status != "breached":
            continue
        limit = rule.limit if rule.limit is not None else s.ceiling
        if limit is None:
            continue
        origin = _limit_origin(s, rule)
        if s.is_feature:
            for g in r.features:
                if breached(g.relative, rule.op, limit):
                    action = f"evaluate extracting {g.feature}"
                    out.append(
                        Trigger(
                            s.name,
                            s.title,
                            "rate",
                            g.relative,
                            rule.op,
                            limit,
                            action,
                            rule.seed,
                            g.feature,
                            origin,
                        )
                    )
        elif r.value is not None:
            out.append(
                Trigger(
                    s.name, s.title, s.kind, r.value, rule.op, limit, rule.trigger, rule.seed, origin=origin
                )
            )
    return tuple(out)


def _explained(r: SignalReading, sel: str) -> SignalReading:
    """A read-latency line with no data says what the default query needs."""
    note = read_latency_note(r.signal, sel) if r.note == "no data" else None
    return replace(r, note=note) if note else r


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
    # "Now" is floored so every reader within one TTL asks the same question; a time the caller chose
    # (the digest's) is read as given.
    when = evaluation_time(rt.clock.now(), ttl) if at is None else at
    signals = resolve_signals(metrics, rt.config.sources, defaults)
    sources = _sources(rt, signals)
    deadline = asyncio.get_running_loop().time() + defaults.answer_within_seconds
    readings = tuple(
        await asyncio.gather(*(read_signal(rt, s, sources[s.source], when, deadline, ttl) for s in signals))
    )
    sel = promql.selector(metrics.service, metrics.selector)
    readings = tuple(_explained(r, sel) for r in readings)
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
    reading = TeamReading(
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
        unchecked=unchecked(signals, rt.config.sources[metrics.source].kind == "prometheus"),
        hints=hints(readings),
    )
    for hook in tuple(_reading_hooks):
        try:
            await hook(rt, team, reading)
        except Exception:
            log.error("a reading hook failed", extra={"hook": getattr(hook, "__name__", "?")}, exc_info=True)
    return reading


ReadingHook = Callable[["Runtime", "Team", TeamReading], Awaitable[object]]
_reading_hooks: list[ReadingHook] = []


def on_reading(hook: ReadingHook) -> None:
    """Call `hook(rt, team, reading)` after every team reading (calibration watches ceilings this way)."""
    if hook not in _reading_hooks:
        _reading_hooks.append(hook)


async def store_snapshot(rt: Runtime, team: Team, reading: TeamReading) -> None:
    """Keep a reading that has any value, for the weekly comparisons (one with none is not kept)."""
    if not any(r.value is not None for r in reading.signals):
        return
    await rt.db.run(
        metrics_repo.save_snapshot,
        team.workspace_id,
        team.channel_id,
        team.name,
        reading.source,
        reading.read_at,
        reading.snapshot(),
    )


async def save_snapshot(rt: Runtime, team: Team, reading: TeamReading) -> None:
    """`store_snapshot` after an answer: a failure is only logged (the answer is out, and a lost
    snapshot only thins next week's comparison)."""
    try:
        await store_snapshot(rt, team, reading)
    except Exception:
        log.warning("could not store the metrics snapshot", extra={"team": team.key}, exc_info=True)
