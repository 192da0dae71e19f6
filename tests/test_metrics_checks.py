"""Metrics config checks at start-up and in `scalebot config check`: file, line, key and how to fix it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.config import AppConfig, load_and_check, load_config
from bot.metrics.checks import check
from bot.yamlfile import ConfigFileError
from tests.conftest import remember_secret

GOOD = """\
sources:
  prom:
    kind: prometheus
    url: http://127.0.0.1:9090
  dd:
    kind: datadog
    base_url: http://127.0.0.1:9091
    api_key_env: TEST_CHECK_DD_API
    app_key_env: TEST_CHECK_DD_APP
  nr:
    kind: newrelic
    url: http://127.0.0.1:9092/graphql
    account_id: 42
    user_key_env: TEST_CHECK_NR_KEY
teams:
  - name: Payments
    channel: C0PAYMENTS
    metrics:
      source: prom
      service: payments
      signals:
        p95_latency: {driven_by: db_connections, threshold: 0.5}
        db_connections: {kind: saturation, query: 'sum(db_used) / sum(db_max)', ceiling: 0.7}
        cache_hits: {kind: ratio, source: dd, query: 'avg:cache.hit_ratio{service:payments}'}
  - name: Search
    channel: C0SEARCH
    metrics:
      source: nr
      signals:
        p95_latency: {query: "SELECT percentile(duration, 95) FROM Transaction"}
