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
    # The org-wide parent lists the most urgent items of each agenda category up to this many, then
    # "and N more" with a link to the readiness canvas.
    agenda_cap: int = Field(default=5, ge=1, le=25)
    # Thread replies: one per team on the agenda, the most urgent first, up to this many (a workspace
    # with no more teams than this gets one reply per team).
    reply_cap: int = Field(default=20, ge=0, le=1000)
    # A team manager's own digest goes by DM, or to the channel named here for them.
    manager_channels: dict[UserId, ChannelId] = {}

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
