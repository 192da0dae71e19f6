"""Against a real Prometheus backfilled with two weeks of synthetic history: what the bot reports is what
the same PromQL returns, and the 10x ranking and triggers are the ones the history was built to produce.

The history is queried at a fixed evaluation time inside it (an instant query looks back 5 minutes).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.metrics import render
from bot.metrics.config import PrometheusSource, SignalConfig, TeamMetricsConfig
from bot.metrics.service import TeamReading, read_team_signals
from bot.metrics.signals import resolve_signals
from bot.metrics.thresholds import SEED_004
from tests.fixtures_servers import missing_binary
from tests.harness import wait_until
from tests.helpers.metrics_fakes import mini_runtime, team_with
from tests.servers import BinaryNotFound, HistogramStep, OpenMetricsWriter, PrometheusServer

EVAL = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
START = EVAL - timedelta(days=15)
END = EVAL + timedelta(hours=1)
BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]
SERVICE = {"service": "payments"}
SPLIT = (EVAL - timedelta(days=7)).timestamp()
# requests per second by feature: the week before, then the last week (search grows 12x, the rest 1.08x)
FEATURES = {"checkout": (50.0, 55.0), "search": (5.0, 60.0), "refunds": (10.0, 10.0)}
ERROR_SHARE = 0.005

DB = 'sum(db_connections_in_use{service="payments"}) / sum(db_connections_max{service="payments"})'
CPU = 'max(process_cpu_utilisation{service="payments"})'
QUEUE = 'sum(queue_depth{service="payments"}) / sum(queue_capacity{service="payments"})'
WRITES = 'max(pg_primary_write_utilisation{service="payments"})'

METRICS = TeamMetricsConfig(
    source="prom",
    service="payments",
    signals={
        "p95_latency": SignalConfig(driven_by="db_connections", threshold=1.0),
        "p95_read_latency": SignalConfig(),
        "feature_request_rate": SignalConfig(),
        "primary_write_utilisation": SignalConfig(query=WRITES),
        "db_connections": SignalConfig(kind="saturation", query=DB),  # 0.5 → headroom 0.8/0.5 = 1.6
        "cpu": SignalConfig(kind="saturation", query=CPU, ceiling=0.7),  # 0.2 → 3.5
        "queue": SignalConfig(kind="saturation", query=QUEUE),  # 0.1 → 8
    },
)
# db 1.6 < p95 latency (2 − L with L ≈ 0.1 s, at ceiling-free M/M/1 on db) < cpu 3.5 < queue 8 < 10 < writes 16
BREAKS_FIRST = ["db_connections", "p95_latency", "cpu", "queue"]


def _slow_share(t: float) -> float:
    """Share of slow GETs, growing over the history (so the read latency trend rises)."""
    return 0.04 + 0.04 * (t - START.timestamp()) / (END - START).total_seconds()


def _histogram_step(total: float, slow_share: float, slow_value: float) -> HistogramStep:
    counts = [0.0] * (len(BUCKETS) + 1)
    fast, slow = total * (1 - slow_share), total * slow_share
    counts[1] = fast  # 0.03 s, in (0.025, 0.05]
    counts[next(i for i, b in enumerate(BUCKETS) if slow_value <= b)] += slow
    return HistogramStep(counts, fast * 0.03 + slow * slow_value)


def history() -> OpenMetricsWriter:
    w = OpenMetricsWriter(start=START, end=END, step=60)
    w.histogram(
        "http_request_duration_seconds",
        {**SERVICE, "method": "GET"},
        BUCKETS,
        lambda t: _histogram_step(600, _slow_share(t), 0.2),
    )
    w.histogram(
        "http_request_duration_seconds",
        {**SERVICE, "method": "POST"},
        BUCKETS,
        lambda t: _histogram_step(300, 0.03, 0.4),
    )
    for feature, (before, after) in FEATURES.items():
        for code, share in (("200", 1 - ERROR_SHARE), ("500", ERROR_SHARE)):

            def rate(t: float, before: float = before, after: float = after, share: float = share) -> float:
                return (after if t >= SPLIT else before) * share

            w.counter_rate("http_requests", {**SERVICE, "feature": feature, "code": code}, rate)
    for instance in ("a", "b", "c", "d"):
        w.gauge("up", {**SERVICE, "instance": instance}, lambda t: 1)
    w.gauge("db_connections_in_use", SERVICE, lambda t: 50)
    w.gauge("db_connections_max", SERVICE, lambda t: 100)
    w.gauge("process_cpu_utilisation", SERVICE, lambda t: 0.2)
    w.gauge("queue_depth", SERVICE, lambda t: 100)
    w.gauge("queue_capacity", SERVICE, lambda t: 1000)
    w.gauge("pg_primary_write_utilisation", SERVICE, lambda t: 0.05)
    return w


@pytest.fixture(scope="module")
def prom() -> Iterator[PrometheusServer]:
    try:
        server = PrometheusServer()
    except BinaryNotFound as exc:
        missing_binary(str(exc))
    server.backfill(history())
    with server.start():
        yield server


@pytest.fixture
def prom_running(prom: PrometheusServer) -> PrometheusServer:
    return prom.start()  # a test that stopped it leaves it running for the next


def app_config(url: str) -> AppConfig:
    from bot.config import TeamConfig

    return AppConfig(
        sources={"prom": PrometheusSource(kind="prometheus", url=url)},  # type: ignore[arg-type]
        teams=[TeamConfig(name="Payments", channel="C0PAYMENTS", metrics=METRICS)],
    )


def signals(url: str) -> dict[str, str | None]:
    """Each signal's PromQL, as the bot resolves it (defaults included)."""
    resolved = resolve_signals(METRICS, app_config(url).sources, AppConfig().defaults.metrics)
    return {s.name: s.query for s in resolved}


