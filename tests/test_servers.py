"""The real-server fixtures work: Redis, PostgreSQL and a backfilled Prometheus."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import redis
import sqlalchemy as sa

from tests.fixtures_servers import PrometheusFactory, missing_binary
from tests.servers import (
    BinaryNotFound,
    HistogramStep,
    OpenMetricsWriter,
    PostgresServer,
    RedisServer,
    free_port,
)

# A fixed evaluation time (a Monday 09:00 UTC) with 8 days of history before it.
EVAL = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
T = EVAL.timestamp()
HISTORY = 8 * 86400
BUCKETS = [0.05, 0.1, 0.25, 0.5, 1.0]


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_missing_binary_skips_locally_and_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install redis-server"):
        missing_binary("redis-server not found: apt-get install redis-server")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install redis-server"):
        missing_binary("redis-server not found: apt-get install redis-server")


# Redis ---------------------------------------------------------------------------------------------


def test_redis_ping_stop_start(redis_server: RedisServer) -> None:
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    client = redis.Redis.from_url(redis_server.url, socket_timeout=2)
    assert client.ping()
    client.set("k", "v")

    redis_server.stop()
    assert not redis_server.ping()
    with pytest.raises(redis.ConnectionError):
        client.ping()

    redis_server.start()
    assert redis_server.ping()
    assert client.ping()  # same URL, same port
    assert client.get("k") is None  # no persistence
    client.close()


def test_redis_flush(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    client.set("a", "1")
    redis_server.flush()
    assert client.dbsize() == 0
    client.close()


# PostgreSQL ----------------------------------------------------------------------------------------


def test_postgres_psycopg(pg_url: str) -> None:
    assert pg_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    with psycopg.connect(pg_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int primary key, name text)")
        conn.execute("INSERT INTO t VALUES (1, 'x')")
        assert conn.execute("SELECT name FROM t").fetchone() == ("x",)
        assert conn.execute("SHOW fsync").fetchone() == ("off",)
        row = conn.execute("SHOW max_connections").fetchone()
        assert row is not None and int(row[0]) >= 200


def test_postgres_sqlalchemy_fresh_database(pg_url: str, postgres_server: PostgresServer) -> None:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT current_user")).scalar() == "postgres"
        assert sa.inspect(conn).get_table_names() == []  # a fresh, empty database
        conn.execute(sa.text("CREATE TABLE t (id int)"))
    other = postgres_server.create_database()
    assert other != pg_url
    postgres_server.drop_database(other)
    engine.dispose()


def test_postgres_stop_start_keeps_data(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    engine = sa.create_engine(url, pool_pre_ping=True)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id int)"))
        conn.execute(sa.text("INSERT INTO t VALUES (42)"))
    postgres_server.stop()
    with pytest.raises(sa.exc.OperationalError), engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    postgres_server.start()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT id FROM t")).scalar() == 42
    engine.dispose()
    postgres_server.drop_database(url)


# Prometheus ----------------------------------------------------------------------------------------


def test_openmetrics_writer_text() -> None:
    w = OpenMetricsWriter(end=120, duration=120, step=60)
    w.gauge("g", {"team": 'a"b'}, lambda t: t / 2)
    w.counter_rate("reqs", {}, lambda t: 1.0)
    w.histogram("lat", {}, [0.1], lambda t: HistogramStep([2, 1], 0.5))
    assert w.text().splitlines() == [
        "# TYPE g gauge",
        'g{team="a\\"b"} 0 0',
        'g{team="a\\"b"} 30 60',
        'g{team="a\\"b"} 60 120',
        "# TYPE reqs counter",
        "reqs_total 0 0",
        "reqs_total 60 60",
        "reqs_total 120 120",
        "# TYPE lat histogram",
        'lat_bucket{le="0.1"} 2 0',
        'lat_bucket{le="+Inf"} 3 0',
        "lat_count 3 0",
        "lat_sum 0.5 0",
        'lat_bucket{le="0.1"} 4 60',
        'lat_bucket{le="+Inf"} 6 60',
        "lat_count 6 60",
        "lat_sum 1 60",
        'lat_bucket{le="0.1"} 6 120',
        'lat_bucket{le="+Inf"} 9 120',
        "lat_count 9 120",
        "lat_sum 1.5 120",
        "# EOF",
    ]


def _history() -> OpenMetricsWriter:
    w = OpenMetricsWriter(end=EVAL, duration=HISTORY, step=60)
    start = w.start
    w.gauge("db_connections", {"team": "core"}, lambda t: (t - start) / 60)
    w.counter_rate("http_requests", {"team": "core"}, lambda t: 5.0)
    step = HistogramStep.from_values(BUCKETS, [0.03] * 94 + [0.2] * 6, weight=10)
    w.histogram("http_request_duration_seconds", {"team": "core"}, BUCKETS, lambda t: step)
    return w


def test_prometheus_backfilled_query_at_fixed_time(prometheus_factory: PrometheusFactory) -> None:
    began = time.monotonic()
    prom = prometheus_factory(_history())
    elapsed = time.monotonic() - began
    assert prom.build_seconds is not None and prom.start_seconds is not None
    print(
        f"\nprometheus: generate+backfill+start {elapsed:.2f}s "
        f"(promtool {prom.build_seconds:.2f}s, start {prom.start_seconds:.2f}s)"
    )
    assert elapsed < 20

    body = prom.query("db_connections", EVAL)
    assert body["status"] == "success"
    [series] = body["data"]["result"]
    assert series["metric"] == {"__name__": "db_connections", "team": "core"}
    assert float(series["value"][1]) == HISTORY / 60

    # the whole range was turned into blocks: first day, middle, last sample
    assert prom.query_value("db_connections", T - HISTORY) == 0
    assert (
        prom.query_value("db_connections", EVAL - timedelta(days=3, seconds=-30)) == (HISTORY / 60) - 3 * 1440
    )
    assert prom.query_value("db_connections", T - HISTORY - 600) is None  # before the history

    assert prom.query_value("rate(http_requests_total[5m])", EVAL) == pytest.approx(5.0)
    p95 = prom.query_value(
        "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))", EVAL
    )
    assert p95 == pytest.approx(0.125)

    rng = prom.query_range("db_connections", T - 3600, T, 600)
    assert len(rng["data"]["result"][0]["values"]) == 7

    prom.stop()
    prom.start()
    assert prom.query_value("db_connections", EVAL) == HISTORY / 60


def test_prometheus_bad_input_reports_promtool_error(prometheus_factory: PrometheusFactory) -> None:
    from tests.servers import ServerError

    with pytest.raises(ServerError, match="promtool"):
        prometheus_factory("this is not openmetrics\n# EOF\n")


def test_server_objects_can_run_side_by_side() -> None:
    """Tests that need their own server (e.g. to stop it) can construct one directly."""
    try:
        server = RedisServer()
    except BinaryNotFound as exc:
        reason = str(exc)
    else:
        reason = ""
    if reason:
        missing_binary(reason)
    with server:
        assert server.ping()
    assert not server.dir.exists()
