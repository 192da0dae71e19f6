"""What a metrics reading is: each signal's value and status, the breached triggers, the team's reading.

Plain values shared by the reader (reading.py, service.py) and the renderers, so a render module needs
nothing that reads a source, the cache or the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.metrics.coverage import Hint, Unchecked
from bot.metrics.projection import Projection
from bot.metrics.signals import Signal
from bot.metrics.thresholds import FeatureGrowth, LimitOrigin, Status


@dataclass(frozen=True)
class SignalReading:
    signal: Signal
    value: float | None  # None: no number to show ("n/a"; `note` or `error` says why)
    status: Status
    note: str | None = None
    error: str | None = None  # "metrics unavailable from <source>: <reason>"
    # One value a day, oldest first: the value at each of the last 8 days' ends (now last), or for a
    # signal read over a window of days (availability), the value over each of those days.
    trend: tuple[float | None, ...] = ()
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