async def read(url: str) -> TeamReading:
    rt = mini_runtime(app_config(url), EVAL)
    return await read_team_signals(rt, team_with(METRICS))  # type: ignore[arg-type]


async def test_reported_values_equal_the_same_promql_on_the_server(prom_running: PrometheusServer) -> None:
    reading = await read(prom_running.url)
    expected = {
        name: prom_running.query_value(query, EVAL)
        for name, query in signals(prom_running.url).items()
        if name != "feature_request_rate" and query
    }
    assert reading.values() == expected
    # and they are what the history was built to hold
    assert expected["error_rate"] == pytest.approx(ERROR_SHARE)
    assert expected["availability"] == 1.0
    assert expected["request_rate"] == pytest.approx(125.0)
    assert (expected["db_connections"], expected["cpu"], expected["queue"]) == (0.5, 0.2, 0.1)
    assert expected["p95_read_latency"] > 0.1  # over the seed's 100 ms
    assert expected["p95_read_latency"] > expected["p95_latency"]  # GETs are the slow ones
    assert expected["p99_latency"] > expected["p95_latency"]
    assert not reading.errors


async def test_the_ten_x_ranking_is_the_one_the_history_was_built_to_produce(
    prom_running: PrometheusServer,
) -> None:
    reading = await read(prom_running.url)
    assert [h.name for h in reading.projection.breaks_first] == BREAKS_FIRST
    db, latency = reading.projection.breaks_first[:2]
    assert db.headroom == pytest.approx(1.6)
    p95 = reading.values()["p95_latency"]
    assert p95 is not None and latency.headroom == pytest.approx((1 - p95 * 0.5 / 1.0) / 0.5)
    assert [h.name for h in reading.projection.ranked][-1] == "primary_write_utilisation"
    assert reading.projection.ranked[-1].headroom == pytest.approx(16.0)
    assert reading.projection.unprojected == ("p99_latency", "p95_read_latency")  # no driven_by