"""


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TEST_CHECK_DD_API", "TEST_CHECK_DD_APP", "TEST_CHECK_NR_KEY"):
        value = f"{name.lower()}-value-123"
        monkeypatch.setenv(name, value)
        remember_secret(value)


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "scalebot.yaml"
    path.write_text(text)
    return check(load_config(path))


def test_a_good_file_has_no_problems(tmp_path: Path) -> None:
    assert problems(tmp_path, GOOD) == []
    path = tmp_path / "scalebot.yaml"
    assert load_and_check(path).teams[0].name == "Payments"


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "problem"),
    [
        (
            "cache_hits: {kind: ratio,",
            "cache_hits: {",
            24,
            "teams[0].metrics.signals.cache_hits",
            "'cache_hits' is not a reserved signal name (p95_latency, p99_latency",
        ),
        (
            "p95_latency: {driven_by: db_connections, threshold: 0.5}",
            "p95_latency: {kind: saturation, query: x}",
            22,
            "teams[0].metrics.signals.p95_latency.kind",
            "p95_latency is a reserved latency signal",
        ),
        (
            "p95_latency: {driven_by: db_connections, threshold: 0.5}",
            "p95_latency: {driven_by: cache_hits}",
            22,
            "teams[0].metrics.signals.p95_latency.driven_by",
            "driven_by must name a saturation signal; cache_hits is a ratio signal",
        ),
        (
            "ceiling: 0.7}",
            "threshold: 0.7}",
            23,
            "teams[0].metrics.signals.db_connections.threshold",
            "a saturation signal breaks at its ceiling",
        ),
        (
            "cache_hits: {kind: ratio,",
            "cache_hits: {kind: ratio, ceiling: 0.5,",
            24,
            "teams[0].metrics.signals.cache_hits.ceiling",
            "ceiling applies to saturation signals only",
        ),
        (
            "source: dd, query: 'avg:cache.hit_ratio{service:payments}'",
            "source: dd",
            24,
            "teams[0].metrics.signals.cache_hits.query",
            "there is no default query for cache_hits on datadog source 'dd'",
        ),
        (
            "source: dd,",
            "source: staging,",
            24,
            "teams[0].metrics.signals.cache_hits.source",
            "unknown source 'staging' (declared under sources: dd, nr, prom)",
        ),
        (
            'FROM Transaction"}',
            'FROM Transaction SINCE 1 hour ago"}',
            30,
            "teams[1].metrics.signals.p95_latency.query",
            "remove SINCE, UNTIL and TIMESERIES",
        ),
    ],
)
def test_a_problem_names_the_file_line_key_and_fix(
    tmp_path: Path, old: str, new: str, line: int, key: str, problem: str
) -> None:
    assert old in GOOD
    found = problems(tmp_path, GOOD.replace(old, new, 1))
    assert len(found) == 1, found
    path = tmp_path / "scalebot.yaml"
    assert found[0].startswith(f"{path}:{line}: {key}: ")
    assert problem in found[0]


def test_a_driven_by_naming_no_signal_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    import subprocess
    import sys

    text = GOOD.replace("driven_by: db_connections", "driven_by: db_conections").replace(
        "ceiling: 0.7}", "threshold: 0.7}"
    )
    path = tmp_path / "scalebot.yaml"
    path.write_text(text)
    expected = [
        f"{path}:22: teams[0].metrics.signals.p95_latency.driven_by: no signal named 'db_conections' in "
        "this team; name a saturation signal (one of db_connections)",
        f"{path}:23: teams[0].metrics.signals.db_connections.threshold: a saturation signal breaks at its "
        "ceiling, a utilisation between 0 and 1; use `ceiling` instead",
    ]
    with pytest.raises(ConfigFileError) as caught:
        load_and_check(path)
    assert caught.value.problems == expected
    # and `scalebot config check` prints both
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SCALEBOT_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "config", "check"],
        env={**env, "SCALEBOT_CONFIG": str(path)},
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert all(line in result.stderr for line in expected), result.stderr


def test_a_ratio_threshold_must_be_a_fraction(tmp_path: Path) -> None:
    text = GOOD.replace("cache_hits: {kind: ratio,", "cache_hits: {kind: ratio, threshold: 99.9,")
    [problem] = problems(tmp_path, text)
    assert "teams[0].metrics.signals.cache_hits.threshold: a ratio threshold is between 0 and 1" in problem


def test_a_datadog_team_without_signals_is_told_to_list_them(tmp_path: Path) -> None:
    text = GOOD.replace(
        '      source: nr\n      signals:\n        p95_latency: {query: "SELECT percentile(duration, 95) FROM Transaction"}\n',
        "      source: nr\n",
    )
    [problem] = problems(tmp_path, text)
    assert "teams[1].metrics.signals: newrelic has no default queries" in problem


def test_an_unknown_signal_kind_is_refused_when_the_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "scalebot.yaml"
    path.write_text(GOOD.replace("kind: ratio", "kind: percentage"))
    with pytest.raises(ConfigFileError) as caught:
        load_config(path)
    assert f"{path}:24: teams[0].metrics.signals.cache_hits.kind:" in str(caught.value)
    assert "'latency', 'ratio', 'rate' or 'saturation'" in str(caught.value)


def test_start_up_refuses_a_file_with_metrics_problems(tmp_path: Path) -> None:
    path = tmp_path / "scalebot.yaml"
    path.write_text(GOOD.replace("ceiling: 0.7}", "threshold: 0.7}"))
    with pytest.raises(ConfigFileError, match="use `ceiling` instead"):
        load_and_check(path)


def test_a_config_built_in_code_names_keys_without_a_file() -> None:
    from bot.config import TeamConfig
    from bot.metrics.config import PrometheusSource, SignalConfig, TeamMetricsConfig

    config = AppConfig(
        sources={"prom": PrometheusSource(kind="prometheus", url="http://127.0.0.1:9")},  # type: ignore[arg-type]
        teams=[
            TeamConfig(
                name="P",
                channel="C0P1",
                metrics=TeamMetricsConfig(source="prom", signals={"cpu": SignalConfig(query="x")}),
            )
        ],
    )
    assert check(config) == [
        "teams[0].metrics.signals.cpu: 'cpu' is not a reserved signal name (p95_latency, p99_latency, "
        "p95_read_latency, error_rate, availability, request_rate, primary_write_utilisation, "
        "feature_request_rate); give it a kind: latency, ratio, rate or saturation"
    ]


def test_the_documented_example_is_a_valid_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "metrics.md").read_text(encoding="utf-8")
    section = page.split("\n## A complete example", 1)[1].split("\n## ", 1)[0]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    for name in ("PROM_TOKEN", "DD_API_KEY", "DD_APP_KEY", "NEW_RELIC_USER_KEY"):
        value = f"readme-{name.lower()}-secret"
        monkeypatch.setenv(name, value)
        remember_secret(value)
    path = tmp_path / "scalebot.yaml"
    path.write_text(example)
    config = load_config(path)
    assert check(config) == []
    assert [t.name for t in config.teams] == ["Payments", "Search"]
