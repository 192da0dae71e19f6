"""The 10x projection (product brief, "10x projection"): plain arithmetic, no I/O.

- A saturation signal is a utilisation u in [0, 1]; at load multiple k it is k·u; it breaks at its safe
  ceiling c (default 0.8); its headroom is c / u.
- A latency signal may name the saturation signal that drives it; at multiple k its value is
  measured × (1 − u) / (1 − k·u) (M/M/1); it "saturates" when k·u ≥ 1; its headroom is the k at which
  it crosses its threshold (with no threshold, the k at which it saturates, 1 / u).
- Error rate, availability and request rates are reported against thresholds but not ranked.
- "Breaks first at 10x" is the list of ranked signals with headroom under 10, least first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

DEFAULT_K = 10.0
DEFAULT_CEILING = 0.8
ASSUMPTIONS = (
    "Assumes load scales linearly with users and requests, and each resource is independent of the others."
)


@dataclass(frozen=True)
class Measured:
    """A measured signal as the projection needs it (kind: saturation, latency, ratio or rate)."""

    name: str
    kind: str
    value: float | None
    threshold: float | None = None  # latency: the value it must stay under
    driven_by: str | None = None  # latency: the saturation signal behind it
    ceiling: float | None = None  # saturation: the safe ceiling (None: the default)


@dataclass(frozen=True)
class Headroom:
    """How far one signal is from breaking: the load multiple it can take (`headroom`), and at k."""

    name: str
    kind: str
    current: float
    headroom: float  # the load multiple at which it breaks (inf: never)
    at_k: float | None  # the projected value at k (None: saturates)
    saturates: bool  # at k the resource (or the one driving this latency) is at or past 100%
    limit: float | None  # the ceiling or threshold it breaks at (None: only saturation)
    driven_by: str | None = None


@dataclass(frozen=True)
class Projection:
    k: float
    ranked: tuple[Headroom, ...]  # every projected signal, least headroom first
    unprojected: tuple[str, ...] = ()  # latency signals without a driving saturation signal
    assumptions: str = ASSUMPTIONS
    breaks_first: tuple[Headroom, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "breaks_first", tuple(h for h in self.ranked if h.headroom < self.k))


def headroom(utilisation: float, ceiling: float = DEFAULT_CEILING) -> float:
    """Utilisation headroom c / u: the load multiple at which a resource reaches its safe ceiling."""
    if utilisation <= 0:
        return math.inf
    return ceiling / utilisation


def projected_latency(latency: float, utilisation: float, k: float) -> float | None:
    """M/M/1: latency × (1 − u) / (1 − k·u); None when k·u ≥ 1 (the resource saturates)."""
    if k * utilisation >= 1:
        return None
    return latency * (1 - utilisation) / (1 - k * utilisation)


def latency_headroom(latency: float, utilisation: float, threshold: float | None) -> float:
    """The load multiple k at which the M/M/1 latency reaches `threshold` (0 if already past it at no
    load); with no threshold, the multiple at which it saturates (1 / u)."""
    if utilisation <= 0:
        return math.inf
    if threshold is None:
        return 1 / utilisation
    if threshold <= 0:
        return 0.0
    # latency (1 − u) / (1 − k u) = T  ⇔  k = (1 − latency (1 − u) / T) / u
    return max(0.0, (1 - latency * (1 - utilisation) / threshold) / utilisation)


def _usable(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value >= 0


def is_utilisation(value: float | None) -> bool:
    """A usable saturation reading: a fraction in [0, 1] (80 is a percentage, not a utilisation)."""
    return _usable(value) and value is not None and value <= 1


def project(
    readings: Sequence[Measured], k: float = DEFAULT_K, ceiling: float = DEFAULT_CEILING
) -> Projection:
    """Project every saturation signal and every driven latency signal to k times the load, ranked by
    headroom, least first (ties by name). Signals without a usable value are left out, and so is a
    saturation value outside [0, 1] (the service shows it as n/a)."""
    saturation = {
        m.name: m
        for m in readings
        if m.kind == "saturation" and is_utilisation(m.value) and m.value is not None
    }
    ranked: list[Headroom] = []
    for m in saturation.values():
        u = float(m.value or 0.0)
        c = m.ceiling if m.ceiling is not None else ceiling
        load = k * u
        ranked.append(Headroom(m.name, "saturation", u, headroom(u, c), load, load >= 1, c))
    unprojected = []
    for m in readings:
        if m.kind != "latency" or not _usable(m.value) or m.value is None:
            continue
        driver = saturation.get(m.driven_by or "")
        if driver is None:
            unprojected.append(m.name)
            continue
        u = float(driver.value or 0.0)
        at_k = projected_latency(m.value, u, k)
        ranked.append(
            Headroom(
                m.name,
                "latency",
                m.value,
                latency_headroom(m.value, u, m.threshold),
                at_k,
                at_k is None,
                m.threshold,
                driver.name,
            )
        )
    ranked.sort(key=lambda h: (h.headroom, h.name))
    return Projection(k=k, ranked=tuple(ranked), unprojected=tuple(unprojected))
