"""Datadog and New Relic against local fakes that speak their documented shapes and check what the bot
sent; every documented Prometheus response shape parsed."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import AppConfig, load_config
from bot.metrics import render
from bot.metrics.service import read_team_signals
from bot.metrics.sources import SourceError
from bot.metrics.sources.prometheus import parse_response
from tests.conftest import remember_secret
from tests.helpers.metrics_fakes import (
    DD_API_KEY,
    DD_APP_KEY,
    NR_ACCOUNT,
    NR_USER_KEY,
    FakeApi,
    datadog_server,
    mini_runtime,
    newrelic_server,
    nr_rows,
    team_with,
)

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WEEK = 7 * 86400
SPLIT = AT.timestamp() - WEEK

DD_P95 = "p95:trace.http.request{service:payments}"
DD_ERRORS = "sum:trace.http.request.errors{service:payments}.as_count() / sum:trace.http.request.hits{service:payments}.as_count()"
DD_DB = "avg:postgresql.percent_usage_connections{service:payments}"
DD_FEATURES = "sum:trace.http.request.hits{service:payments} by {feature}.as_rate()"

NR_P95 = "SELECT percentile(duration, 95) FROM Transaction WHERE appName = 'payments'"
NR_AVAILABILITY = "SELECT filter(count(*), WHERE error IS false) / count(*) FROM SyntheticCheck WHERE monitorName = 'payments'"
NR_FEATURES = "SELECT rate(count(*), 1 second) FROM Transaction WHERE appName = 'payments' FACET feature"
NR_BROKEN = "SELEKT nothing"


def weekly(before: float, after: float) -> Any:
    return lambda t: after if t > SPLIT else before


@pytest.fixture
def datadog() -> Iterator[FakeApi]:
    series = {
        DD_P95: {"": lambda t: 0.180 if t > AT.timestamp() - 60 else 0.1},
        DD_ERRORS: {"": lambda t: None if t == AT.timestamp() else 0.002},  # the latest point is null
        DD_DB: {"": lambda t: 0.45},
        DD_FEATURES: {
            "feature:checkout": weekly(50, 55),
            "feature:search": weekly(5, 60),
            "feature:refunds": weekly(10, 10),
        },
    }
    with datadog_server(series) as api:
        yield api


def nr_features(nrql: str) -> list[dict[str, Any]]:
    rows = []
    until = int(nrql.split(" UNTIL ")[1].split()[0]) / 1000
    for hour in range(14 * 24):
        end = until - 14 * 86400 + (hour + 1) * 3600
        for feature, (before, after) in {
            "checkout": (50, 55),
            "search": (5, 60),
            "refunds": (10, 10),
        }.items():
            rate = after if end > SPLIT else before
            rows.append(
                {
                    "beginTimeSeconds": end - 3600,
                    "endTimeSeconds": end,
                    "facet": feature,
                    "feature": feature,
                    "rate": rate,
                }
            )
    return rows


@pytest.fixture
def newrelic() -> Iterator[FakeApi]:
    rows = {
        NR_P95: nr_rows(lambda t: {"percentile.duration": {"95": 0.21}}),
        NR_AVAILABILITY: nr_rows(lambda t: {"result": 0.9985}),
        NR_FEATURES: nr_features,
    }
    with newrelic_server(rows) as api:
        yield api


def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, **env: str) -> AppConfig:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
        remember_secret(value)
    path = tmp_path / "scalebot.yaml"
    path.write_text(text)
    return load_config(path)


def datadog_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, app_key: str = DD_APP_KEY
) -> AppConfig:
    text = f"""
sources:
  dd:
    kind: datadog
    base_url: {url}
    api_key_env: TEST_DD_API_KEY
    app_key_env: TEST_DD_APP_KEY
teams:
  - name: Payments
    channel: C0PAYMENTS
    metrics:
      source: dd
      signals:
        p95_latency: {{query: "{DD_P95}", threshold: 0.5, driven_by: db_connections}}
        error_rate: {{query: "{DD_ERRORS}"}}
        db_connections: {{kind: saturation, query: "{DD_DB}"}}
        feature_request_rate: {{query: "{DD_FEATURES}"}}
