"""Config-file model for the weekly digest of a workspace (capability 5)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.configbase import ChannelId, ClockTime, Strict, TimeZone, UserId

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class DigestConfig(Strict):
    channel: ChannelId | None = None
    day: Weekday = "monday"
    time: ClockTime = "09:00"
    # Left out, the digest runs in the workspace's own zone (`bot/digest/zone.py`); UTC is only the
    # fallback when Slack does not tell it, so `schedule.zone_is_set` asks whether it was given.
    timezone: TimeZone = "UTC"
    managers: list[UserId] = []
    grace_hours: float = Field(default=12, ge=0, le=24 * 6)
