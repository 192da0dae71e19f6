"""Nothing echoes a credential: a token pasted where a variable name belongs, or into any other field of the
config file or the environment, is named by its key and its problem, never by its value. Checked where an
operator reads it (`scalebot config check`'s stdout and stderr, through a subprocess) and in the logs of a
start-up that fails on it (caplog)."""

from __future__ import annotations

import logging
import string
from pathlib import Path

import pytest

from bot.config import load_and_check
from bot.configbase import looks_like_env_name, redact, shown, token_shaped
from bot.settings import load_settings
from bot.yamlfile import ConfigFileError
from tests.conftest import remember_secret
from tests.test_cli import scalebot

ALNUM = string.ascii_letters + string.digits


def _filler(seed: int, length: int, alphabet: str = ALNUM) -> str:
    return "".join(alphabet[(seed * 7 + i * 13) % len(alphabet)] for i in range(length))


# One credential of each shape operators paste, made distinct per field by a seed.
SHAPES = {
    "github": lambda n: "ghp_" + _filler(n, 36),
    "slack": lambda n: f"xoxb-{1000000000 + n}-{2000000000 + n}-" + _filler(n, 24),
    "jwt": lambda n: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI" + _filler(n, 10) + "In0." + _filler(n + 1, 20),
    "hex": lambda n: _filler(n, 40, "0123456789abcdef"),
    "aws": lambda n: "AKIA" + _filler(n, 16, string.ascii_uppercase + string.digits),
    "newrelic": lambda n: "NRAK-" + _filler(n, 27, string.ascii_uppercase + string.digits),
    "linear": lambda n: "lin_api_" + _filler(n, 40),
    "base64": lambda n: _filler(n, 13) + "/" + _filler(n + 1, 7) + "/" + _filler(n + 2, 20),
}


def credential(n: int) -> str:
    kinds = list(SHAPES)
    value = SHAPES[kinds[n % len(kinds)]](n)
    remember_secret(value)  # the run-wide log check fails the run if it ever shows up anywhere
    return value


# Every field of the file a credential could be pasted into by mistake, each with its own value.
FIELDS = [
    "sources.prom.bearer_token_env",
    "sources.basic.basic_auth.password_env",
    "sources.dd.api_key_env",
    "sources.dd.app_key_env",
    "sources.nr.user_key_env",
    "trackers.jira.email_env",
    "trackers.jira.token_env",
    "trackers.jiradc.token_env",
    "trackers.linear.api_key_env",
    "trackers.gh.token_env",
    "teams[0].channel",
    "teams[0].workspace",
    "teams[0].leads[0]",
    "teams[0].managers[0]",
    "digest.channel",
    "digest.time",
    "digest.timezone",
    "teams[0].debt.import.time",
    "teams[0].debt.import.timezone",
    "sources.bad.kind",
]
VALUES = {field: credential(i) for i, field in enumerate(FIELDS)}


def bad_file(values: dict[str, str]) -> str:
    v = values
    return f"""\
sources:
  prom: {{kind: prometheus, url: "http://127.0.0.1:9090", bearer_token_env: "{v["sources.prom.bearer_token_env"]}"}}
  basic:
    kind: prometheus
    url: "http://127.0.0.1:9090"
    basic_auth: {{username: ops, password_env: "{v["sources.basic.basic_auth.password_env"]}"}}
  dd: {{kind: datadog, api_key_env: "{v["sources.dd.api_key_env"]}", app_key_env: "{v["sources.dd.app_key_env"]}"}}
  nr: {{kind: newrelic, account_id: 1, user_key_env: "{v["sources.nr.user_key_env"]}"}}
  bad: {{kind: "{v["sources.bad.kind"]}"}}
trackers:
  jira:
    kind: jira_cloud
    url: "https://acme.atlassian.net"
    email_env: "{v["trackers.jira.email_env"]}"
    token_env: "{v["trackers.jira.token_env"]}"
  jiradc: {{kind: jira_datacenter, url: "https://jira.acme.org", token_env: "{v["trackers.jiradc.token_env"]}"}}
  linear: {{kind: linear, api_key_env: "{v["trackers.linear.api_key_env"]}"}}
  gh: {{kind: github, token_env: "{v["trackers.gh.token_env"]}"}}
teams:
  - name: Payments
    channel: "{v["teams[0].channel"]}"
    workspace: "{v["teams[0].workspace"]}"
    leads: ["{v["teams[0].leads[0]"]}"]
    managers: ["{v["teams[0].managers[0]"]}"]
    debt:
      import:
        tracker: gh
        time: "{v["teams[0].debt.import.time"]}"
        timezone: "{v["teams[0].debt.import.timezone"]}"
digest:
  channel: "{v["digest.channel"]}"
  time: "{v["digest.time"]}"
  timezone: "{v["digest.timezone"]}"
"""


