"""A source that fails, stalls or answers garbage degrades only its own lines, in time, and nothing crashes;
a burst of readers shares one query per signal."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import AppConfig, Defaults
from bot.metrics import render
from bot.metrics.config import MetricsDefaults, PrometheusSource, SignalConfig, TeamMetricsConfig
from bot.metrics.service import read_team_signals
from tests.helpers.metrics_fakes import (
    FakePrometheus,
    mini_runtime,
    prom_body,
    prom_empty,
    prom_sequence,
    prom_stall,
    prom_value,
    queries_sent,
    team_with,
)

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TIMEOUT = 2.0

SIGNALS = {
    "p95_latency": "q_p95",
    "p99_latency": "q_p99",
    "error_rate": "q_errors",
    "availability": "avg_over_time(q_up[7d])",
    "request_rate": "q_rate",
    "db_connections": "q_db",
    "cpu": "q_cpu",
    "queue": "q_queue",
}


@pytest.fixture
def prom() -> Iterator[FakePrometheus]:
    fake = FakePrometheus()
    yield fake
    fake.close()


def config(url: str, ttl: float = 60, answer_within: float = 8, retries: int = 2) -> AppConfig:
    return AppConfig(
        defaults=Defaults(
            metrics=MetricsDefaults(
                cache_ttl_seconds=ttl, answer_within_seconds=answer_within, retries=retries
            )
        ),
        sources={"prom": PrometheusSource(kind="prometheus", url=url, timeout_seconds=TIMEOUT)},  # type: ignore[arg-type]
        teams=[],
    )


def team(**overrides: Any) -> Any:
    signals = {
        name: SignalConfig(
            query=query, kind="saturation" if name in ("db_connections", "cpu", "queue") else None
        )
        for name, query in SIGNALS.items()
    }
    return team_with(TeamMetricsConfig(source="prom", default_signals=False, signals=signals, **overrides))


def lines(reading: Any) -> dict[str, str]:
    return {r.name: render.signal_line(r) for r in reading.signals}


async def test_each_fault_degrades_only_its_own_line_and_the_answer_comes_in_time(
    prom: FakePrometheus,
) -> None:
    prom.behaviours.update(
        {
            "q_p95": prom_body({"status": "error", "errorType": "internal", "error": "boom"}, status=500),
            "q_p99": prom_stall(3.0, prom_value(0.3)),  # 3 s, past the 2 s timeout
            "q_errors": prom_value("NaN"),
            "avg_over_time(q_up[7d])": prom_empty(),
            "q_rate": prom_body(
                {"status": "error", "errorType": "bad_data", "error": "1:5: parse error"}, 400
            ),
            "q_db": prom_value(0.4),
            "q_cpu": prom_sequence(
                prom_body(b"Bad Gateway", 502, content_type="text/plain"), prom_value(0.1)
            ),
            "q_queue": prom_body(b"<html>maintenance</html>", content_type="text/html"),
        }
    )
    rt = mini_runtime(config(prom.url), AT)
    began = time.monotonic()
    reading = await read_team_signals(rt, team())  # type: ignore[arg-type]
    elapsed = time.monotonic() - began
    assert elapsed < TIMEOUT + 1.0, f"answered after {elapsed:.2f}s"

    shown = lines(reading)
    assert shown["p95_latency"].endswith("metrics unavailable from prom: query failed (internal): boom")
    assert shown["p99_latency"].endswith("metrics unavailable from prom: timed out after 2 s")
    assert "n/a (NaN)" in shown["error_rate"]
    assert "n/a (no data)" in shown["availability"]
    assert shown["request_rate"].endswith("query failed (bad_data): 1:5: parse error")
    assert shown["queue"].endswith("answered HTTP 200 with text/html, not the Prometheus API's JSON")
    # the healthy ones, and the one that recovered on a retry, still answer
    assert reading.values()["db_connections"] == 0.4 and reading.values()["cpu"] == 0.1
    assert [h.name for h in reading.projection.ranked] == ["db_connections", "cpu"]
    assert reading.errors == {"prom": "query failed (internal): boom"}
    # a 500 is retried (2 retries), a stall is not
    assert prom.asked("q_p95") == 3 and prom.asked("q_p99") == 1 and prom.asked("q_cpu") == 2
    assert render.reading_blocks(reading)  # and it renders


async def test_a_stalled_source_cannot_hold_the_answer_past_its_deadline(prom: FakePrometheus) -> None:
    # The deadline leaves the healthy query room to answer on a loaded machine (at 0.5 s it was seen to
    # miss under a parallel run's load); every other query stalls twice as long as the deadline.
    within = 1.5
    prom.behaviours.update({q: prom_stall(2 * within, prom_value(0.2)) for q in SIGNALS.values()})
    prom.behaviours["q_db"] = prom_value(0.4)
    rt = mini_runtime(config(prom.url, answer_within=within), AT)
    began = time.monotonic()
    reading = await read_team_signals(rt, team())  # type: ignore[arg-type]
    assert time.monotonic() - began < within + 0.5
    assert reading.values()["db_connections"] == 0.4
    assert reading.get("cpu").error == "metrics unavailable from prom: no answer within 1.5 s"  # type: ignore[union-attr]


async def test_a_stopped_source_is_refused_quickly_and_marked(prom: FakePrometheus) -> None:
    url = prom.url
    prom.close()
    rt = mini_runtime(config(url), AT)
    began = time.monotonic()
    reading = await read_team_signals(rt, team())  # type: ignore[arg-type]
    assert time.monotonic() - began < 2.0
    assert {r.error for r in reading.signals} == {"metrics unavailable from prom: refused the connection"}
    assert reading.projection.ranked == ()


async def test_twenty_concurrent_readers_share_one_query_per_signal(prom: FakePrometheus) -> None:
    prom.behaviours.update({q: prom_stall(0.2, prom_value(0.25)) for q in SIGNALS.values()})
    rt = mini_runtime(config(prom.url), AT)
    readings = await asyncio.gather(*(read_team_signals(rt, team()) for _ in range(20)))  # type: ignore[arg-type]
    assert all(r.values()["db_connections"] == 0.25 for r in readings)
    assert {q: prom.asked(q) for q in SIGNALS.values()} == {q: 1 for q in SIGNALS.values()}
    assert queries_sent(rt) == len(SIGNALS)

    # within the TTL the next reader is answered from the cache…
    rt.clock.advance(timedelta(seconds=30))
    again = await read_team_signals(rt, team())  # type: ignore[arg-type]
    assert all(r.cached for r in again.signals) and len(prom.api.sent()) == len(SIGNALS)
    # …and after it, the sources are asked again
    rt.clock.advance(timedelta(seconds=60))
    later = await read_team_signals(rt, team())  # type: ignore[arg-type]
    assert not any(r.cached for r in later.signals) and len(prom.api.sent()) == 2 * len(SIGNALS)


async def test_a_failure_is_not_cached(prom: FakePrometheus) -> None:
    prom.behaviours["q_db"] = prom_sequence(prom_body(b"", 503, content_type="text/plain"), prom_value(0.4))
    rt = mini_runtime(config(prom.url, retries=0), AT)
    first = await read_team_signals(rt, team())  # type: ignore[arg-type]
    assert first.get("db_connections").error == "metrics unavailable from prom: HTTP 503"  # type: ignore[union-attr]
    second = await read_team_signals(rt, team())  # type: ignore[arg-type]
    assert second.values()["db_connections"] == 0.4


async def test_prometheus_warnings_are_shown_under_the_answer(prom: FakePrometheus) -> None:
    def with_warning(req: Any) -> Any:
        reply = prom_value(0.3)(req)
        reply.body["warnings"] = ["PromQL info: metric might not be a counter"]
        return reply

    prom.behaviours["q_db"] = with_warning
    rt = mini_runtime(config(prom.url), AT)
    reading = await read_team_signals(rt, team())  # type: ignore[arg-type]
    contexts = [b for b in render.reading_blocks(reading) if b["type"] == "context"]
    assert "metric might not be a counter" in str(contexts[-1])


async def test_replicas_sharing_redis_ask_the_source_once(prom: FakePrometheus, redis_url: str) -> None:
    from storage.cache import make_cache

    prom.behaviours.update({q: prom_value(0.25) for q in SIGNALS.values()})
    first, second = (mini_runtime(config(prom.url), AT) for _ in range(2))
    first.cache, second.cache = make_cache(redis_url), make_cache(redis_url)

    async def other_replica() -> Any:
        try:
            return await read_team_signals(second, team())  # type: ignore[arg-type]
        finally:
            await second.cache.close()

    try:
        await read_team_signals(first, team())  # type: ignore[arg-type]
        # another replica: its own process has its own event loop and in-flight table
        reading = await asyncio.to_thread(asyncio.run, other_replica())
    finally:
        await first.cache.close()
    assert all(r.cached for r in reading.signals)
    assert reading.values()["db_connections"] == 0.25
    assert len(prom.api.sent()) == len(SIGNALS)


async def test_a_utilisation_in_percent_is_shown_as_n_a_and_left_out_of_the_ranking(
    prom: FakePrometheus,
) -> None:
    prom.behaviours.update({"q_cpu": prom_value(80), "q_db": prom_value(0.5), "q_queue": prom_value(0.1)})
    rt = mini_runtime(config(prom.url), AT)
    reading = await read_team_signals(rt, team())  # type: ignore[arg-type]
    cpu = reading.get("cpu")
    assert cpu is not None and cpu.value is None and cpu.status == "n/a"
    assert lines(reading)["cpu"] == (
        ":grey_question: *cpu* n/a (got 80; a utilisation must be between 0 and 1; is the query in "
        "percent?) (ceiling 80%)"
    )
    assert [h.name for h in reading.projection.ranked] == ["db_connections", "queue"]
    assert not reading.triggers  # 80 is not "at or over the 80% ceiling"


async def test_an_explicit_evaluation_time_is_read_as_given(prom: FakePrometheus) -> None:
    prom.behaviours.update({q: prom_value(0.25) for q in SIGNALS.values()})
    rt = mini_runtime(config(prom.url, ttl=60), AT + timedelta(seconds=42))
    asked = AT + timedelta(minutes=5, seconds=17)
    reading = await read_team_signals(rt, team(), at=asked)  # type: ignore[arg-type]
    assert reading.read_at == asked
    assert {r.query["end"] for r in prom.api.sent()} == {f"{asked.timestamp():.3f}"}
    assert reading.values()["db_connections"] == 0.25  # the range's last point is at the time asked
    # "now" is floored to the TTL, so every reader within one TTL asks the same question
    now = await read_team_signals(rt, team())  # type: ignore[arg-type]
    assert now.read_at == AT
