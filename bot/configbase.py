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
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_CLOCK_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_SHOWN_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,63}$")
# What credentials look like, so a pasted one is never echoed back: vendors' token prefixes (GitHub,
# Slack, JWTs, Jira/Atlassian, New Relic, Linear, OpenAI-style keys, AWS), long hex, long base64-ish runs.
_TOKEN_SHAPES = (
    re.compile(r"^(gh[pousr]_|github_pat_|glpat-|xox[a-z]-|xapp-|eyJ|ATATT|NRAK-|NRRA-|lin_api_|sk-|AKIA)"),
    re.compile(r"[0-9a-fA-F]{20,}"),
    re.compile(r"[A-Za-z0-9+/=-]{32,}"),
    re.compile(r"(?=[A-Z]*[0-9])[A-Z0-9]{16,}"),  # like an AWS key id: a long run with digits in it
)
HIDDEN = "(value not shown: it may be a credential)"
# The same shapes inside a longer message (a path or a sentence around them), for a last redaction.
_TOKENS_IN_TEXT = re.compile(
    r"(?:gh[pousr]_|github_pat_|glpat-|xox[a-z]-|xapp-|eyJ|ATATT|NRAK-|NRRA-|lin_api_|sk-)[\w.\-/+=]*"
    r"|\b[0-9a-fA-F]{20,}\b"
    r"|\b(?=[A-Za-z]*[0-9])(?=[0-9]*[A-Za-z])[A-Za-z0-9]{32,}\b"
    r"|\b(?=[A-Z]*[0-9])[A-Z0-9]{16,}\b"
)


class Strict(BaseModel):
    """Unknown keys are mistakes (a typo would otherwise be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def token_shaped(value: str) -> bool:
    """Whether `value` looks like a credential (a token, a key, a password-like run of characters)."""
    return any(shape.search(value) for shape in _TOKEN_SHAPES)


_BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]{32,}")


def _mixed(match: re.Match[str]) -> str:
    """A long base64-like run is hidden when it mixes cases and digits as keys do (a path rarely does)."""
    run = match.group(0)
    counts = (sum(c.isupper() for c in run), sum(c.islower() for c in run), sum(c.isdigit() for c in run))
    return HIDDEN if min(counts) >= 3 else run


def redact(text: str) -> str:
    """`text` with anything shaped like a credential replaced: the last guard on a config message."""
    return _BASE64_RUN.sub(_mixed, _TOKENS_IN_TEXT.sub(HIDDEN, text))


def looks_like_env_name(value: str) -> bool:
    """An environment variable name as it is safe to echo: upper case, digits and `_`, at most 64
    characters, and not shaped like a token (`GHP_…` is not echoed either)."""
    return bool(_SHOWN_ENV_NAME.match(value)) and not token_shaped(value) and not token_shaped(value.lower())


def shown(value: object) -> str:
    """`value` as an error message may show it: quoted, unless it could be a credential."""
    if isinstance(value, str) and token_shaped(value):
        return HIDDEN
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…'"


def _user_id(value: str) -> str:
    if not _USER_ID.match(value):
        raise ValueError(
            f"{shown(value)} is not a Slack user id (like U0123ABCD); find it in the member's profile"
        )
    return value


def _channel_id(value: str) -> str:
    if not _CHANNEL_ID.match(value):
        raise ValueError(
            f"{shown(value)} is not a Slack channel id (like C0123ABCD); find it under the channel name > About"
        )
    return value


def _workspace_id(value: str) -> str:
    if not _WORKSPACE_ID.match(value):
        raise ValueError(f"{shown(value)} is not a Slack workspace id (like T0123ABCD)")
    return value


def _env_name(value: str) -> str:
    """A `*_env` key names the variable that holds a secret; a pasted secret is refused without echo."""
    if token_shaped(value) or token_shaped(value.lower()):
        raise ValueError(
            "looks like a credential, not an environment variable name: put the secret in an environment "
            "variable and name the variable here (like PROMETHEUS_TOKEN); the value is not shown"
        )
    if not _ENV_NAME.match(value):
        raise ValueError(
            "is not an environment variable name (letters, digits and _, not starting with a digit, at "
            "most 64 characters, like PROMETHEUS_TOKEN): name the variable, not its value; the value is "
            "not shown"
        )
    return value


def env_name_for_message(env_name: str) -> str:
    """How a message names a variable: by name when it looks like one, otherwise not at all."""
    return env_name if looks_like_env_name(env_name) else "(the variable this key names)"


def _clock_time(value: str) -> str:
    if not _CLOCK_TIME.fullmatch(value):
        raise ValueError(f"{shown(value)} is not a time like 09:00 (24-hour HH:MM)")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{shown(value)} is not an IANA time zone like Europe/Berlin") from None
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
