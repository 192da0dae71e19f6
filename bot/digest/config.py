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
    # The org-wide parent lists the most urgent items of each agenda category up to this many, then
    # "and N more" with a link to the readiness canvas.
    agenda_cap: int = Field(default=5, ge=1, le=25)
    # Thread replies: one per team on the agenda, the most urgent first, up to this many (a workspace
    # with no more teams than this gets one reply per team).
    reply_cap: int = Field(default=20, ge=0, le=1000)
    # A team manager's own digest goes by DM, or to the channel named here for them.
    manager_channels: dict[UserId, ChannelId] = {}
