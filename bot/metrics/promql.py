"""The default Prometheus query set: what a team gets without writing PromQL, query by query overridable.

The queries assume the common instrumentation: a `http_request_duration_seconds` histogram and a
`http_requests_total` counter with a `code` label (and `method`, `feature` where used), and `up` for the
service's scrape targets. Series are selected with `service="<service>"` or the team's `selector`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

Builder = Callable[[str, str], str]  # (selector, label) -> PromQL


def label_value(value: str) -> str:
    """A PromQL string literal for a label value (the service name may come from the setup modal)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def selector(service: str | None, raw: str | None) -> str:
    """The label matchers (without braces) that select one team's series."""
    if raw:
        return raw.strip().strip("{}").strip()
    if service:
        return f"service={label_value(service)}"
    return ""


def _braces(*matchers: str) -> str:
    inner = ",".join(m for m in matchers if m)
    return "{" + inner + "}" if inner else ""


def _quantile(q: float, *extra: str) -> Builder:
    def build(sel: str, _label: str) -> str:
        buckets = f"http_request_duration_seconds_bucket{_braces(sel, *extra)}"
        return f"histogram_quantile({q}, sum by (le) (rate({buckets}[5m])))"

    return build


SERVER_ERRORS = 'code=~"5.."'


def _error_rate(sel: str, _label: str) -> str:
    errors = f"http_requests_total{_braces(sel, SERVER_ERRORS)}"
    total = f"http_requests_total{_braces(sel)}"
    return f"sum(rate({errors}[5m])) / sum(rate({total}[5m]))"


# Availability is the seed's "percentage of time the service is operational" (001), over the last 7 days:
# the share of minutes in which the service was up. `max(up{…})` is 1 in a minute when any of the
# service's targets answered its scrape, so a replica that is dead all week does not count against the
# service while another serves, and three targets count as one service (an average over targets would
# read 66.7% for a service that never stopped answering). The `[7d:1m]` subquery evaluates that once a
# minute and `avg_over_time` takes the share. A failed scrape records `up` 0, so a minute the service was
# down counts; a minute without any `up` sample (Prometheus itself was not scraping, or the targets had
# left service discovery) has no value in the subquery and counts neither way: nothing was measured.
# Each subquery step looks back 5 minutes like any instant query, so a scrape interval up to that still
# gives every minute a sample. The daily trend is the same expression over `[1d:1m]`, one point a day.
AVAILABILITY_WINDOW = timedelta(days=7)
AVAILABILITY_DAY = timedelta(days=1)
SUBQUERY_STEP = "1m"


def duration(window: timedelta) -> str:
    """A PromQL duration: 7d, 1d, 5m, 30s."""
    seconds = int(window.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def over(expr: str, window: timedelta) -> str:
    """The mean of `expr` evaluated once a minute over `window` (a subquery)."""
    return f"avg_over_time(({expr})[{duration(window)}:{SUBQUERY_STEP}])"


def service_up(sel: str) -> str:
    """1 in a minute when any of the service's targets is up, 0 when all are down."""
    return f"max(up{_braces(sel)})"


def _availability(sel: str, _label: str) -> str:
    return over(service_up(sel), AVAILABILITY_WINDOW)


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_RANGE = re.compile(r"\[\s*((?:\d+(?:ms|[smhdwy]))+)\s*(?::[^\]]*)?\]")
_PART = re.compile(r"(\d+)(ms|[smhdwy])")


def window(query: str) -> timedelta | None:
    """The longest range or subquery range a PromQL query reads (`[5m]`, `[7d:1m]`); None for a query
    that reads only instants."""
    longest = None
    for match in _RANGE.finditer(query):
        seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(match[1]))
        found = timedelta(seconds=seconds)
        longest = found if longest is None or found > longest else longest
    return longest


def _request_rate(sel: str, _label: str) -> str:
    return f"sum(rate(http_requests_total{_braces(sel)}[5m]))"


def _feature_rate(sel: str, label: str) -> str:
    has_feature = f'{label}!=""'
    return f"sum by ({label}) (rate(http_requests_total{_braces(sel, has_feature)}[5m]))"


DEFAULT_QUERIES: dict[str, Builder] = {
    "p95_latency": _quantile(0.95),
    "p99_latency": _quantile(0.99),
    "p95_read_latency": _quantile(0.95, 'method=~"GET|HEAD"'),
    "error_rate": _error_rate,
    "availability": _availability,
    "request_rate": _request_rate,
    "feature_request_rate": _feature_rate,
}

# What a Prometheus team reads without listing any signal (p95_read_latency and feature rates need
# labels not every service has, so a team names them to get them).
DEFAULT_SET = ("p95_latency", "p99_latency", "error_rate", "availability", "request_rate")


def default_query(name: str, sel: str, label: str = "feature") -> str | None:
    build = DEFAULT_QUERIES.get(name)
    return build(sel, label) if build else None
