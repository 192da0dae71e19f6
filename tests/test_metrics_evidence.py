"""The numbers mean what the seeds mean, against a real Prometheus backfilled with a week in which the
checkout service was down for 1% of the minutes, with three targets, one of them dead all week:

- availability is the share of the last 7 days' minutes in which any target was up (99.0%), flagged
  against 99.9%, whatever share of targets is up at the instant asked and whether the dead replica exists;
- a team that gave only a selector is told which seed rules were not checked and the line that enables
  each, and its 330 ms request p95 is a hint at the read-replica rule, not a breached trigger: in Slack,
  the App Home and the digest;
- a Datadog or New Relic team's own availability query is read over the same 7 days;
- a trend is drawn on a stated scale that a 0.005-point wobble cannot turn into a cliff.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import AppConfig, load_config
from bot.metrics import render
from bot.metrics.config import MetricsDefaults, PrometheusSource, SignalConfig, TeamMetricsConfig
from bot.metrics.coverage import unchecked as unchecked_rules
from bot.metrics.reading import SignalReading
from bot.metrics.service import TeamReading, read_team_signals
from bot.metrics.signals import resolve_signals
from tests.conftest import remember_secret
from tests.digest_support import parents, team_messages, text_of
from tests.fixtures_servers import missing_binary
from tests.helpers.metrics_fakes import (
    DD_API_KEY,
    DD_APP_KEY,
    NR_ACCOUNT,
    NR_USER_KEY,
    datadog_server,
    mini_runtime,
    newrelic_server,
    nr_rows,
    team_with,
)
from tests.servers import BinaryNotFound, HistogramStep, OpenMetricsWriter, PrometheusServer

EVAL = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
START = EVAL - timedelta(days=8)
END = EVAL + timedelta(hours=1)
WEEK = timedelta(days=7)
# Both live targets down for 101 of the week's 10,080 minutes, on one day: 99.0% over the week.
DOWN_FROM = EVAL - timedelta(days=4) + timedelta(hours=3)
DOWN_MINUTES = 101
BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]
# A p95 of 330 ms: 1 − SLOW of the requests take 30 ms, SLOW of them 250–500 ms (interpolated linearly,
# the 95th percentile falls 32% into that bucket).
SLOW = 0.05 / 0.68
SELECTOR = 'job="checkout"'
DIGEST = "C0DIGEST"


def down(t: float) -> bool:
    return DOWN_FROM.timestamp() <= t < DOWN_FROM.timestamp() + DOWN_MINUTES * 60


def history() -> OpenMetricsWriter:
    w = OpenMetricsWriter(start=START, end=END, step=60)
    for job, instances in (("checkout", ("a", "b", "c")), ("checkout-twin", ("a", "b"))):
        for instance in instances:
            dead = instance == "c"  # a replica that never answered all week
            w.gauge(
                "up", {"job": job, "instance": instance}, lambda t, dead=dead: 0 if dead or down(t) else 1
            )
    counts = [0.0] * (len(BUCKETS) + 1)
    counts[1], counts[4] = 900 * (1 - SLOW), 900 * SLOW  # 30 ms, and 400 ms
    step = HistogramStep(counts, counts[1] * 0.03 + counts[4] * 0.4)
    w.histogram("http_request_duration_seconds", {"job": "checkout"}, BUCKETS, lambda t: step)
    w.counter_rate("http_requests", {"job": "checkout", "code": "200"}, lambda t: 14.99)
    w.counter_rate("http_requests", {"job": "checkout", "code": "500"}, lambda t: 0.01)
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


def metrics(selector: str = SELECTOR) -> TeamMetricsConfig:
    return TeamMetricsConfig(source="prom", selector=selector)  # only a selector: the defaults


def prom_config(url: str, seeded: Any = None) -> AppConfig:
    channel = seeded.channel if seeded else "C0PAYMENTS"
    team: dict[str, Any] = {"name": "Payments", "channel": channel, "metrics": metrics().model_dump()}
    config: dict[str, Any] = {
        "sources": {"prom": {"kind": "prometheus", "url": url}},
        "teams": [team],
    }
    if seeded is not None:
        team |= {"leads": [seeded.lead], "managers": [seeded.manager]}
        config["digest"] = {"channel": DIGEST, "managers": [seeded.manager], "timezone": "UTC"}
    return AppConfig.model_validate(config)


async def read(url: str, selector: str = SELECTOR) -> TeamReading:
    config = prom_config(url)
    return await read_team_signals(mini_runtime(config, EVAL), team_with(metrics(selector)))  # type: ignore[arg-type]


def signal(reading: TeamReading, name: str) -> SignalReading:
    found = reading.get(name)
    assert found is not None, name
    return found


# --- availability over the week -------------------------------------------------------------------


async def test_availability_is_the_share_of_the_weeks_minutes_the_service_was_up(
    prom: PrometheusServer,
) -> None:
    reading = await read(prom.url)
    availability = signal(reading, "availability")
    assert availability.value == pytest.approx(0.990, abs=0.0005)
    assert availability.status == "breached"  # under 99.9%
    assert [t.signal for t in reading.triggers] == ["availability"]
    line = render.signal_line(availability)
    assert "*availability* 99% over the last 7 days (at least 99.9%)" in line
    # one value a day: the bad day, and 100% on the others, on a scale from 90% to 100%
    assert len(availability.trend) == 7
    bad_day = 1 - DOWN_MINUTES / 1440
    assert availability.trend[3] == pytest.approx(bad_day, abs=0.001)
    assert all(v == pytest.approx(1.0) for i, v in enumerate(availability.trend) if i != 3)
    assert "`███▃███` by day, scale 90–100%" in line


async def test_neither_the_instant_share_of_targets_nor_the_dead_replica_changes_the_answer(
    prom: PrometheusServer,
) -> None:
    # asked the old way, the same service at the same instant is two thirds up
    assert prom.query_value(f"avg(up{{{SELECTOR}}})", EVAL) == pytest.approx(2 / 3)
    with_dead, without = await read(prom.url), await read(prom.url, 'job="checkout-twin"')
    assert signal(with_dead, "availability").value == signal(without, "availability").value
    # and at an instant inside the outage, the week's answer is still the week's
    inside = DOWN_FROM + timedelta(minutes=10)
    assert prom.query_value(f"max(up{{{SELECTOR}}})", inside) == 0
    query = signal(with_dead, "availability").signal.query or ""
    week_then = prom.query_value(query, inside)
    assert week_then is not None and week_then > 0.99  # the outage had only begun


def test_the_default_availability_query_is_plain_promql_over_seven_days() -> None:
    sources = {"prom": PrometheusSource(kind="prometheus", url="http://127.0.0.1:9")}  # type: ignore[arg-type]
    [availability] = [
        s for s in resolve_signals(metrics(), sources, MetricsDefaults()) if s.name == "availability"
    ]
    assert availability.query == 'avg_over_time((max(up{job="checkout"}))[7d:1m])'
    assert availability.trend_query == 'avg_over_time((max(up{job="checkout"}))[1d:1m])'
    assert availability.window == WEEK
    # a team's own query that reads only an instant is read over the same 7 days
    own = metrics().model_copy(update={"signals": {"availability": SignalConfig(query='avg(up{job="x"})')}})
    [mine] = [s for s in resolve_signals(own, sources, MetricsDefaults()) if s.name == "availability"]
    assert mine.query == 'avg_over_time((avg(up{job="x"}))[7d:1m])'


# --- what a selector-only team is told ------------------------------------------------------------


async def test_a_selector_only_team_learns_the_read_replica_rule_was_not_checked(
    prom: PrometheusServer,
) -> None:
    reading = await read(prom.url)
    p95 = signal(reading, "p95_latency")
    assert p95.value == pytest.approx(0.330, abs=0.002)
    assert p95.status == "ok"  # against the 2 s the articles give for requests, not the 100 ms for reads
    assert "p95_latency" not in [t.signal for t in reading.triggers]
    [hint] = reading.hints
    assert (hint.signal.name, hint.rule) == ("p95_latency", "read-replica rule")
    assert [u.signal for u in reading.unchecked] == [
        "p95_read_latency",
        "primary_write_utilisation",
        "feature_request_rate",
    ]


def assert_tells_the_team(text: str) -> None:
    """What a selector-only team must read, wherever it reads its metrics."""
    assert "*read-replica rule* not checked: no read-latency signal" in text
    article = "“Your System Does Not Need to Scale to a Million Users on Day One” by Eric Hanson"
    # the seed's words and the article they come from, by title (never the file name)
    assert f"“if read query latency exceeds 100ms at p95, evaluate a read replica” — {article}." in text
    assert f"the read-replica rule ({article}) sets for *read queries*" in text
    assert "`p95_read_latency: {}`" in text and "`method`" in text  # the line that enables it
    assert ":bulb: *Hint:* the request p95 latency is 330 ms over the last 5 minutes" in text
    assert "read queries" in text
    assert "→ *evaluate a read replica*" not in text  # a hint, not a breached trigger
    for match in re.finditer(r"no threshold", text):
        assert text[match.end() : match.end() + 1] == ":", text[match.start() - 80 : match.end() + 80]


def test_slack_says_which_rule_was_not_checked_and_shows_the_hint(
    prom: PrometheusServer, make_bot: Any, fake: Any, seeded: Any
) -> None:
    make_bot(config=prom_config(prom.url, seeded), clock=ManualClock(EVAL))
    response = fake.actor().slash_command(seeded.team_id, seeded.member, seeded.channel, "metrics")
    assert response.status_code == 200
    [answer] = fake.wait_for(lambda: fake.ephemerals(seeded.member, seeded.channel), timeout=10)
    text = text_of(answer)
    assert_tells_the_team(text)
    assert "*availability* 99% over the last 7 days (at least 99.9%)" in text
    assert "*p95 latency* 330 ms over the last 5 minutes (limit 2 s)" in text
    assert (
        "*availability* 99% over the last 7 days is under 99.9% → *find what takes the service down before adding load*"
        in text
    )
    assert "&lt;p95 of your read queries&gt;" in text  # not a Slack link
    assert "*request rate* 15 req/s over the last 5 minutes (no threshold: the articles set none" in text


def test_the_app_home_and_the_digest_say_it_too(
    prom: PrometheusServer, make_bot: Any, fake: Any, seeded: Any
) -> None:
    members = [seeded.lead, seeded.manager, seeded.member]
    fake.add_channel(seeded.team_id, DIGEST, "scale-digest", members=members)
    make_bot(config=prom_config(prom.url, seeded), clock=ManualClock(EVAL))
    actor = fake.actor()
    actor.open_home(seeded.team_id, seeded.member)
    home = fake.wait_for(lambda: fake.home(seeded.member), timeout=10)
    shown = text_of({"blocks": home["blocks"]})
    assert_tells_the_team(shown)
    assert "Availability 99% over the last 7 days (at least 99.9%) :red_circle:" in shown

    actor.slash_command(seeded.team_id, seeded.manager, seeded.channel, "digest now")
    fake.wait_for(lambda: parents(fake, DIGEST), timeout=20)
    [parent] = parents(fake, DIGEST)
    [payments] = fake.wait_for(lambda: team_messages(fake, DIGEST, parent["ts"]), timeout=20)
    text = text_of(payments)
    assert_tells_the_team(text)
    assert "availability 99% over the last 7 days (at least 99.9%) :red_circle:" in text
    assert "by day, scale 90–100%" in text
    assert (
        ":rotating_light: availability 99% over the last 7 days (at least 99.9%) → *find what takes the service down"
        in text
    )


# --- Datadog and New Relic: the team's own availability query over the same window ----------------

DD_UPTIME = "avg:synthetics.check.uptime{service:payments}"
NR_UPTIME = "SELECT percentage(count(*), WHERE result = 'SUCCESS') / 100 FROM SyntheticCheck"
OUTAGE = (EVAL - timedelta(days=2)).timestamp()


def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, **env: str) -> AppConfig:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
        remember_secret(value)
    path = tmp_path / "scalebot.yaml"
    path.write_text(text)
    return load_config(path)


async def read_vendor(config: AppConfig) -> SignalReading:
    team = config.teams[0]
    reading = await read_team_signals(mini_runtime(config, EVAL), team_with(team.metrics))  # type: ignore[arg-type]
    return signal(reading, "availability")


async def test_a_datadog_availability_query_is_averaged_over_the_last_7_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # up except for 1% of the week (100.8 minutes two days ago), and up in the last five minutes
    def uptime(t: float) -> float:
        return 0.0 if OUTAGE <= t < OUTAGE + 0.01 * WEEK.total_seconds() else 1.0

    with datadog_server({DD_UPTIME: {"": uptime}}) as api:
        text = f"""