async def test_breached_triggers_name_the_read_replica_and_the_feature_to_extract(
    prom_running: PrometheusServer,
) -> None:
    reading = await read(prom_running.url)
    assert [(t.signal, t.action, t.seed) for t in reading.triggers] == [
        ("p95_read_latency", "evaluate a read replica", SEED_004),
        ("feature_request_rate", "evaluate extracting search", SEED_004),
    ]
    features = reading.get("feature_request_rate")
    assert features is not None
    search = features.features[0]
    assert search.feature == "search"
    assert search.last_week == pytest.approx(60.0) and search.previous_week == pytest.approx(5.0)
    assert search.relative == pytest.approx(12 / (65 / 60))


async def test_the_seven_day_trend_is_one_point_a_day_from_query_range(
    prom_running: PrometheusServer,
) -> None:
    reading = await read(prom_running.url)
    read_latency = reading.get("p95_read_latency")
    assert read_latency is not None and len(read_latency.trend) == 8
    query = read_latency.signal.query
    assert query is not None
    expected = [prom_running.query_value(query, EVAL - timedelta(days=7 - i)) for i in range(8)]
    assert list(read_latency.trend) == expected
    assert expected == sorted(expected)  # the slow share grows, so does the read latency
    # on a scale from zero, stated, so the rise is drawn as big as it is
    was = render.fmt_value("latency", expected[0])
    assert f"7d, scale 0–200 ms, was {was}" in render.signal_line(read_latency)


def test_metrics_answers_over_signed_http_with_values_ranking_and_triggers(
    prom_running: PrometheusServer, make_bot: Any, fake: Any, seeded: Any
) -> None:
    from storage import metrics as metrics_repo

    bot = make_bot(config=app_config(prom_running.url), clock=ManualClock(EVAL))
    actor = fake.actor()
    response = actor.slash_command(seeded.team_id, seeded.member, seeded.channel, "metrics")
    assert response.status_code == 200 and response.elapsed.total_seconds() < 0.5
    [answer] = fake.wait_for(lambda: fake.ephemerals(seeded.member, seeded.channel), timeout=10)
    blocks = answer["blocks"]
    assert blocks[0]["text"]["text"] == "Live metrics · Payments"
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    read_latency = prom_running.query_value(signals(prom_running.url)["p95_read_latency"] or "", EVAL)
    assert (
        f"*p95 read latency* {render.fmt_value('latency', read_latency)} over the last 5 minutes (limit 100 ms)"
        in text
    )
    assert "*error rate* 0.5% over the last 5 minutes (limit 1%)" in text
    assert "*availability* 100% over the last 7 days (at least 99.9%)" in text
    assert (
        "→ *evaluate a read replica* (“Your System Does Not Need to Scale to a Million Users on Day One” by Eric Hanson)"
        in text
    )
    assert "search grew ×11.1 relative to the rest → *evaluate extracting search*" in text
    ranked = text.split("*Breaks first at 10x*")[1]
    positions = [ranked.index(f"*{name}*") for name in ("db connections", "p95 latency", "cpu", "queue")]
    assert positions == sorted(positions)
    assert "Holds at 10x: primary write utilisation (×16)" in ranked
    context = str([b for b in blocks if b["type"] == "context"])
    assert "from prom (Prometheus)" in context and "linearly" in context
    # the week's snapshot is kept for the digest's "change since last week"
    row = wait_until(  # stored right after the answer is sent
        lambda: bot.db(
            metrics_repo.snapshot_for_week, seeded.team_id, seeded.channel, metrics_repo.week_start(EVAL)
        )
    )
    assert row is not None and row.values["db_connections"] == {"value": 0.5, "status": "ok"}