"""
    return config_file(tmp_path, monkeypatch, text, TEST_DD_API_KEY=DD_API_KEY, TEST_DD_APP_KEY=app_key)


async def read(config: AppConfig) -> Any:
    team_config = config.teams[0]
    rt = mini_runtime(config, AT)
    return await read_team_signals(rt, team_with(team_config.metrics))  # type: ignore[arg-type]


async def test_datadog_values_come_from_the_documented_pointlist(
    datadog: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reading = await read(datadog_config(tmp_path, monkeypatch, datadog.url))
    assert reading.values() == {"p95_latency": 0.180, "error_rate": 0.002, "db_connections": 0.45}
    assert reading.source_kinds == {"dd": "datadog"}
    assert [h.name for h in reading.projection.breaks_first] == ["db_connections", "p95_latency"]
    [extract] = reading.triggers
    assert (extract.subject, extract.action) == ("search", "evaluate extracting search")


async def test_datadog_gets_the_path_the_time_window_and_both_keys(
    datadog: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await read(datadog_config(tmp_path, monkeypatch, datadog.url))
    sent = datadog.sent()
    for request in sent:
        assert (request.method, request.path) == ("GET", "/api/v1/query")
        assert request.headers["dd-api-key"] == DD_API_KEY
        assert request.headers["dd-application-key"] == DD_APP_KEY
        assert request.query["to"] == str(int(AT.timestamp()))
    windows = {(r.query["query"], int(r.query["to"]) - int(r.query["from"])) for r in sent}
    assert windows == {
        # the value: the last five minutes
        (DD_P95, 300),
        (DD_ERRORS, 300),
        (DD_DB, 300),
        # the 7-day trend, rolled up to a day (a percentile takes no aggregator; a query combining two
        # metrics is sent as written and its points are averaged per day)
        (f"{DD_P95}.rollup(86400)", WEEK),
        (DD_ERRORS, WEEK),
        (f"{DD_DB}.rollup(avg, 86400)", WEEK),
        # two weeks of hours to compare the features' growth
        (f"{DD_FEATURES}.rollup(avg, 3600)", 2 * WEEK),
    }
    assert len(sent) == len(windows)  # each asked once


async def test_datadog_shows_the_seven_day_trend_from_a_daily_rollup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    midnight = AT.timestamp() - WEEK - 12 * 3600  # AT is noon UTC; Datadog's daily buckets start at 00:00

    def connections(t: float) -> float:
        return 0.30 + 0.02 * int((t - midnight) // 86400)  # one step up each day, 0.44 on AT's day

    with datadog_server({DD_DB: {"": connections}}) as api:
        text = f"""
sources:
  dd: {{kind: datadog, base_url: "{api.url}", api_key_env: TEST_DD_API_KEY, app_key_env: TEST_DD_APP_KEY}}
teams:
  - name: Payments
    channel: C0PAYMENTS
    metrics:
      source: dd
      signals:
        db_connections: {{kind: saturation, query: "{DD_DB}"}}
"""
        config = config_file(
            tmp_path, monkeypatch, text, TEST_DD_API_KEY=DD_API_KEY, TEST_DD_APP_KEY=DD_APP_KEY
        )
        reading = await read(config)
    db = reading.get("db_connections")
    assert db is not None and db.value == pytest.approx(0.44)
    assert db.trend == pytest.approx([0.30 + 0.02 * day for day in range(8)])
    assert render.signal_line(db).endswith("(ceiling 80%) `▃▃▃▄▄▄▄▄` 7d, scale 0–100%, was 30%")


async def test_datadog_refusing_the_keys_degrades_every_line_without_showing_a_key(
    datadog: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reading = await read(datadog_config(tmp_path, monkeypatch, datadog.url, app_key="not-the-app-key-0000"))
    errors = {r.error for r in reading.signals}
    assert errors == {
        "metrics unavailable from dd: HTTP 403: the credentials were refused "
        "(check sources.dd.api_key_env and app_key_env)"
    }
    text = str(render.reading_blocks(reading))
    assert DD_API_KEY not in text and "not-the-app-key-0000" not in text


def newrelic_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, key: str = NR_USER_KEY
) -> AppConfig:
    text = f"""