sources:
  dd: {{kind: datadog, base_url: "{api.url}", api_key_env: TEST_DD_API_KEY, app_key_env: TEST_DD_APP_KEY}}
teams:
  - name: Payments
    channel: C0PAYMENTS
    metrics:
      source: dd
      signals:
        availability: {{query: "{DD_UPTIME}"}}
"""
        config = config_file(
            tmp_path, monkeypatch, text, TEST_DD_API_KEY=DD_API_KEY, TEST_DD_APP_KEY=DD_APP_KEY
        )
        availability = await read_vendor(config)
        sent = api.sent("/api/v1/query")
    assert availability.value == pytest.approx(0.99, abs=0.002)
    assert availability.status == "breached"
    assert "99% over the last 7 days (at least 99.9%)" in render.signal_line(availability)
    assert len(availability.trend) == 7 and min(v or 1 for v in availability.trend) < 0.95
    # one read of the whole week, an hour a point: no read of the last five minutes
    assert [(int(r.query["to"]) - int(r.query["from"]), int(r.query["to"])) for r in sent] == [
        (int(WEEK.total_seconds()), int(EVAL.timestamp()))
    ]
    assert sent[0].query["query"] == f"{DD_UPTIME}.rollup(avg, 3600)"


async def test_a_new_relic_availability_query_is_averaged_over_the_last_7_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hourly buckets: one hour fully down and one 68% up two days ago (1% of the week), the rest up
    def bucket(end: float) -> dict[str, float]:
        hours = (end - OUTAGE) / 3600
        return {"result": 0.0 if hours == 1 else 0.32 if hours == 2 else 1.0}

    with newrelic_server({NR_UPTIME: nr_rows(bucket)}) as api:
        text = f"""
