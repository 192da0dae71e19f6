"""A team's signals: the reserved names and their kinds, and the config resolved into queries and rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.metrics import promql
from bot.metrics.config import MetricsDefaults, SignalConfig, SignalKind, SourceConfig, TeamMetricsConfig
from bot.metrics.thresholds import CeilingOrigin, Rule, rule_for

# Reserved names, each with its kind (and so its unit), in the order answers list them.
RESERVED: Mapping[str, SignalKind] = {
    "p95_latency": "latency",
    "p99_latency": "latency",
    "p95_read_latency": "latency",
    "error_rate": "ratio",
    "availability": "ratio",
    "request_rate": "rate",
    "primary_write_utilisation": "saturation",
    "feature_request_rate": "rate",
}
FEATURE_SIGNAL = "feature_request_rate"
DEFAULT_FEATURE_LABEL = "feature"

TITLES: Mapping[str, str] = {
    "p95_latency": "p95 latency",
    "p99_latency": "p99 latency",
    "p95_read_latency": "p95 read latency",
    "error_rate": "error rate",
    "availability": "availability",
    "request_rate": "request rate",
    "primary_write_utilisation": "primary write utilisation",
    "feature_request_rate": "feature request rates",
}


@dataclass(frozen=True)
class Signal:
    """One signal ready to read: where, which query, and what it is judged against."""

    name: str
    kind: SignalKind
    source: str
    query: str | None  # None: no query for this source (the answer says so)
    rule: Rule | None
    driven_by: str | None = None
    ceiling: float | None = None  # saturation signals only
    ceiling_origin: CeilingOrigin | None = None  # whose ceiling it is (saturation signals only)
    label: str | None = None  # feature_request_rate only
    # What the value covers: a duration ("over the last 5 minutes"), or None for the value at one instant.
    window: timedelta | None = None
    # Prometheus availability: the same measure over one day, read once a day for the trend.
    trend_query: str | None = None
    # Datadog and New Relic availability: the value is the time-weighted mean of the query's points over
    # `window` (one read of the history), not the query's value over the last few minutes.
    averaged: bool = False
    latest: bool = False  # the value is the latest point within `window` (Datadog), not an aggregate

    @property
    def title(self) -> str:
        return TITLES.get(self.name, self.name.replace("_", " "))

    @property
    def is_feature(self) -> bool:
        return self.name == FEATURE_SIGNAL

    @property
    def threshold(self) -> float | None:
        if self.rule is None:
            return None
        return self.rule.limit if self.rule.limit is not None else self.ceiling


def kind_of(name: str, config: SignalConfig) -> SignalKind | None:
    return RESERVED.get(name) or config.kind


def resolve_signals(
    metrics: TeamMetricsConfig, sources: Mapping[str, SourceConfig], defaults: MetricsDefaults
) -> list[Signal]:
    """The team's signals: the default set for Prometheus teams, then the ones the file names.

    Signals the config leaves incomplete (a custom name without a kind) are skipped here; the config
    checks report them at start-up.
    """
    team_source = sources.get(metrics.source)
    configured: dict[str, SignalConfig] = {}
    if metrics.default_signals and team_source is not None and team_source.kind == "prometheus":
        configured = {name: SignalConfig() for name in promql.DEFAULT_SET}
    configured.update(metrics.signals)
    order = {name: i for i, name in enumerate(RESERVED)}
    names = sorted(configured, key=lambda n: (order.get(n, len(order)), list(configured).index(n)))
    sel = promql.selector(metrics.service, metrics.selector)
    out = []
    for name in names:
        cfg = configured[name]
        kind = kind_of(name, cfg)
        if kind is None:
            continue
        source_name = cfg.source or metrics.source
        source = sources.get(source_name)
        label = (cfg.label or DEFAULT_FEATURE_LABEL) if name == FEATURE_SIGNAL else None
        query = cfg.query
        if query is None and source is not None and source.kind == "prometheus":
            query = promql.default_query(name, sel, label or DEFAULT_FEATURE_LABEL)
        window, trend_query, averaged = _coverage(name, query, cfg.query is not None, source, sel)
        latest = source is not None and source.kind == "datadog" and window is not None and not averaged
        if trend_query is not None and query is not None and window is not None:
            query = promql.over(cfg.query or promql.service_up(sel), window)
        ceiling_origin: CeilingOrigin | None = None
        if kind == "saturation":
            ceiling_origin = (
                "team"
                if cfg.ceiling is not None
                else ("defaults" if "ceiling" in defaults.model_fields_set else "brief")
            )
        out.append(
            Signal(
                name=name,
                kind=kind,
                source=source_name,
                query=query,
                rule=rule_for(name, kind, cfg.threshold),
                driven_by=cfg.driven_by if kind == "latency" else None,
                ceiling=(cfg.ceiling or defaults.ceiling) if kind == "saturation" else None,
                ceiling_origin=ceiling_origin,
                label=label,
                window=window,
                trend_query=trend_query,
                averaged=averaged,
                latest=latest,
            )
        )
    return out


# What a value read from Datadog or New Relic covers: the bot asks for the last 5 minutes (Datadog: its
# latest point in them; New Relic: the aggregate over them).
SOURCE_LOOKBACK = timedelta(minutes=5)


def _coverage(
    name: str, query: str | None, own: bool, source: SourceConfig | None, sel: str
) -> tuple[timedelta | None, str | None, bool]:
    """(the window the value covers, the daily trend query, whether the value is a mean over the
    window's history). Availability always covers the last 7 days: on Prometheus as a subquery (a team's
    own query too, unless it already reads 7 days or more), elsewhere as the mean of its history."""
    if query is None or source is None:
        return None, None, False
    week = promql.AVAILABILITY_WINDOW
    if source.kind != "prometheus":
        if name == "availability":
            return week, None, True
        return SOURCE_LOOKBACK, None, False
    covers = promql.window(query)
    if name == "availability" and (not own or covers is None or covers < week):
        base = query if own else promql.service_up(sel)
        return week, promql.over(base, promql.AVAILABILITY_DAY), False
    return covers, None, False
