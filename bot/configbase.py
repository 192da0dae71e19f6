"""Shared pieces of the YAML config models: strict models, Slack ids, secrets named by env var."""

from __future__ import annotations

import os
import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_WORKSPACE_ID = re.compile(r"^[TE][A-Z0-9]{2,}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CLOCK_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


class Strict(BaseModel):
    """Unknown keys are mistakes (a typo would otherwise be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _user_id(value: str) -> str:
    if not _USER_ID.match(value):
        raise ValueError(
            f"{value!r} is not a Slack user id (like U0123ABCD); find it in the member's profile"
        )
    return value


def _channel_id(value: str) -> str:
    if not _CHANNEL_ID.match(value):
        raise ValueError(
            f"{value!r} is not a Slack channel id (like C0123ABCD); find it under the channel name > About"
        )
    return value


def _workspace_id(value: str) -> str:
    if not _WORKSPACE_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack workspace id (like T0123ABCD)")
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not an environment variable name; name the variable, not its value")
    return value


def _clock_time(value: str) -> str:
    if not _CLOCK_TIME.fullmatch(value):
        raise ValueError(f"{value!r} is not a time like 09:00 (24-hour HH:MM)")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone like Europe/Berlin") from None
    return value


UserId = Annotated[str, AfterValidator(_user_id)]
ChannelId = Annotated[str, AfterValidator(_channel_id)]
WorkspaceId = Annotated[str, AfterValidator(_workspace_id)]
EnvName = Annotated[str, AfterValidator(_env_name)]
ClockTime = Annotated[str, AfterValidator(_clock_time)]  # "09:00", 24-hour HH:MM
TimeZone = Annotated[str, AfterValidator(_time_zone)]  # an IANA name, like Europe/Berlin


def read_secret(env_name: str | None) -> str | None:
    """The value of a secret the config names by environment variable (None when not named)."""
    if env_name is None:
        return None
    return os.environ.get(env_name) or None
