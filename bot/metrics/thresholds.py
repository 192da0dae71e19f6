"""Default thresholds and the scaling triggers they name, from the seeds; and how a value is judged.

Each default cites the article it comes from (`../shared/seeds/`). A team may override a threshold per
signal (`threshold:` in the config file); an overridden threshold is "the team's", without a seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

SEED_001 = "001_9a79e61d27315dc6.txt"
SEED_004 = "004_26b48070c33732f0.txt"

Op = Literal[">", ">=", "<"]
# Where a limit comes from: a seed's default, the team's own threshold or ceiling, the config file's
# `defaults.metrics.ceiling`, or the product brief's default ceiling (0.8, "10x projection").
LimitOrigin = Literal["seed", "team", "defaults", "brief"]
CeilingOrigin = Literal["team", "defaults", "brief"]
Status = Literal["ok", "breached", "n/a", "unavailable", "no threshold"]

FEATURE_GROWTH = 10.0  # one feature grown 10x relative to the rest (004)


@dataclass(frozen=True)
class Rule:
    """A threshold: breached when `value op limit` (`limit` None: the signal's saturation ceiling)."""

    op: Op
    limit: float | None
    trigger: str  # what to do when breached
    seed: str | None  # the article the rule comes from; None for a team's own threshold
    quote: str = ""


# The one latency figure the seeds give for requests in general (001): users leave past 2 s. The 100 ms
# rule (004) is about read queries, so a request p95 is never judged against it (a hint points there).
REQUEST_LATENCY_QUOTE = (
    "Latency (p95, p99): Response time for key user actions or API calls. High latency kills user "
    "experience. Google found delays over 2 seconds cause massive bounce rates."
)
REQUEST_LATENCY_TRIGGER = "find the slow path before adding load (users leave past 2 s)"
READ_REPLICA_LIMIT = 0.100

# Quotes are the seeds' own words, so a reader can find the source of each rule.
DEFAULT_RULES: Mapping[str, Rule] = {
    "p95_latency": Rule(">", 2.0, REQUEST_LATENCY_TRIGGER, SEED_001, REQUEST_LATENCY_QUOTE),
    "p99_latency": Rule(">", 2.0, REQUEST_LATENCY_TRIGGER, SEED_001, REQUEST_LATENCY_QUOTE),
    "p95_read_latency": Rule(
        ">",
        READ_REPLICA_LIMIT,
        "evaluate a read replica",
        SEED_004,
        "if read query latency exceeds 100ms at p95, evaluate a read replica",
    ),
    "primary_write_utilisation": Rule(
        ">=",
        None,
        "evaluate write sharding or another data model",
        SEED_004,
        "If write throughput saturates the primary, evaluate write sharding or a different data model.",
    ),
    "error_rate": Rule(
        ">=",
        0.01,
        "find and fix what fails before adding load",
        SEED_001,
        "Error rate (%): Percentage of requests resulting in errors (e.g., 5xx server errors). "
        "Aim for well below 1%.",
    ),
    "availability": Rule(
        "<",
        0.999,
        "find what takes the service down before adding load",
        SEED_001,
        "Availability (uptime %): Percentage of time the service is operational (e.g., 99.9%, 99.99%).",
    ),
    "feature_request_rate": Rule(
        ">=",
        FEATURE_GROWTH,
        "evaluate extracting it",
        SEED_004,
        "If a specific feature's traffic grows 10x relative to the rest of the system, "
        "evaluate extracting it.",
    ),
}

# How a team's own threshold compares, by kind, when the name has no default rule.
KIND_OPS: Mapping[str, Op] = {"latency": ">", "ratio": ">=", "rate": ">", "saturation": ">="}


def rule_for(name: str, kind: str, threshold: float | None) -> Rule | None:
    """The rule a signal is judged by: the seed's default, the team's threshold, or none."""
    default = DEFAULT_RULES.get(name)
    if kind == "saturation":
        trigger = default.trigger if default else "add capacity or shed load before it saturates"
        return Rule(">=", None, trigger, default.seed if default else None, default.quote if default else "")
    if threshold is None:
        return default
    op = default.op if default else KIND_OPS[kind]
    if default is not None and default.limit == threshold:
        return default
    trigger = default.trigger if default else "find out why before adding load"
    return Rule(op, threshold, trigger, None)


def breached(value: float, op: Op, limit: float) -> bool:
    if op == ">":
        return value > limit
    if op == ">=":
        return value >= limit
    return value < limit


def judge(value: float | None, rule: Rule | None, ceiling: float | None) -> Status:
    """ok / breached / n/a (no number to judge) / no threshold."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if rule is None:
        return "no threshold"
    limit = rule.limit if rule.limit is not None else ceiling
    if limit is None:
        return "no threshold"
    return "breached" if breached(value, rule.op, limit) else "ok"


@dataclass(frozen=True)
class FeatureGrowth:
    """One feature's request rate, last 7 days against the 7 before, relative to the rest."""

    feature: str
    last_week: float  # average requests per second over the last 7 days
    previous_week: float
    growth: float  # last / previous (inf for a feature that is new)
    rest_growth: float  # the same for every other feature together
    relative: float  # growth / rest_growth


def feature_growth(last: Mapping[str, float], previous: Mapping[str, float]) -> list[FeatureGrowth]:
    """Each feature's growth relative to the rest, largest first (needs at least two features)."""
    features = sorted(set(last) | set(previous))
    if len(features) < 2:
        return []
    out = []
    for feature in features:
        now, before = last.get(feature, 0.0), previous.get(feature, 0.0)
        rest_now = sum(v for f, v in last.items() if f != feature)
        rest_before = sum(v for f, v in previous.items() if f != feature)
        if rest_before <= 0 or rest_now <= 0:
            continue  # the rest of the system is new or gone: no baseline to compare against
        growth = now / before if before > 0 else (math.inf if now > 0 else 1.0)
        rest = rest_now / rest_before
        out.append(FeatureGrowth(feature, now, before, growth, rest, growth / rest))
    return sorted(out, key=lambda g: (-g.relative, g.feature))