sources:
  nr:
    kind: newrelic
    url: {url}/graphql
    account_id: {NR_ACCOUNT}
    user_key_env: TEST_NR_USER_KEY
teams:
  - name: Payments
    channel: C0PAYMENTS
    metrics:
      source: nr
      signals:
        p95_latency: {{query: "{NR_P95}", threshold: 0.5}}
        availability: {{query: "{NR_AVAILABILITY}"}}
        feature_request_rate: {{query: "{NR_FEATURES}"}}
        p99_latency: {{query: "{NR_BROKEN}"}}
"""
    return config_file(tmp_path, monkeypatch, text, TEST_NR_USER_KEY=key)


async def test_new_relic_values_come_from_nrql_results(
    newrelic: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reading = await read(newrelic_config(tmp_path, monkeypatch, newrelic.url))
    values = reading.values()
    assert values == {"p95_latency": 0.21, "p99_latency": None, "availability": pytest.approx(0.9985)}
    availability = reading.get("availability")
    assert availability is not None and availability.status == "breached"  # under 99.9% (001)
    [feature] = [t for t in reading.triggers if t.subject]
    assert feature.subject == "search" and feature.value == pytest.approx(12 / (65 / 60))
    broken = reading.get("p99_latency")
    assert broken is not None and broken.error is not None
    assert broken.error.startswith("metrics unavailable from nr: query failed: NRQL Syntax Error")


async def test_new_relic_gets_nerdgraph_with_the_key_the_account_and_the_time_range(
    newrelic: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await read(newrelic_config(tmp_path, monkeypatch, newrelic.url))
    sent = {r.body["variables"]["nrql"]: r for r in newrelic.sent()}
    end = int(AT.timestamp() * 1000)
    assert f"{NR_P95} SINCE {end - 300_000} UNTIL {end}" in sent
    assert f"{NR_P95} SINCE {end - WEEK * 1000} UNTIL {end} TIMESERIES 1 day" in sent  # the 7-day trend
    assert f"{NR_FEATURES} SINCE {end - 2 * WEEK * 1000} UNTIL {end} TIMESERIES 1 hour" in sent
    for request in sent.values():
        assert (request.method, request.path) == ("POST", "/graphql")
        assert request.headers["api-key"] == NR_USER_KEY
        assert request.body["variables"]["accountId"] == NR_ACCOUNT
        assert "actor { account(id: $accountId) { nrql(query: $nrql" in request.body["query"]


async def test_new_relic_shows_the_seven_day_trend_from_daily_timeseries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    since = AT.timestamp() - WEEK

    def utilisation(end: float) -> dict[str, Any]:
        return {"average.cpuPercent": 0.30 + 0.02 * round((end - since) / 86400)}  # 0.44 at AT

    query = "SELECT average(cpuPercent) / 100 FROM SystemSample WHERE apmApplicationNames LIKE '%payments%'"
    with newrelic_server({query: nr_rows(utilisation)}) as api:
        text = f"""
sources:
  nr: {{kind: newrelic, url: "{api.url}/graphql", account_id: {NR_ACCOUNT}, user_key_env: TEST_NR_USER_KEY}}
teams:
  - name: Payments
    channel: C0PAYMENTS
    metrics:
      source: nr
      signals:
        cpu: {{kind: saturation, query: "{query}"}}
