"""Checking predictions against what broke, as plain values: which outcome a prediction's component
matches, how a prediction resolves, and a team's calibration record (top-1 and top-3 hit rates, the
surprises, a Brier score over the predictions that carry a likelihood).

- *happened*: an outcome on the prediction's component between the prediction and its horizon;
- *not observed*: its horizon passed without one;
- *open*: neither yet;
- a *surprise*: an outcome on a component no prediction was watching at the time.

A withdrawn outcome counts for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.premortem.datasays import GENERIC
from bot.premortem.grouping import words

DEFAULT_HORIZON_DAYS = 90
TOP = 3

Resolution = Literal["happened", "not_observed", "open"]


@dataclass(frozen=True)
class Prediction:
    id: int
    component: str
    place: int  # 1 = voted the top risk
    made_at: datetime
    horizon_at: datetime
    likelihood: float | None = None  # the leads' stated probability, when they gave one
    signal: str | None = None  # the metric that would show it breaking


@dataclass(frozen=True)
class Outcome:
    id: int
    component: str
    at: datetime
    source: str  # alertmanager | incident | ceiling
    reporter: str  # a Slack user id (incident), "alertmanager: <alertname>", "metrics: <signal>"
    withdrawn: bool = False
    signal: str | None = None  # for a ceiling crossing: the signal that crossed
    note: str = ""
    withdrawn_by: str | None = None


@dataclass(frozen=True)
class Resolved:
    prediction: Prediction
    resolution: Resolution
    outcome: Outcome | None = None  # the outcome that made it happen


@dataclass(frozen=True)
class Record:
    """A team's calibration: what its resolved predictions say about its pre-mortems."""

    team: str
    resolved: tuple[Resolved, ...]
    surprises: tuple[str, ...]  # components, first seen first, each once
    horizon_days: int | None  # the one horizon every resolved prediction had, else None

    def _of(self, places: int) -> list[Resolved]:
        return [r for r in self.resolved if r.resolution != "open" and r.prediction.place <= places]

    @property
    def top1(self) -> tuple[int, int]:
        done = self._of(1)
        return sum(r.resolution == "happened" for r in done), len(done)

    @property
    def top3(self) -> tuple[int, int]:
        done = self._of(TOP)
        return sum(r.resolution == "happened" for r in done), len(done)

    @property
    def open(self) -> int:
        return sum(r.resolution == "open" for r in self.resolved)

    @property
    def brier(self) -> tuple[float, int] | None:
        """The mean squared gap between stated likelihood and what happened, and over how many."""
        scored = [
            (r.prediction.likelihood, 1.0 if r.resolution == "happened" else 0.0)
            for r in self.resolved
            if r.resolution != "open" and r.prediction.likelihood is not None
        ]
        if not scored:
            return None
        return sum((p - o) ** 2 for p, o in scored) / len(scored), len(scored)

    @property
    def empty(self) -> bool:
        return not self.resolved and not self.surprises


def meaningful(name: str) -> frozenset[str]:
    return words(name) - GENERIC


def same_component(outcome: str, predicted: str) -> bool:
    """An outcome is on a predicted component when all of one's meaningful words are in the other's:
    "database" matches "Database write throughput"; "search index" does not match "search API"."""
    a, b = meaningful(outcome), meaningful(predicted)
    return bool(a) and bool(b) and (a <= b or b <= a)


def matches(outcome: Outcome, prediction: Prediction) -> bool:
    if outcome.signal is not None and prediction.signal is not None:
        return outcome.signal == prediction.signal
    return same_component(outcome.component, prediction.component)


def watching(prediction: Prediction, at: datetime) -> bool:
    return prediction.made_at <= at <= prediction.horizon_at


def resolve(prediction: Prediction, outcomes: Iterable[Outcome], now: datetime) -> Resolved:
    hits = sorted(
        (o for o in outcomes if not o.withdrawn and watching(prediction, o.at) and matches(o, prediction)),
        key=lambda o: o.at,
    )
    if hits:
        return Resolved(prediction, "happened", hits[0])
    if now >= prediction.horizon_at:
        return Resolved(prediction, "not_observed")
    return Resolved(prediction, "open")


def surprises(predictions: Sequence[Prediction], outcomes: Iterable[Outcome]) -> tuple[str, ...]:
    """Components of outcomes that no prediction was watching when they broke, each once."""
    found: dict[str, str] = {}
    for o in sorted(outcomes, key=lambda o: o.at):
        if o.withdrawn or o.source == "ceiling":  # a ceiling crossing is always on a predicted signal
            continue
        if any(watching(p, o.at) and matches(o, p) for p in predictions):
            continue
        found.setdefault(" ".join(sorted(words(o.component))), " ".join(o.component.split()))
    return tuple(found.values())


def record(
    team: str, predictions: Sequence[Prediction], outcomes: Sequence[Outcome], now: datetime
) -> Record:
    resolved = tuple(
        resolve(p, outcomes, now) for p in sorted(predictions, key=lambda p: (p.made_at, p.place))
    )
    spans = {
        round((r.prediction.horizon_at - r.prediction.made_at) / timedelta(days=1))
        for r in resolved
        if r.resolution != "open"
    }
    return Record(team, resolved, surprises(predictions, outcomes), spans.pop() if len(spans) == 1 else None)


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def line(rec: Record) -> str | None:
    """One line for `/scale-check history`, the App Home and the digest (plain text, not escaped):
    "Payments' pre-mortems: 3 of 4 top risks happened within 90 days; 1 surprise: search index"."""
    if rec.empty:
        return None
    head = f"{possessive(rec.team)} pre-mortems: "
    hit, done = rec.top3
    if done:
        within = f"within {rec.horizon_days} days" if rec.horizon_days else "within their horizons"
        parts = [f"{hit} of {done} top risks happened {within}"]
        hit1, done1 = rec.top1
        if done1:
            parts[0] += f" (the top one: {hit1} of {done1})"
    else:
        parts = ["no top risk resolved yet"]
    if rec.open:
        parts[0] += f", {rec.open} still open"
    if rec.surprises:
        n = len(rec.surprises)
        parts.append(f"{n} surprise{'s' if n != 1 else ''}: {', '.join(rec.surprises)}")
    brier = rec.brier
    if brier is not None:
        score, over = brier
        parts.append(f"Brier score {score:.2f} over {over} stated likelihood{'s' if over != 1 else ''}")
    return head + "; ".join(parts)


def horizon(made_at: datetime, days: int = DEFAULT_HORIZON_DAYS, until: datetime | None = None) -> datetime:
    """When a prediction resolves as not observed: `until` (a launch's T+30) when given, else `days` on."""
    return until if until is not None else made_at + timedelta(days=days)


def group_likelihood(stated: Iterable[float | None]) -> float | None:
    """A risk several leads named: the mean of the likelihoods they gave (None when nobody gave one)."""
    given = [p for p in stated if p is not None]
    return sum(given) / len(given) if given else None
