""" "Data says": the team's signals ranked by 10x headroom beside the leads' opinions, and where they agree.

A signal matches a risk when the team's config says which component the signal measures
(`premortem.signal_components`), or else when the two names share a meaningful word ("db_connections"
and "Database connection pool" share "database"). Then, per ranked signal:

- agree: the data says it breaks before 10x and a lead named it;
- data only: the data says it breaks before 10x and no lead named it;
- leads only: a lead named it but the data shows 10x headroom or more.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from bot.premortem.grouping import Group, words
from bot.premortem.model import DataSays, SignalView

K = 10.0
# Words that say how something is measured rather than what it is; they never make a match on their own.
GENERIC = frozenset(
    {
        "utilisation", "utilization", "usage", "used", "saturation", "rate", "ratio", "latency", "p50",
        "p90", "p95", "p99", "percent", "pct", "count", "total", "the", "of", "and", "a", "an", "for",
        "to", "in", "on", "at", "our", "layer", "service", "services", "system", "capacity", "load",
        "time", "seconds", "ms", "requests", "request", "errors", "error", "primary", "max", "avg",
    }
)  # fmt: skip

Verdict = Literal["agree", "data_only", "leads_only", "neutral"]


@dataclass(frozen=True)
class Mark:
    signal: SignalView
    groups: tuple[Group, ...]  # the risks it matches
    verdict: Verdict


def _meaningful(name: str) -> frozenset[str]:
    return words(name) - GENERIC


def matches(signal: str, group: Group, mapping: Mapping[str, str]) -> bool:
    if signal in mapping:
        wanted = words(mapping[signal])
        return bool(wanted) and wanted <= words(group.title)
    return bool(_meaningful(signal) & _meaningful(group.title))


def compare(data: DataSays | None, groups: Iterable[Group], mapping: Mapping[str, str]) -> list[Mark]:
    """One mark per ranked signal, in the data's order (least headroom first)."""
    if data is None:
        return []
    groups = list(groups)
    marks = []
    for signal in data.signals:
        matched = tuple(g for g in groups if matches(signal.name, g, mapping))
        if signal.breaks_first:
            verdict: Verdict = "agree" if matched else "data_only"
        else:
            verdict = "leads_only" if matched else "neutral"
        marks.append(Mark(signal, matched, verdict))
    return marks


def marks_for(group: Group, marks: Iterable[Mark]) -> list[Mark]:
    return [m for m in marks if any(g.id == group.id for g in m.groups)]


def headroom_text(signal: SignalView) -> str:
    if signal.headroom is None or math.isinf(signal.headroom):
        return "no limit in sight"
    return f"{signal.headroom:.1f}x headroom"


def value_shown(signal: SignalView) -> str:
    """The value as the metrics answer shows it ("82% now"); a bare number "now" in older records."""
    return signal.shown or f"{signal.current:.4g} now"


def signal_view(
    name: str, title: str, kind: str, current: float, headroom: float, k: float = K, shown: str = ""
) -> SignalView:
    return SignalView(
        name=name,
        title=title,
        kind=kind,
        current=current,
        headroom=None if math.isinf(headroom) else headroom,
        breaks_first=headroom < k,
        shown=shown,
    )