def _prometheus_requests(prom: PrometheusServer, handler: str) -> float:
    text = prom._client.get(f"{prom.url}/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("prometheus_http_requests_total{") and f'handler="{handler}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_twenty_concurrent_commands_cost_one_query_per_signal(
    prom_running: PrometheusServer, make_bot: Any, fake: Any, seeded: Any
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    make_bot(config=app_config(prom_running.url), clock=ManualClock(EVAL))
    users = [seeded.member, seeded.lead, seeded.lead2, seeded.lead3, seeded.manager]
    before = (
        _prometheus_requests(prom_running, "/api/v1/query_range"),
        _prometheus_requests(prom_running, "/api/v1/query"),
    )

    def run(i: int) -> int:
        return int(
            fake.actor().slash_command(seeded.team_id, users[i % 5], seeded.channel, "metrics").status_code
        )

    with ThreadPoolExecutor(20) as pool:
        assert list(pool.map(run, range(20))) == [200] * 20

    def answered() -> bool:
        return sum(len(fake.ephemerals(u, seeded.channel)) for u in users) >= 20

    fake.wait_for(answered, timeout=15)
    after = (
        _prometheus_requests(prom_running, "/api/v1/query_range"),
        _prometheus_requests(prom_running, "/api/v1/query"),
    )
    # one range query per signal and one instant query, availability's 7 days (its range query is the
    # daily trend): Prometheus puts each range's last point at the evaluation time (a server that
    # aligns ranges to the step costs an instant query more per signal)
    assert (after[0] - before[0], after[1] - before[1]) == (len(signals(prom_running.url)), 1)
    for user in users:
        for message in fake.ephemerals(user, seeded.channel):
            assert message["blocks"] and message["blocks"][0]["text"]["text"] == "Live metrics · Payments", (
                message
            )


def test_prometheus_stopped_mid_suite_degrades_its_lines_and_the_answer_still_comes(
    prom_running: PrometheusServer, make_bot: Any, fake: Any, seeded: Any
) -> None:
    clock = ManualClock(EVAL)
    make_bot(config=app_config(prom_running.url), clock=clock)
    actor = fake.actor()
    actor.slash_command(seeded.team_id, seeded.member, seeded.channel, "metrics")
    fake.wait_for(lambda: fake.ephemerals(seeded.member, seeded.channel), timeout=10)

    prom_running.stop()
    try:
        clock.advance(timedelta(minutes=2))  # past the cache TTL: the bot must ask again
        response = actor.slash_command(seeded.team_id, seeded.member, seeded.channel, "metrics")
        assert response.status_code == 200
        answers = fake.wait_for(
            lambda: len(m := fake.ephemerals(seeded.member, seeded.channel)) == 2 and m, timeout=5
        )
        text = "\n".join(b["text"]["text"] for b in answers[1]["blocks"] if b["type"] == "section")
        refused = "metrics unavailable from prom: refused the connection"
        assert text.count(refused) == len(signals(prom_running.url))
        assert "nothing to project" in text
        assert "unavailable from prom" in answers[1]["text"]
    finally:
        prom_running.start()


async def test_nan_and_empty_results_from_the_real_server_are_shown_as_n_a(
    prom_running: PrometheusServer,
) -> None:
    metrics = TeamMetricsConfig(
        source="prom",
        default_signals=False,
        signals={
            "error_rate": SignalConfig(query="scalar(vector(0)) / 0"),  # 0/0: Prometheus sends "NaN"
            "request_rate": SignalConfig(query='sum(rate(http_requests_total{service="nobody"}[5m]))'),
            "db_connections": SignalConfig(kind="saturation", query=DB),
        },
    )
    rt = mini_runtime(app_config(prom_running.url), EVAL)
    reading = await read_team_signals(rt, team_with(metrics))  # type: ignore[arg-type]
    lines = {r.name: render.signal_line(r) for r in reading.signals}
    assert "n/a (NaN)" in lines["error_rate"] and "n/a (no data)" in lines["request_rate"]
    assert reading.values()["db_connections"] == 0.5