sources:
  nr: {{kind: newrelic, url: "{api.url}/graphql", account_id: {NR_ACCOUNT}, user_key_env: TEST_NR_USER_KEY}}
teams:
  - name: Payments
    channel: C0PAYMENTS
    metrics:
      source: nr
      signals:
        availability: {{query: "{NR_UPTIME}"}}
"""
        config = config_file(tmp_path, monkeypatch, text, TEST_NR_USER_KEY=NR_USER_KEY)
        availability = await read_vendor(config)
        sent = [r.body["variables"]["nrql"] for r in api.sent("/graphql")]
    assert availability.value == pytest.approx(0.99, abs=1e-9)  # (166 + 0.32) / 168
    assert availability.status == "breached"  # while the last five minutes read 100%
    end = int(EVAL.timestamp() * 1000)
    week = int(WEEK.total_seconds() * 1000)
    assert sent == [f"{NR_UPTIME} SINCE {end - week} UNTIL {end} TIMESERIES 1 hour"]


# --- the scale of a trend -------------------------------------------------------------------------


def test_a_wobble_of_five_thousandths_of_a_point_is_not_drawn_as_a_cliff() -> None:
    sources = {"prom": PrometheusSource(kind="prometheus", url="http://127.0.0.1:9")}  # type: ignore[arg-type]
    signals = {s.name: s for s in resolve_signals(metrics(), sources, MetricsDefaults())}
    days = (0.99007, 0.99010, 0.99009, 0.99005, 0.99008, 0.99006, 0.99007)
    wobble = SignalReading(signals["availability"], days[-1], "breached", trend=days)
    text = render.trend_text(wobble)
    assert text is not None and text.startswith("`▁▁▁▁▁▁▁` by day, scale 99–100%")
    # a real drop still shows, on a scale widened by a power of ten and stated
    drop = SignalReading(signals["availability"], 0.999, "ok", trend=(1.0, 1.0, 0.93, 1.0, 1.0, 1.0, 1.0))
    assert render.trend_text(drop) == "`██▃████` by day, scale 90–100%, was 100%"
    # latency from zero: 120 ms to 125 ms is a flat line against its 2 s limit
    flat = SignalReading(signals["p95_latency"], 0.125, "ok", trend=(0.120, 0.121, 0.125))
    assert render.trend_text(flat) == "`▁▁▁` 7d, scale 0–2 s, was 120 ms"


# --- rules that cannot be checked -----------------------------------------------------------------


def test_a_datadog_team_is_told_every_seed_rule_its_signals_cannot_check() -> None:
    from bot.metrics.config import DatadogSource

    source = DatadogSource(kind="datadog", api_key_env="DD_API_KEY", app_key_env="DD_APP_KEY")
    team = TeamMetricsConfig(source="dd", signals={"p95_latency": SignalConfig(query=DD_UPTIME)})
    signals = resolve_signals(team, {"dd": source}, MetricsDefaults())
    unchecked = {u.signal: u.add for u in unchecked_rules(signals, prometheus=False)}
    assert list(unchecked) == [
        "p95_read_latency",
        "primary_write_utilisation",
        "feature_request_rate",
        "error_rate",
        "availability",
    ]
    assert unchecked["p95_read_latency"] == '`p95_read_latency: {query: "<p95 of your read queries>"}`'
    assert unchecked["availability"] == '`availability: {query: "…"}`'
    assert signals[0].window == timedelta(minutes=5) and signals[0].latest
    assert render.window_text(signals[0]) == "latest in the last 5 minutes"


async def test_a_read_latency_signal_without_the_method_label_says_what_its_query_needs(
    prom: PrometheusServer,
) -> None:
    with_read = metrics().model_copy(update={"signals": {"p95_read_latency": SignalConfig()}})
    config = prom_config(prom.url)
    reading = await read_team_signals(mini_runtime(config, EVAL), team_with(with_read))  # type: ignore[arg-type]
    read = signal(reading, "p95_read_latency")
    assert read.value is None and read.note is not None
    assert "labelled `method` GET or HEAD" in read.note
    assert "p95_read_latency" not in [u.signal for u in reading.unchecked]
    assert [h.signal.name for h in reading.hints] == ["p95_latency"]  # the rule is still unchecked


def test_a_time_weighted_mean_weighs_each_bucket_by_its_part_of_the_window() -> None:
    from bot.metrics.trend import mean_over

    start, end = EVAL - timedelta(hours=3), EVAL
    hour = 3600.0
    t0 = start.timestamp() - 1800  # buckets stamped at their start, the first half outside the window
    points = [(t0, 0.0), (t0 + hour, 1.0), (t0 + 2 * hour, 1.0), (t0 + 3 * hour, float("nan"))]
    # 0 for half an hour, 1 for two hours, then half an hour with no value: 2 / 2.5
    assert mean_over(points, start, end, timedelta(hours=1), stamped_at_start=True) == pytest.approx(0.8)
    # the same points read as stamped at their end cover other hours: 1 for 2.5 hours… minus the NaN
    assert mean_over(points, start, end, timedelta(hours=1), stamped_at_start=False) == pytest.approx(1.0)
    # ten-minute points (a rollup the source chose) weigh ten minutes each, whatever the step asked
    tens = [(start.timestamp() + 600 * i, 1.0 if i else 0.0) for i in range(18)]
    assert mean_over(tens, start, end, timedelta(hours=1), stamped_at_start=True) == pytest.approx(17 / 18)
    assert mean_over([], start, end, timedelta(hours=1), stamped_at_start=True) is None


def test_a_prometheus_value_covers_the_longest_range_its_query_reads() -> None:
    from bot.metrics.promql import window

    assert window('sum(rate(http_requests_total{job="a"}[5m]))') == timedelta(minutes=5)
    assert window("avg_over_time((max(up))[7d:1m]) * rate(x[1h30m])") == WEEK
    assert window("max(process_cpu_utilisation)") is None
    sources = {"prom": PrometheusSource(kind="prometheus", url="http://127.0.0.1:9")}  # type: ignore[arg-type]
    own = metrics().model_copy(
        update={
            "signals": {
                "cpu": SignalConfig(kind="saturation", query="max(cpu)"),
                "availability": SignalConfig(query="avg_over_time(up[30d])"),
            }
        }
    )
    shown = {s.name: render.window_text(s) for s in resolve_signals(own, sources, MetricsDefaults())}
    assert shown["cpu"] == "now" and shown["p95_latency"] == "over the last 5 minutes"
    assert shown["availability"] == "over the last 30 days"  # already a long window: read as written
