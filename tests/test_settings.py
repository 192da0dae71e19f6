"""Modes follow from the credentials; incomplete combinations refuse to start and name what is missing."""

from __future__ import annotations

import pytest

from bot.settings import Mode, Settings, SettingsError, resolve_mode

TOKEN = "xoxb-1-2-abcdef"
SECRET = "0123456789abcdef"


def settings(**env: str) -> Settings:
    return Settings(**env)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("env", "mode"),
    [
        ({}, Mode.LOCAL),
        ({"slack_bot_token": TOKEN, "slack_signing_secret": SECRET}, Mode.HTTP),
        ({"slack_bot_token": TOKEN, "slack_app_token": "xapp-1-A-1-abc"}, Mode.SOCKET),
        (
            {"slack_bot_token": TOKEN, "slack_app_token": "xapp-1-A-1-abc", "slack_signing_secret": SECRET},
            Mode.SOCKET,
        ),
        ({"slack_client_id": "1.2", "slack_client_secret": "cs", "slack_signing_secret": SECRET}, Mode.OAUTH),
    ],
)
def test_mode_follows_from_the_credentials(env: dict[str, str], mode: Mode) -> None:
    assert resolve_mode(settings(**env)) is mode


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"slack_bot_token": TOKEN}, "SLACK_SIGNING_SECRET"),
        ({"slack_bot_token": TOKEN, "slack_signing_secret": "  "}, "SLACK_SIGNING_SECRET"),
        ({"slack_client_id": "1.2", "slack_signing_secret": SECRET}, "SLACK_CLIENT_SECRET"),
        ({"slack_client_secret": "cs", "slack_signing_secret": SECRET}, "SLACK_CLIENT_ID"),
        ({"slack_client_id": "1.2", "slack_client_secret": "cs"}, "SLACK_SIGNING_SECRET"),
        ({"slack_app_token": "xapp-1-A-1-abc"}, "SLACK_BOT_TOKEN"),
        ({"slack_signing_secret": SECRET}, "SLACK_BOT_TOKEN"),
    ],
)
def test_incomplete_combination_refuses_and_names_what_is_missing(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        resolve_mode(settings(**env))


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1/db")
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    s = Settings()
    assert s.mode is Mode.HTTP
    assert s.slack_api_url == "http://127.0.0.1:9/api/"
    assert s.slack_web_url == "http://127.0.0.1:9"
    assert s.database_url == "postgresql+psycopg://u@127.0.0.1/db"
    assert s.log_format == "json"
    assert TOKEN not in repr(s) and SECRET not in repr(s)


def test_default_database_is_a_sqlite_file_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert Settings().database_url == f"sqlite:///{tmp_path}/scalebot.sqlite3"


def test_bad_log_level_is_refused() -> None:
    with pytest.raises(ValueError, match="LOG_LEVEL"):
        settings(log_level="loud")
