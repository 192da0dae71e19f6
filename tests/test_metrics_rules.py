"""Thresholds from the seeds, a team's signals resolved from the config, and how values are shown."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from bot import seeds
from bot.metrics.config import (
    DatadogSource,
    MetricsDefaults,
    PrometheusSource,
    SignalConfig,
    TeamMetricsConfig,
)
from bot.metrics.promql import default_query, selector
from bot.metrics.render import fmt_multiple, fmt_value, sparkline
from bot.metrics.service import evaluation_time
from bot.metrics.signals import resolve_signals
from bot.metrics.thresholds import SEED_001, SEED_004, feature_growth, judge, rule_for

PROM = {"prom": PrometheusSource(kind="prometheus", url="http://127.0.0.1:9")}  # type: ignore[arg-type]
DD = {"dd": DatadogSource(kind="datadog", api_key_env="DD_KEY", app_key_env="DD_APP")}


def test_p95_read_latency_over_100_ms_says_evaluate_a_read_replica_citing_004() -> None:
    rule = rule_for("p95_read_latency", "latency", None)
    assert rule is not None and (rule.op, rule.limit, rule.seed) == (">", 0.1, SEED_004)
    assert rule.trigger == "evaluate a read replica"
    assert judge(0.101, rule, None) == "breached"
    assert judge(0.100, rule, None) == "ok"  # "exceeds 100ms"


def test_primary_write_utilisation_at_the_ceiling_says_evaluate_write_sharding() -> None:
    rule = rule_for("primary_write_utilisation", "saturation", None)
    assert rule is not None and rule.seed == SEED_004 and "write sharding" in rule.trigger
    assert judge(0.8, rule, 0.8) == "breached"
    assert judge(0.79, rule, 0.8) == "ok"


def test_error_rate_at_one_percent_and_availability_under_three_nines_breach_citing_001() -> None:
    errors, availability = rule_for("error_rate", "ratio", None), rule_for("availability", "ratio", None)
    assert errors is not None and availability is not None
    assert (errors.seed, availability.seed) == (SEED_001, SEED_001)
    assert judge(0.01, errors, None) == "breached" and judge(0.0099, errors, None) == "ok"
    assert judge(0.9989, availability, None) == "breached" and judge(0.999, availability, None) == "ok"


def test_a_team_threshold_overrides_the_seed_and_is_the_teams() -> None:
    rule = rule_for("p95_read_latency", "latency", 0.25)
    assert rule is not None and rule.limit == 0.25 and rule.seed is None
    assert rule.trigger == "evaluate a read replica"  # still the seed's advice, at the team's limit
    assert judge(0.2, rule, None) == "ok"


def test_request_latency_is_judged_against_the_two_seconds_users_leave_at_citing_001() -> None:
    rule = rule_for("p95_latency", "latency", None)
    assert rule is not None and (rule.op, rule.limit, rule.seed) == (">", 2.0, SEED_001)
    assert "2 seconds" in rule.quote
    assert judge(0.33, rule, None) == "ok" and judge(2.5, rule, None) == "breached"
    # the 100 ms rule is for read queries: a request p95 of 330 ms breaches nothing
    assert rule_for("p99_latency", "latency", None) == rule


def test_a_signal_without_a_threshold_is_reported_without_judging() -> None:
    assert judge(120.0, rule_for("request_rate", "rate", None), None) == "no threshold"
    assert judge(math.nan, rule_for("error_rate", "ratio", None), None) == "n/a"


def test_one_feature_grown_ten_times_relative_to_the_rest_is_flagged() -> None:
    growth = feature_growth(
        last={"checkout": 55, "search": 60, "refunds": 10},
        previous={"checkout": 50, "search": 5, "refunds": 10},
    )
    top = growth[0]
    assert top.feature == "search"
    assert top.growth == pytest.approx(12.0)
    assert top.rest_growth == pytest.approx(65 / 60)
    assert top.relative == pytest.approx(12 / (65 / 60))
    assert top.relative >= 10 and growth[1].relative < 10


def test_feature_growth_needs_two_features() -> None:
    assert feature_growth({"checkout": 100}, {"checkout": 1}) == []


def test_a_prometheus_team_gets_the_default_set_and_overrides_query_by_query() -> None:
    metrics = TeamMetricsConfig(
        source="prom",
        service="payments",
        signals={
            "p99_latency": SignalConfig(query="my_p99", threshold=0.8),
            "db": SignalConfig(kind="saturation", query="db_used / db_max", ceiling=0.7),
            "p95_latency": SignalConfig(driven_by="db", threshold=0.5),
        },
    )
    signals = {s.name: s for s in resolve_signals(metrics, PROM, MetricsDefaults())}
    assert list(signals) == ["p95_latency", "p99_latency", "error_rate", "availability", "request_rate", "db"]
    assert signals["p99_latency"].query == "my_p99" and signals["p99_latency"].threshold == 0.8
    assert signals["p95_latency"].query == default_query("p95_latency", 'service="payments"')
    assert signals["p95_latency"].driven_by == "db"
    assert signals["db"].ceiling == 0.7 and signals["db"].threshold == 0.7
    assert signals["availability"].threshold == 0.999


def test_a_datadog_team_reads_only_the_signals_it_lists() -> None:
    metrics = TeamMetricsConfig(source="dd", signals={"error_rate": SignalConfig(query="sum:errors{*}")})
    assert [s.name for s in resolve_signals(metrics, DD, MetricsDefaults())] == ["error_rate"]


def test_the_service_name_is_escaped_in_default_queries() -> None:
    sel = selector('pay"ments\\', None)
    assert sel == 'service="pay\\"ments\\\\"'
    assert selector("payments", 'job="api", env="prod"') == 'job="api", env="prod"'
    assert default_query("request_rate", "") == "sum(rate(http_requests_total[5m]))"


def test_values_are_shown_in_their_units() -> None:
    assert fmt_value("latency", 0.125) == "125 ms"
    assert fmt_value("latency", 2.5) == "2.5 s"
    assert fmt_value("ratio", 0.005) == "0.5%"
    assert fmt_value("ratio", 0.9995) == "99.95%"
    assert fmt_value("saturation", 0.5) == "50%"
    assert fmt_value("rate", 115.0) == "115 req/s"
    assert fmt_value("rate", 12345.0) == "12.3k req/s"
    assert fmt_value("latency", math.inf) == "n/a"
    assert fmt_multiple(1.6) == "×1.6" and fmt_multiple(math.inf) == "×∞"


def test_a_trend_is_a_sparkline_of_the_days_with_gaps_on_a_fixed_scale() -> None:
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8], 1, 8) == "▁▂▃▄▅▆▇█"
    assert sparkline([None, 1, 1], 0, 2) == "·▅▅"
    assert sparkline([None, 1], 0, 2) is None
    assert sparkline([5, 9, 20], 0, 10) == "▅▇█"  # past the scale: the full bar


def test_every_reader_within_one_ttl_evaluates_at_the_same_time() -> None:
    t = datetime(2026, 11, 20, 12, 0, 42, 500000, tzinfo=UTC)
    assert evaluation_time(t, 60) == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert evaluation_time(t, 0) == datetime(2026, 11, 20, 12, 0, 42, tzinfo=UTC)


def test_a_team_with_many_long_signals_renders_within_slacks_limits() -> None:
    from slack_sdk.models.blocks import Block

    from bot import blocks as bk
    from bot.metrics.projection import Measured, project
    from bot.metrics.render import reading_blocks, reading_text
    from bot.metrics.service import SignalReading, TeamReading
    from bot.metrics.signals import Signal

    names = [f"saturation_{'x' * 60}_{i}" for i in range(80)]
    readings = tuple(
        SignalReading(
            Signal(n, "saturation", "prom", "q", rule_for(n, "saturation", None), ceiling=0.8), 0.5, "ok"
        )
        for n in names
    )
    reading = TeamReading(
        team="<!channel> & Co",
        workspace_id="T0001",
        channel_id="C0PAYMENTS",
        source="prom",
        source_kinds={"prom": "prometheus"},
        read_at=datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
        signals=readings,
        projection=project([Measured(n, "saturation", 0.5) for n in names]),
        triggers=(),
    )
    blocks = reading_blocks(reading)
    assert len(blocks) <= bk.MAX_MESSAGE_BLOCKS
    for block in blocks:
        Block.parse(block).to_dict()  # raises on a Slack limit
        assert len(block.get("text", {}).get("text", "")) <= bk.MAX_SECTION_TEXT
    mrkdwn = [b for b in blocks if b["type"] != "header"]  # a plain_text header cannot mention anyone
    assert "<!channel>" not in str(mrkdwn)
    assert "…and 70 more under 10x" in str(mrkdwn)
    assert bk.message(reading_text(reading), blocks)["text"].startswith("&lt;!channel&gt; &amp; Co metrics")


@pytest.mark.parametrize(
    ("defaults", "default_basis"),
    [
        (MetricsDefaults(), "(the default ceiling, 80% from the product brief's 10x rule)"),
        (
            MetricsDefaults(ceiling=0.6),
            "(the default ceiling, `defaults.metrics.ceiling` in the config file)",
        ),
    ],
)
async def test_a_saturation_trigger_says_whose_ceiling_it_crossed(
    defaults: MetricsDefaults, default_basis: str
) -> None:
    from bot.config import AppConfig, Defaults
    from bot.metrics.render import trigger_line
    from bot.metrics.service import read_team_signals
    from tests.helpers.metrics_fakes import FakePrometheus, mini_runtime, prom_value, team_with

    at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    prom = FakePrometheus({"q_cpu": prom_value(0.9), "q_queue": prom_value(0.9), "q_writes": prom_value(0.9)})
    metrics = TeamMetricsConfig(
        source="prom",
        default_signals=False,
        signals={
            "cpu": SignalConfig(kind="saturation", query="q_cpu", ceiling=0.7),
            "queue": SignalConfig(kind="saturation", query="q_queue"),
            "primary_write_utilisation": SignalConfig(query="q_writes"),
            "p95_latency": SignalConfig(query="q_writes", threshold=0.5),
        },
    )
    config = AppConfig(
        defaults=Defaults(metrics=defaults),
        sources={"prom": PrometheusSource(kind="prometheus", url=prom.url)},  # type: ignore[arg-type]
    )
    try:
        reading = await read_team_signals(mini_runtime(config, at), team_with(metrics))  # type: ignore[arg-type]
    finally:
        prom.close()
    lines = {t.signal: trigger_line(t) for t in reading.triggers}
    assert lines["cpu"].endswith("→ *add capacity or shed load before it saturates* (the team's ceiling)")
    assert lines["queue"].endswith(f"→ *add capacity or shed load before it saturates* {default_basis}")
    assert lines["primary_write_utilisation"].endswith(
        f"→ *evaluate write sharding or another data model* ({seeds.cite(SEED_004)}; {default_basis[1:]}"
    )
    assert lines["p95_latency"].endswith("(the team's threshold)")
