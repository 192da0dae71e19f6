"""Metrics config checks, run at start-up and by `scalebot config check`: each problem names the file,
line and key, and says how to fix it (`check(config) -> [problem]`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot.configbase import shown
from bot.metrics import promql
from bot.metrics.config import SignalConfig, SourceConfig, TeamMetricsConfig
from bot.metrics.signals import FEATURE_SIGNAL, RESERVED, kind_of

if TYPE_CHECKING:
    from bot.config import AppConfig

Loc = tuple[str | int, ...]
_NRQL_TIME = re.compile(r"\b(SINCE|UNTIL|TIMESERIES)\b", re.IGNORECASE)


class _Where:
    """Turns a key path into `file:line: key` (the line of the nearest key the file has)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.lines: dict[Loc, int] = {}
        if path is not None:
            try:
                node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
            except (OSError, yaml.YAMLError):
                node = None
            if node is not None:
                self._walk(node, ())

    def _walk(self, node: yaml.Node, loc: Loc) -> None:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.lines[(*loc, key.value)] = key.start_mark.line + 1
                self._walk(value, (*loc, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, (*loc, i))

    def __call__(self, loc: Loc, problem: str) -> str:
        key = ""
        for part in loc:
            key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else part)
        if self.path is None:
            return f"{key}: {problem}"
        line = next((self.lines[loc[:end]] for end in range(len(loc), -1, -1) if loc[:end] in self.lines), 1)
        return f"{self.path}:{line}: {key}: {problem}"


def _declared(sources: dict[str, Any]) -> str:
    return ", ".join(sorted(sources)) or "none"


def _signal_problems(
    name: str, signal: SignalConfig, team: TeamMetricsConfig, sources: dict[str, SourceConfig]
) -> Iterator[tuple[Loc, str]]:
    reserved = RESERVED.get(name)
    if reserved and signal.kind and signal.kind != reserved:
        yield (
            ("kind",),
            f"{name} is a reserved {reserved} signal; remove `kind` or give the signal another name",
        )
    kind = kind_of(name, signal)
    if kind is None:
        yield (
            (),
            (
                f"{shown(name)} is not a reserved signal name ({', '.join(RESERVED)}); "
                "give it a kind: latency, ratio, rate or saturation"
            ),
        )
        return
    source_name = signal.source or team.source
    source = sources.get(source_name)
    if signal.source is not None and source is None:
        yield (
            ("source",),
            f"unknown source {shown(signal.source)} (declared under sources: {_declared(sources)})",
        )
    if signal.query is not None and not signal.query.strip():
        yield ("query",), "the query is empty; write one or remove the key to use the default"
    has_default = source is not None and source.kind == "prometheus" and name in promql.DEFAULT_QUERIES
    if signal.query is None and source is not None and not has_default:
        yield ("query",), f"there is no default query for {name} on {source.kind} source {shown(source_name)}"
    if source is not None and source.kind == "newrelic" and signal.query and _NRQL_TIME.search(signal.query):
        yield ("query",), "remove SINCE, UNTIL and TIMESERIES: the bot sets the time range of every query"
    if signal.ceiling is not None and kind != "saturation":
        yield (
            ("ceiling",),
            f"ceiling applies to saturation signals only; {name} is a {kind} signal (use threshold)",
        )
    if kind == "saturation" and signal.threshold is not None:
        yield (
            ("threshold",),
            (
                "a saturation signal breaks at its ceiling, a utilisation between 0 and 1; use `ceiling` instead"
            ),
        )
    if signal.driven_by is not None:
        driver = team.signals.get(signal.driven_by)
        if kind != "latency":
            yield ("driven_by",), f"driven_by applies to latency signals only; {name} is a {kind} signal"
        elif driver is None:
            saturation = sorted(n for n, c in team.signals.items() if kind_of(n, c) == "saturation")
            listed = f"one of {', '.join(saturation)}" if saturation else "one you add with kind: saturation"
            yield (
                ("driven_by",),
                f"no signal named {shown(signal.driven_by)} in this team; name a saturation signal ({listed})",
            )
        elif kind_of(signal.driven_by, driver) != "saturation":
            yield (
                ("driven_by",),
                (
                    f"driven_by must name a saturation signal; {signal.driven_by} is a "
                    f"{kind_of(signal.driven_by, driver) or 'kindless'} signal"
                ),
            )
    if signal.label is not None and name != FEATURE_SIGNAL:
        yield ("label",), f"label applies to {FEATURE_SIGNAL} only"
    t = signal.threshold
    if t is not None:
        if kind == "ratio" and not 0 < t <= 1:
            yield ("threshold",), "a ratio threshold is between 0 and 1 (0.01 is 1%, 0.999 is 99.9%)"
        elif kind == "latency" and t <= 0:
            yield ("threshold",), "a latency threshold is in seconds and above 0 (0.1 is 100 ms)"
        elif name == FEATURE_SIGNAL and t <= 1:
            yield ("threshold",), "the feature threshold is a growth factor above 1 (10 means 10x the rest)"


def check(config: AppConfig) -> list[str]:
    """Problems in the metrics parts of the file, all of them at once (the unknown team source that
    `bot.config` already refuses is not repeated)."""
    where = _Where(config.path)
    problems = []
    sources = dict(config.sources)
    for i, team in enumerate(config.teams):
        metrics = team.metrics
        if metrics is None:
            continue
        base: Loc = ("teams", i, "metrics")
        if metrics.service and metrics.selector:
            problems.append(where((*base, "selector"), "give service or selector, not both (selector wins)"))
        team_source = sources.get(metrics.source)
        if team_source is not None and team_source.kind != "prometheus" and not metrics.signals:
            problems.append(
                where(
                    (*base, "signals"),
                    f"{team_source.kind} has no default queries; list the team's signals with a query each",
                )
            )
        for name, signal in metrics.signals.items():
            for loc, problem in _signal_problems(name, signal, metrics, sources):
                problems.append(where((*base, "signals", name, *loc), problem))
    return problems
