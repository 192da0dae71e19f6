"""What a team's answer could not check: each seed rule without the signal it needs, with the one config
line that would enable it, and hints where a measured value points at an unchecked rule (a request p95
over the read-replica rule's 100 ms is a hint, not a breach: the rule is about read queries). Plain data,
no I/O; `bot.metrics.render` and the digest word it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.metrics import promql
from bot.metrics.reading import SignalReading
from bot.metrics.signals import Signal
from bot.metrics.thresholds import DEFAULT_RULES, READ_REPLICA_LIMIT

READ = "p95_read_latency"
REQUEST = "p95_latency"

# The seed rules a team's signals can check, in the order the answer lists them: the rule's short name
# and what is missing when the team has no such signal.
SEED_RULES: Sequence[tuple[str, str, str]] = (
    (READ, "read-replica rule", "no read-latency signal"),
    ("primary_write_utilisation", "write-sharding rule", "no signal for the primary's write utilisation"),
    ("feature_request_rate", "feature-extraction rule", "no per-feature request rate"),
    ("error_rate", "error-rate rule", "no error-rate signal"),
    ("availability", "availability rule", "no availability signal"),
)


@dataclass(frozen=True)
class Unchecked:
    """A seed rule the answer could not check: why, and the config line that enables it."""

    signal: str
    rule: str  # "read-replica rule"
    quote: str  # the seed's own words
    why: str
    add: str  # mrkdwn: the config line(s) under the team's `metrics.signals`
    seed: str | None = None  # the article the rule comes from (a seed file name; users read its title)


@dataclass(frozen=True)
class Hint:
    """A measured value that points at an unchecked rule (never a trigger)."""

    signal: Signal  # the signal measured
    value: float
    limit: float
    rule: str  # the rule it points at
    seed: str | None = None  # the article the rule comes from


def config_line(name: str, prometheus: bool) -> str:
    """What to add under the team's `metrics.signals` to check `name`'s rule."""
    if name == READ:
        own = '`p95_read_latency: {query: "<p95 of your read queries>"}`'
        if not prometheus:
            return own
        return f"`p95_read_latency: {{}}` (reads are requests labelled `method` GET or HEAD), or {own}"
    if name == "feature_request_rate" and prometheus:
        return "`feature_request_rate: {}` (requests labelled `feature`; `label: <name>` names another label)"
    if name == "primary_write_utilisation":
        return (
            '`primary_write_utilisation: {query: "<share of the primary\'s write capacity in use, 0 to 1>"}`'
        )
    if prometheus:  # a default signal the team turned off
        return f"`{name}: {{}}`"
    return f'`{name}: {{query: "…"}}`'


def unchecked(signals: Sequence[Signal], prometheus: bool) -> tuple[Unchecked, ...]:
    """The seed rules none of the team's signals can check."""
    have = {s.name for s in signals if s.query is not None}
    out = []
    for name, rule, why in SEED_RULES:
        if name in have:
            continue
        default = DEFAULT_RULES[name]
        out.append(Unchecked(name, rule, default.quote, why, config_line(name, prometheus), default.seed))
    return tuple(out)


def hints(readings: Sequence[SignalReading]) -> tuple[Hint, ...]:
    """A request p95 over 100 ms while read latency is not measured points at the read-replica rule."""
    by_name = {r.name: r for r in readings}
    request, read = by_name.get(REQUEST), by_name.get(READ)
    if request is None or request.value is None or request.value <= READ_REPLICA_LIMIT:
        return ()
    if read is not None and read.value is not None:
        return ()  # the rule itself was checked
    seed = DEFAULT_RULES[READ].seed
    return (Hint(request.signal, request.value, READ_REPLICA_LIMIT, "read-replica rule", seed),)


def read_latency_note(signal: Signal, sel: str) -> str | None:
    """Why the default read-latency query may find nothing: it needs the `method` label."""
    if signal.name != READ or signal.query != promql.default_query(READ, sel):
        return None
    return (
        "no data: the default query reads requests labelled `method` GET or HEAD; "
        'without that label give it `query: "<p95 of your read queries>"`'
    )