"""
        reading = await read(config_file(tmp_path, monkeypatch, text, TEST_NR_USER_KEY=NR_USER_KEY))
    cpu = reading.get("cpu")
    assert cpu is not None and cpu.value == pytest.approx(0.44)
    # a daily bucket stands at its end: the first ends six days before AT, the last value is the instant
    assert cpu.trend == pytest.approx([None, *(0.30 + 0.02 * day for day in range(1, 8))])
    assert render.signal_line(cpu).endswith("(ceiling 80%) `·▃▃▄▄▄▄▄` 7d, scale 0–100%, was 32%")


async def test_new_relic_refusing_the_key_names_the_config_key(
    newrelic: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NerdGraph refuses a bad key with HTTP 401 and a BAD_API_KEY error, not a 200."""
    reading = await read(newrelic_config(tmp_path, monkeypatch, newrelic.url, key="NRAK-WRONGKEY000000000"))
    assert {r.error for r in reading.signals} == {
        "metrics unavailable from nr: HTTP 401: the credentials were refused (check sources.nr.user_key_env)"
    }
    assert {r.headers["api-key"] for r in newrelic.sent()} == {"NRAK-WRONGKEY000000000"}


# --- Prometheus response shapes -------------------------------------------------------------------


def answer(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def test_a_vector_gives_one_point_per_series() -> None:
    result = parse_response(
        answer({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"feature": "search"}, "value": [1700000000.0, "5"]},
            {"metric": {"feature": "checkout"}, "value": [1700000000.0, "50.5"]},
        ]}})
    )  # fmt: skip
    assert [(dict(s.labels), s.points) for s in result.series] == [
        ({"feature": "search"}, ((1700000000.0, 5.0),)),
        ({"feature": "checkout"}, ((1700000000.0, 50.5),)),
    ]


def test_a_matrix_gives_every_point_and_nan_and_infinities_arrive_as_strings() -> None:
    result = parse_response(
        answer({"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {}, "values": [[1, "NaN"], [2, "+Inf"], [3, "-Inf"], [4, "0.25"]]},
        ]}})
    )  # fmt: skip
    values = [v for _, v in result.series[0].points]
    assert math.isnan(values[0]) and values[1] == math.inf and values[2] == -math.inf and values[3] == 0.25


def test_a_scalar_is_one_unlabelled_point() -> None:
    result = parse_response(
        answer({"status": "success", "data": {"resultType": "scalar", "result": [5, "0.9"]}})
    )
    assert result.series[0].points == ((5.0, 0.9),)


