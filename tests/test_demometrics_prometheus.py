"""The demo source's PromQL engine against a real Prometheus: the same generated history backfilled into
both, the same queries asked of both, the same answers within a tight tolerance.

The table holds every default query the bot sends (`bot/metrics/promql.py`) for both demo services, the
queries local mode configures, the documentation's PromQL examples, and queries that exercise the rest
of the subset (matchers, offset, subqueries, range functions, aggregations, operators and matching).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from bot.localdemo import team_metrics
from bot.metrics import promql
from demometrics.api import _render
from demometrics.engine import Engine, parse
from demometrics.history import BAD_DAY_BEFORE, DAY_MS, Stored, generate
from tests.fixtures_servers import missing_binary
from tests.servers import BinaryNotFound, PrometheusServer

pytestmark = pytest.mark.prometheus

STEP_MS = 120_000  # a coarser grid than the demo's minute keeps the backfill quick; the engine is the same
DAYS = 9
ANCHOR_MS = 1_790_000_000_000 - 1_790_000_000_000 % DAY_MS + 15 * 3_600_000 + 7 * 60_000  # 15:07 UTC
TEST_SERVER_SUBQUERY_STEP_MS = 3_600_000  # the test server's evaluation_interval (1h)


def _openmetrics(series: list[Stored]) -> str:
    by_name: dict[str, list[Stored]] = {}
    for s in series:
        by_name.setdefault(s.name, []).append(s)
    lines = []
    for name, group in by_name.items():
        lines.append(f"# TYPE {name} unknown")
        for s in group:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()) if k != "__name__")
            head = f"{name}{{{labels}}} "
            lines.extend(
                f"{head}{v!r} {t / 1000:.3f}" for t, v in zip(s.t.tolist(), s.v.tolist(), strict=True)
            )
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def history() -> list[Stored]:
    return generate(ANCHOR_MS, days=DAYS, ahead_ms=0, step_ms=STEP_MS)


def _queries() -> list[str]:
    out: list[str] = []
    for service in ("payments", "search"):
        sel = promql.selector(service, None)
        for name in promql.DEFAULT_QUERIES:
            query = promql.default_query(name, sel)
            assert query is not None
            out.append(query)
        out.append(promql.over(promql.service_up(sel), promql.AVAILABILITY_DAY))  # availability's daily trend
        for signal in team_metrics(service).signals.values():
            if signal.query:
                out.append(signal.query)
    out += [
        # docs/metrics.md's examples
        'max(pg_primary_write_utilisation{service="payments"})',
        'sum(pg_stat_activity_count{service="payments"}) / sum(pg_settings_max_connections{service="payments"})',
        'max(process_cpu_utilisation{service="payments"})',
        # the rest of the subset
        'up{service="payments",instance!="payments-1:8080"}',
        'http_requests_total{service="payments",code="500"}',
        "sum by (service) (http_request_duration_seconds_count)",
        'up{service!="search",instance=~"payments-[12]:.*"}',
        'count(up{job!~"search.*"})',
        'sum by (method, code) (increase(http_requests_total{service="payments"}[1h]))',
        'sum without (code, le) (irate(http_request_duration_seconds_count{service="search"}[10m]))',
        'delta(db_pool_utilisation{service="payments"}[30m])',
        'rate(http_requests_total{service="payments",method="POST",code="200"}[5m] offset 3h)',
        "max_over_time(db_pool_utilisation[6h])",
        'min_over_time(process_cpu_utilisation{service="search"}[2h])',
        'sum_over_time(up{service="payments"}[1h])',
        'count_over_time(up{service="payments"}[1h])',
        "quantile_over_time(0.9, db_pool_utilisation[3h])",
        'avg_over_time((max(up{service="payments"}))[1d:10m])',
        'max_over_time(sum(rate(http_requests_total{service="payments"}[5m]))[6h:15m] offset 1d)',
        'rate(http_requests_total{service="search",code="500"}[2h:])',
        "avg by (service) (process_cpu_utilisation)",
        "min without (instance) (process_cpu_utilisation)",
        "histogram_quantile(0.5, sum by (le, method) (rate(http_request_duration_seconds_bucket[10m])))",
        'histogram_quantile(0.99, rate(http_request_duration_seconds_bucket{service="search"}[5m]))',
        "vector(3) * 2 - 1",
        'scalar(max(db_pool_utilisation{service="payments"})) * 100',
        "clamp_min(db_pool_utilisation - 0.5, 0)",
        "clamp_max(abs(0.5 - db_pool_utilisation), 0.1)",
        "db_pool_utilisation > 0.3",
        "db_pool_utilisation > bool 0.3",
        "0.3 < db_pool_utilisation",
        "pg_stat_activity_count / on(service) pg_settings_max_connections",
        "pg_stat_activity_count / ignoring(job) pg_settings_max_connections",
        "pg_stat_activity_count >= bool on(service, job) pg_settings_max_connections",
        'up{service="payments"} == 0 or up{service="search"}',
        "up and on(instance) (process_cpu_utilisation > 0.2)",
        "up unless ignoring(__name__) (process_cpu_utilisation > 0.3)",
        "-(db_pool_utilisation ^ 2) % 0.3",
        "(1 + 2) * 3 >= bool 9",
    ]
    return out


QUERIES = _queries()


def _times() -> list[float]:
    bad_day = (ANCHOR_MS // DAY_MS - BAD_DAY_BEFORE) * DAY_MS
    down = bad_day + int(10.25 * 3_600_000)  # the service stops answering: no samples from then on
    grid = ANCHOR_MS - ANCHOR_MS % STEP_MS
    last = down - ((down - grid) % STEP_MS or STEP_MS)  # its last sample before the outage
    # now; between two samples; 4.5 and 5.5 minutes after the last sample (inside and outside the
    # 5-minute lookback); half an hour into the outage
    times = (ANCHOR_MS, ANCHOR_MS - 2 * 3_600_000 - 30_000, last + 270_000, last + 330_000, down + 1_800_000)
    return [t / 1000 for t in times]


def _close(a: str, b: str) -> bool:
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9)


def _same(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert ours["resultType"] == theirs["resultType"]
    if ours["resultType"] == "scalar":
        assert _close(ours["result"][1], theirs["result"][1])
        return
    key = "value" if ours["resultType"] == "vector" else "values"

    def by_labels(result: list[dict[str, Any]]) -> dict[tuple[tuple[str, str], ...], Any]:
        return {tuple(sorted(r["metric"].items())): r[key] for r in result}

    a, b = by_labels(ours["result"]), by_labels(theirs["result"])
    assert a.keys() == b.keys()
    for labels, points in a.items():
        pairs = [points] if key == "value" else points
        other = [b[labels]] if key == "value" else b[labels]
        assert [p[0] for p in pairs] == pytest.approx([p[0] for p in other]), labels
        assert all(_close(p[1], q[1]) for p, q in zip(pairs, other, strict=True)), (
            labels,
            pairs[:3],
            other[:3],
        )


@pytest.fixture(scope="module")
def engine(history: list[Stored]) -> Engine:
    return Engine(history, default_step_ms=TEST_SERVER_SUBQUERY_STEP_MS)


@pytest.mark.parametrize("query", QUERIES)
def test_an_instant_query_answers_what_prometheus_answers(
    query: str, engine: Engine, prometheus_server: PrometheusServer
) -> None:
    answered = 0
    for at in _times():
        theirs = prometheus_server.query(query, at)
        assert theirs["status"] == "success", theirs
        times = np.array([round(at * 1000)], np.int64)
        ours = _render(engine.evaluate(parse(query), times), times, False, 1)
        _same(ours, theirs["data"])
        answered += ours["resultType"] == "scalar" or len(ours["result"]) > 0
    # the history has no `feature` label; every other query has something to compare
    assert answered or "feature" in query


@pytest.mark.parametrize("query", QUERIES)
def test_a_range_query_answers_what_prometheus_answers(
    query: str, engine: Engine, prometheus_server: PrometheusServer
) -> None:
    for start, end, step in (
        (ANCHOR_MS - 7 * DAY_MS, ANCHOR_MS, 86_400_000),
        (ANCHOR_MS - 6 * 3_600_000, ANCHOR_MS, 600_000),
    ):
        theirs = prometheus_server.query_range(query, start / 1000, end / 1000, step / 1000)
        assert theirs["status"] == "success", theirs
        times = np.arange(start, end + 1, step, dtype=np.int64)
        ours = _render(engine.evaluate(parse(query), times), times, True, len(times))
        _same(ours, theirs["data"])


@pytest.fixture(scope="module")
def prometheus_server(history: list[Stored]) -> Iterator[PrometheusServer]:
    try:
        server = PrometheusServer()
    except BinaryNotFound as exc:
        missing_binary(str(exc))
    server.backfill(_openmetrics(history))
    yield server.start()
    server.close()
