"""Config-file model for the weekly digest of a workspace (capability 5)."""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from bot.configbase import ChannelId, Strict, UserId, shown

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class DigestConfig(Strict):
    channel: ChannelId | None = None
    day: Weekday = "monday"
    time: str = "09:00"
    # Left out, the digest runs in the workspace's own zone (`bot/digest/zone.py`); UTC is only the
    # fallback when Slack does not tell it, so `schedule.zone_is_set` asks whether it was given.
    timezone: str = "UTC"
    managers: list[UserId] = []
    grace_hours: float = Field(default=12, ge=0, le=24 * 6)

    @field_validator("time")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"{shown(value)} is not a time like 09:00 (24-hour HH:MM)")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{shown(value)} is not an IANA time zone like Europe/Berlin") from None
        return value
