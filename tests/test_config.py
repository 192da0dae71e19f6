"""The operator's YAML file: validated with file, line and key named; secrets read once by env name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import load_config
from bot.yamlfile import ConfigFileError

GOOD = """\
sources:
  prod:
    kind: prometheus
    url: http://127.0.0.1:9090
    bearer_token_env: TEST_PROM_TOKEN
teams:
  - name: Payments
    channel: C0PAYMENTS
    leads: [U0LEAD1]
    managers: [U0MGR1]
    metrics:
      source: prod
      signals:
        db_connections: {kind: saturation, query: 'max(pg_conn_used / pg_conn_max)'}
        p95_read_latency: {driven_by: db_connections}
digest:
  channel: C0DIGEST
  day: friday
  time: "16:30"
  timezone: Europe/Berlin
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scalebot.yaml"
    path.write_text(text)
    return path


def test_a_complete_file_loads_and_reads_its_secrets_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_PROM_TOKEN", "prom-token-value")
    config = load_config(write(tmp_path, GOOD))
    team = config.team_for("T0001", "C0PAYMENTS")
    assert team is not None and team.name == "Payments"
    assert config.secret("TEST_PROM_TOKEN") == "prom-token-value"
    assert config.digest_for("T0001").day == "friday"
    assert config.team_for("T0001", "C0OTHER") is None


@pytest.mark.parametrize(
    ("text", "line", "key", "problem"),
    [
        (
            GOOD.replace("source: prod", "source: staging"),
            12,
            "teams[0].metrics.source",
            "unknown source 'staging'",
        ),
        (
            GOOD.replace("channel: C0PAYMENTS", "channel: payments"),
            8,
            "teams[0].channel",
            "not a Slack channel id",
        ),
        (GOOD.replace("kind: prometheus", "kind: graphite"), 3, "sources.prod", "prometheus"),
        (GOOD.replace('time: "16:30"', 'time: "4pm"'), 19, "digest.time", "not a time like 09:00"),
        (GOOD.replace("timezone: Europe/Berlin", "timezone: Mars/Olympus"), 20, "digest.timezone", "IANA"),
        (GOOD.replace("    leads:", "    lead:"), 9, "teams[0].lead", "Extra inputs are not permitted"),
    ],
)
def test_a_bad_file_names_the_line_key_and_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, line: int, key: str, problem: str
) -> None:
    monkeypatch.setenv("TEST_PROM_TOKEN", "x" * 8)
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    assert key in message
    assert problem in message
    if key not in ("driven_by", "teams[0].metrics.source"):  # cross-reference problems name the team's line
        assert f"{path}:{line}:" in message


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "teams:\n  - name: [unclosed\n")
    with pytest.raises(ConfigFileError, match=rf"{path}:\d+: not valid YAML"):
        load_config(path)


def test_a_missing_secret_names_the_key_and_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_PROM_TOKEN", raising=False)
    with pytest.raises(
        ConfigFileError,
        match=re.escape("sources.prod.bearer_token_env: environment variable TEST_PROM_TOKEN"),
    ):
        load_config(write(tmp_path, GOOD))


def test_no_file_is_an_empty_config() -> None:
    assert load_config(None).teams == []
