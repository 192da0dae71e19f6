"""Process settings: every environment variable of the interface contract, typed and read once."""

from __future__ import annotations

import enum
import re
from datetime import timedelta
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_FILE = "scalebot.sqlite3"


class Mode(enum.StrEnum):
    """How the bot reaches Slack; follows from which credentials are set."""

    HTTP = "http"  # one workspace, events over HTTP
    SOCKET = "socket"  # one workspace, events over a Socket Mode websocket
    OAUTH = "oauth"  # installable into many workspaces, events over HTTP
    LOCAL = "local"  # no credentials: the embedded workspace and the console


_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str) -> timedelta:
    """`7d`, `12h`, `30m`, `45s`, `2w` or `0` as a timedelta; ValueError names the accepted forms."""
    match = _DURATION.match(value or "")
    if match is None:
        raise ValueError(
            f"{value!r} is not a duration: use a number with s, m, h, d or w (e.g. 7d, 12h) or 0"
        )
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


class SettingsError(ValueError):
    """The environment names an incomplete combination; the message says what is missing."""


class Settings(BaseSettings):
    """The environment, as docs/configuration.md documents it. Secrets stay `SecretStr` so they never print."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path.cwd() / DEFAULT_DATABASE_FILE}")
    redis_url: SecretStr | None = None
    scalebot_config: Path | None = None
    # How long an uninstalled workspace's data is kept before it is deleted (`7d`, `12h`, `0`).
    scalebot_uninstall_grace: str = "7d"
    log_level: str = "INFO"
    log_format: str = "text"
    # The bearer token Alertmanager's webhook receiver sends; without it `POST /alertmanager/webhook` is off.
    scalebot_alertmanager_token: SecretStr | None = None

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "slack_client_secret",
        "redis_url",
        "scalebot_alertmanager_token",
        mode="before",
    )
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_client_id", "scalebot_config", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("scalebot_uninstall_grace")
    @classmethod
    def _grace_is_a_duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def uninstall_grace(self) -> timedelta:
        return parse_duration(self.scalebot_uninstall_grace)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        fmt = value.lower()
        if fmt not in {"text", "json"}:
            raise ValueError("LOG_FORMAT must be 'text' or 'json'")
        return fmt

    @field_validator("database_url")
    @classmethod
    def _psycopg3_driver(cls, value: str) -> str:
        # Operators paste URLs from their provider; SQLAlchemy would pick psycopg2 for a bare scheme.
        for bare in ("postgres://", "postgresql://"):
            if value.startswith(bare):
                return "postgresql+psycopg://" + value[len(bare) :]
        return value

    @cached_property
    def mode(self) -> Mode:
        """The mode the credentials select; raises `SettingsError` naming what is missing."""
        return resolve_mode(self)

    @property
    def slack_web_url(self) -> str:
        """Slack's web origin (for the OAuth authorize page), derived from the Web API URL."""
        base = self.slack_api_url.rstrip("/")
        return base[: -len("/api")] if base.endswith("/api") else base

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def secret_values(self) -> list[str]:
        """Every secret this process was configured with, for the log redaction filter."""
        values = [
            s.get_secret_value()
            for s in (
                self.slack_bot_token,
                self.slack_signing_secret,
                self.slack_app_token,
                self.slack_client_secret,
                self.scalebot_alertmanager_token,
            )
            if s is not None
        ]
        if self.redis_url is not None and "@" in self.redis_url.get_secret_value():
            values.append(self.redis_url.get_secret_value())
        return [v for v in values if v]

    @property
    def redis(self) -> str | None:
        return self.redis_url.get_secret_value() if self.redis_url else None


def resolve_mode(s: Settings) -> Mode:
    """Pick the mode from the credentials, refusing incomplete combinations."""
    bot, signing, app_token = s.slack_bot_token, s.slack_signing_secret, s.slack_app_token
    client_id, client_secret = s.slack_client_id, s.slack_client_secret

    if client_id or client_secret:
        missing = [
            name
            for name, value in (
                ("SLACK_CLIENT_ID", client_id),
                ("SLACK_CLIENT_SECRET", client_secret),
                ("SLACK_SIGNING_SECRET", signing),
            )
            if not value
        ]
        if missing:
            raise SettingsError(
                "Installable (OAuth) mode needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and "
                f"SLACK_SIGNING_SECRET; missing: {', '.join(missing)}."
            )
        if bot:
            raise SettingsError(
                "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: in OAuth mode each workspace's token "
                "comes from its installation. Unset SLACK_BOT_TOKEN, or unset the client id and secret "
                "for a single workspace."
            )
        return Mode.OAUTH
    if app_token:
        if not bot:
            raise SettingsError("Socket Mode needs SLACK_BOT_TOKEN as well as SLACK_APP_TOKEN.")
        return Mode.SOCKET
    if bot:
        if not signing:
            raise SettingsError(
                "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is empty: HTTP mode needs the signing "
                "secret (Basic Information > App Credentials), or set SLACK_APP_TOKEN for Socket Mode."
            )
        return Mode.HTTP
    if signing:
        raise SettingsError(
            "SLACK_SIGNING_SECRET is set without SLACK_BOT_TOKEN (one workspace) or "
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (installable app)."
        )
    return Mode.LOCAL


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; overrides are for tests and the CLI."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    _ = settings.mode  # validate the combination at start-up, not at the first request
    return settings
