"""The default Prometheus query set: what a team gets without writing PromQL, query by query overridable.

The queries assume the common instrumentation: a `http_request_duration_seconds` histogram and a
`http_requests_total` counter with a `code` label (and `method`, `feature` where used), and `up` for the
service's scrape targets. Series are selected with `service="<service>"` or the team's `selector`.
"""

from __future__ import annotations

from collections.abc import Callable

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


def _availability(sel: str, _label: str) -> str:
    return f"avg(up{_braces(sel)})"


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