def check(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    config = tmp_path / "scalebot.yaml"
    config.write_text(text, encoding="utf-8")
    result = scalebot("config", "check", env={"SCALEBOT_CONFIG": str(config), **(env or {})})
    assert result.returncode == 2, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_the_shapes_are_recognised_and_real_variable_names_are_not() -> None:
    for field, value in VALUES.items():
        assert token_shaped(value), field
        assert shown(value) == "(value not shown: it may be a credential)"
        assert value not in redact(f"{field}: {value!r} is wrong"), field
    for name in (
        "PROMETHEUS_TOKEN",
        "DD_API_KEY",
        "NEW_RELIC_USER_KEY_PROD_EU",
        "GITHUB_TOKEN",
        ("PROMETHEUS_TOKEN_" * 4)[:64],
    ):
        assert looks_like_env_name(name) and not token_shaped(name), name
    for name in (
        "prometheus_token",
        ("PROMETHEUS_TOKEN_" * 4)[:65],
        "GHP_" + "A1" * 18,
        "AKIAIOSFODNN7EXAMPLE",
        "my-token",
    ):
        assert not looks_like_env_name(name), name
    assert redact("/tmp/pytest-of-ci/pytest-12/test_a_file0/scalebot.yaml: 000_aa66b6538f11a31c.txt") == (
        "/tmp/pytest-of-ci/pytest-12/test_a_file0/scalebot.yaml: 000_aa66b6538f11a31c.txt"
    )


def test_config_check_names_every_field_holding_a_credential_and_none_of_the_values(tmp_path: Path) -> None:
    out = check(tmp_path, bad_file(VALUES))
    for field, value in VALUES.items():
        assert value not in out, f"{field} echoed its value:\n{out}"
    for key in (
        "bearer_token_env",
        "password_env",
        "api_key_env",
        "app_key_env",
        "user_key_env",
        "token_env",
    ):
        assert f".{key}: looks like a credential, not an environment variable name" in out, (key, out)
    assert "teams[0].channel: (value not shown: it may be a credential) is not a Slack channel id" in out
    assert "digest.time: (value not shown: it may be a credential) is not a time like 09:00" in out
    assert "sources.bad.kind: unknown kind (value not shown: it may be a credential)" in out


def test_a_missing_variable_is_named_only_when_its_name_looks_like_one(tmp_path: Path) -> None:
    text = """\
sources:
  prom: {kind: prometheus, url: "http://127.0.0.1:9090", bearer_token_env: SCALEBOT_TEST_UNSET_TOKEN}
  other: {kind: prometheus, url: "http://127.0.0.1:9091", bearer_token_env: prod_prom_token_unset}
"""
    out = check(tmp_path, text)
    assert "sources.prom.bearer_token_env: environment variable SCALEBOT_TEST_UNSET_TOKEN is not set" in out
    assert (
        "sources.other.bearer_token_env: environment variable (the variable this key names) is not set" in out
    )
    assert "prod_prom_token_unset" not in out


def test_references_and_checks_do_not_echo_a_credential(tmp_path: Path) -> None:
    source, tracker, playbook = credential(101), credential(102), credential(104)  # 104: no "/"
    text = f"""\
teams:
  - name: Payments
    channel: C0PAYMENTS
    metrics: {{source: "{source}"}}
    debt: {{import: {{tracker: "{tracker}"}}}}
"""
    out = check(tmp_path, text)
    assert "teams[0].metrics.source: unknown source (value not shown" in out
    assert source not in out and tracker not in out
    out = check(tmp_path, f'teams:\n  - {{name: Payments, channel: C0PAYMENTS, playbook: "{playbook}"}}\n')
    assert "no built-in playbook named (value not shown" in out and playbook not in out


@pytest.mark.parametrize(
    ("variable", "problem"),
    [
        ("LOG_LEVEL", "LOG_LEVEL must be one of"),
        ("LOG_FORMAT", "LOG_FORMAT must be 'text' or 'json'"),
        ("SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET is set without SLACK_BOT_TOKEN"),
        ("SLACK_CLIENT_ID", "missing: SLACK_CLIENT_SECRET, SLACK_SIGNING_SECRET"),
        ("SCALEBOT_CONFIG", "cannot read the file"),
    ],
)
def test_an_environment_variable_holding_a_credential_by_mistake_is_not_echoed(
    variable: str, problem: str
) -> None:
    value = credential(200 + len(variable))
    result = scalebot("config", "check", env={variable: value})
    out = result.stdout + result.stderr
    assert result.returncode == 2 and problem in out, out
    assert value not in out


def test_a_start_up_refused_for_a_pasted_token_logs_no_credential(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "scalebot.yaml"
    config.write_text(bad_file(VALUES), encoding="utf-8")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigFileError) as refused:
        load_and_check(config)
    message = str(refused.value)
    assert "bearer_token_env: looks like a credential" in message
    from bot.app import create_app

    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(scalebot_config=config, database_url=f"sqlite:///{tmp_path}/db.sqlite3")
    with pytest.raises(ConfigFileError) as at_start:
        create_app(settings)
    shown_anywhere = message + str(at_start.value) + caplog.text
    for field, value in VALUES.items():
        assert value not in shown_anywhere, field