def test_warnings_are_kept_and_empty_results_are_no_series() -> None:
    result = parse_response(
        answer(
            {
                "status": "success",
                "warnings": ["partial response"],
                "data": {"resultType": "vector", "result": []},
            }
        )
    )
    assert result.series == () and result.warnings == ("partial response",)


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (
            answer({"status": "error", "errorType": "bad_data", "error": "parse error at char 5"}, 400),
            "query failed (bad_data): parse error at char 5",
        ),
        (
            answer({"status": "success", "data": {"resultType": "string", "result": [1, "x"]}}),
            "returns a string",
        ),
        (httpx.Response(200, text="<html>login</html>", headers={"content-type": "text/html"}), "text/html"),
        (httpx.Response(401, text="unauthorized"), "HTTP 401: the credentials were refused"),
        (
            answer(
                {"status": "success", "data": {"resultType": "vector", "result": [{"value": [1, "abc"]}]}}
            ),
            "not a number",
        ),
        (answer({"hello": "world"}), "not a Prometheus answer"),
    ],
)
def test_a_bad_answer_becomes_a_reason_people_can_read(response: httpx.Response, reason: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_response(response)
    assert reason in caught.value.reason


def test_the_query_time_is_part_of_every_request() -> None:
    from bot.metrics.sources.newrelic import nrql_for

    at = datetime(2026, 1, 1, tzinfo=UTC)
    end = int(at.timestamp() * 1000)
    assert nrql_for("SELECT 1", at, None, None) == f"SELECT 1 SINCE {end - 300000} UNTIL {end}"
    assert nrql_for("SELECT 1", at, timedelta(days=1), timedelta(days=1)).endswith("TIMESERIES 1 day")


def test_reads_in_one_loop_do_not_leak_tasks() -> None:
    # A smoke check that the flight table empties once queries land (no shared state between loops).
    from bot.metrics import flight

    async def inner() -> int:
        await asyncio.sleep(0)
        return flight.in_flight()

    assert asyncio.run(inner()) == 0


async def test_a_prometheus_bearer_token_is_sent_and_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers.metrics_fakes import FakePrometheus, prom_body, prom_value

    token = "prom-bearer-token-0123456789"
    prom = FakePrometheus()
    prom.behaviours["q_db"] = prom_value(0.5)
    prom.behaviours["q_cpu"] = prom_body(b"unauthorized", 401, content_type="text/plain")
    try:
        text = f"""
sources:
  prom: {{kind: prometheus, url: "{prom.url}", bearer_token_env: TEST_PROM_BEARER, headers: {{X-Scope-OrgID: tenant-1}}}}
teams:
  - name: Payments
    channel: C0PAYMENTS
    metrics:
      source: prom
      default_signals: false
      signals:
        db: {{kind: saturation, query: q_db}}
        cpu: {{kind: saturation, query: q_cpu}}
"""
        reading = await read(config_file(tmp_path, monkeypatch, text, TEST_PROM_BEARER=token))
        assert reading.values() == {"db": 0.5, "cpu": None}
        [sent, *_] = [r for r in prom.api.sent() if r.query.get("query") == "q_db"]
        assert sent.headers["authorization"] == f"Bearer {token}"
        assert sent.headers["x-scope-orgid"] == "tenant-1"
        cpu = reading.get("cpu")
        assert cpu is not None and cpu.error == (
            "metrics unavailable from prom: HTTP 401: the credentials were refused "
            "(check sources.prom.bearer_token_env)"
        )
        assert token not in str(render.reading_blocks(reading))
    finally:
        prom.close()


async def test_a_source_whose_credentials_were_not_loaded_degrades_its_lines() -> None:
    from bot.config import TeamConfig
    from bot.metrics.config import PrometheusSource, SignalConfig, TeamMetricsConfig

    metrics = TeamMetricsConfig(
        source="prom", default_signals=False, signals={"db": SignalConfig(kind="saturation", query="q")}
    )
    config = AppConfig(
        sources={
            "prom": PrometheusSource(
                kind="prometheus", url="http://127.0.0.1:9", bearer_token_env="UNSET_TOKEN"
            )  # type: ignore[arg-type]
        },
        teams=[TeamConfig(name="Payments", channel="C0PAYMENTS", metrics=metrics)],
    )
    reading = await read(config)
    assert reading.get("db").error == (  # type: ignore[union-attr]
        "metrics unavailable from prom: its credentials are not loaded (see sources.prom)"
    )


# --- Thanos and other servers that align a range to its step ----------------------------------


async def test_a_server_that_aligns_ranges_to_the_step_still_shows_the_value_and_the_trend() -> None:
    from bot.config import TeamConfig
    from bot.metrics.config import PrometheusSource, SignalConfig, TeamMetricsConfig
    from tests.helpers.metrics_fakes import FakePrometheus, prom_aligned

    midnight = AT.timestamp() - WEEK - 12 * 3600

    def connections(t: float) -> float:
        # 0.3 at midnight seven days before AT, 0.02 more each day; 0.5 at AT (noon) itself
        return 0.5 if t == AT.timestamp() else 0.30 + 0.02 * int((t - midnight) // 86400)

    prom = FakePrometheus({"q_db": prom_aligned(connections)})
    metrics = TeamMetricsConfig(
        source="prom", default_signals=False, signals={"db": SignalConfig(kind="saturation", query="q_db")}
    )
    config = AppConfig(
        sources={"prom": PrometheusSource(kind="prometheus", url=prom.url)},  # type: ignore[arg-type]
        teams=[TeamConfig(name="Payments", channel="C0PAYMENTS", metrics=metrics)],
    )
    try:
        rt = mini_runtime(config, AT)
        readings = await asyncio.gather(*(read_team_signals(rt, team_with(metrics)) for _ in range(20)))
        sent = [r.path for r in prom.api.sent()]
    finally:
        prom.close()
    db = readings[0].get("db")
    assert db is not None and db.value == 0.5 and db.status == "ok"
    assert render.signal_line(db).startswith(":white_check_mark: *db* 50% now (ceiling 80%)")
    # the range's points sit at midnight, each in its day; the last day is the instant value
    assert db.trend == pytest.approx([0.30 + 0.02 * day for day in range(7)] + [0.5])
    assert [h.name for h in readings[0].projection.ranked] == ["db"]
    # a burst still shares each request: one range query and one instant query for the signal
    assert sorted(sent) == ["/api/v1/query", "/api/v1/query_range"]


# --- what every client sends ------------------------------------------------------------------


async def test_a_source_never_has_more_than_max_concurrency_requests_in_flight() -> None:
    import threading
    import time

    from bot.metrics.config import PrometheusSource
    from bot.metrics.sources.base import HttpPolicy
    from bot.metrics.sources.prometheus import PrometheusClient
    from tests.helpers.metrics_fakes import Recorded, Reply, prom_value

    lock = threading.Lock()
    active, peak = 0, 0

    def slow(req: Recorded) -> Reply:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.15)
        with lock:
            active -= 1
        return prom_value(0.5)(req)

    with FakeApi(slow) as api:
        config = PrometheusSource(kind="prometheus", url=api.url)  # type: ignore[arg-type]
        client = PrometheusClient("prom", config, lambda name: "", HttpPolicy(timeout=5, max_concurrency=2))
        results = await asyncio.gather(*(client.read(f"q{i}", AT) for i in range(6)))
    assert [r.series[0].points[0][1] for r in results] == [0.5] * 6
    assert len(api.sent()) == 6 and peak == 2


async def test_prometheus_basic_auth_reaches_the_server_as_an_authorization_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    from tests.helpers.metrics_fakes import FakePrometheus, prom_value

    password = "prom-basic-password-0123"
    prom = FakePrometheus({"q_db": prom_value(0.5)})
    try:
        text = f"""
sources:
  prom:
    kind: prometheus
    url: "{prom.url}"
    basic_auth: {{username: scalebot, password_env: TEST_PROM_PASSWORD}}
teams:
  - name: Payments
    channel: C0PAYMENTS
    metrics:
      source: prom
      default_signals: false
      signals:
        db: {{kind: saturation, query: q_db}}
"""
        reading = await read(config_file(tmp_path, monkeypatch, text, TEST_PROM_PASSWORD=password))
        [sent] = prom.api.sent()
    finally:
        prom.close()
    assert reading.values() == {"db": 0.5}
    expected = base64.b64encode(f"scalebot:{password}".encode()).decode()
    assert sent.headers["authorization"] == f"Basic {expected}"
    assert password not in str(render.reading_blocks(reading))


@pytest.mark.parametrize(
    ("site", "base_url", "url"),
    [
        (None, None, "https://api.datadoghq.com/api/v1/query"),  # the default site
        ("datadoghq.eu", None, "https://api.datadoghq.eu/api/v1/query"),
        ("us5.datadoghq.com", None, "https://api.us5.datadoghq.com/api/v1/query"),
        ("datadoghq.eu", "http://127.0.0.1:9/dd", "http://127.0.0.1:9/dd/api/v1/query"),  # base_url wins
    ],
)
async def test_a_datadog_site_becomes_the_api_url(
    monkeypatch: pytest.MonkeyPatch, site: str | None, base_url: str | None, url: str
) -> None:
    from bot.metrics.config import DatadogSource
    from bot.metrics.sources import base, datadog
    from bot.metrics.sources.base import HttpPolicy

    called: list[str] = []

    async def no_network(
        identity: str, policy: HttpPolicy, method: str, to: str, **kw: Any
    ) -> httpx.Response:
        called.append(to)  # nothing is sent: the test only looks at where the request would go
        return httpx.Response(200, json={"status": "ok", "series": []})

    monkeypatch.setattr(base, "send", no_network)  # every HTTP source sends through base.send
    keys = {"api_key_env": "DD_KEY", "app_key_env": "DD_APP"}
    config = DatadogSource(kind="datadog", **({"site": site} if site else {}), base_url=base_url, **keys)  # type: ignore[arg-type]
    client = datadog.DatadogClient("dd", config, lambda name: "key", HttpPolicy(timeout=1))
    await client.read("avg:system.load.1{*}", AT)
    assert called == [url]
