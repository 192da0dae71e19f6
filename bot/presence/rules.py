"""Who is away, as plain values: a Slack status or Do Not Disturb says so; when to try them again.

- A person is away when their status text contains a word or phrase of the away list (whole words,
  any case) or their status emoji is on it, while the status has not expired; or when Do Not Disturb
  is on now (an active snooze, or now inside `next_dnd_start_ts`–`next_dnd_end_ts`). Slack's presence
  ("away" only means idle) is never used.
- An away person is tried again at their first working hour (09:00–18:00, Monday to Friday, in their
  own zone) after the status expires or DND ends; a status without an expiry is tried again a day
  later, at most `max_daily_retries` times.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.presence.config import AwayConfig

WORK_START = time(9, 0)
WORK_END = time(18, 0)
SATURDAY = 5
DAY = timedelta(days=1)

Why = Literal["status", "dnd"]


@dataclass(frozen=True)
class Status:
    text: str = ""
    emoji: str = ""
    expiration: datetime | None = None  # None: the status does not expire

    @classmethod
    def of(cls, profile: Mapping[str, Any]) -> Status:
        """From a `users.profile.get` profile (`status_expiration` 0 means no expiry)."""
        expires = int(profile.get("status_expiration") or 0)
        return cls(
            text=str(profile.get("status_text") or ""),
            emoji=str(profile.get("status_emoji") or ""),
            expiration=datetime.fromtimestamp(expires, UTC) if expires > 0 else None,
        )


@dataclass(frozen=True)
class Dnd:
    enabled: bool = False
    start: datetime | None = None
    end: datetime | None = None
    snooze_end: datetime | None = None  # only ever shown to the person themselves

    @classmethod
    def of(cls, info: Mapping[str, Any]) -> Dnd:
        """From a `dnd.info` answer or one user of `dnd.teamInfo`."""

        def when(key: str) -> datetime | None:
            value = int(info.get(key) or 0)
            return datetime.fromtimestamp(value, UTC) if value > 1 else None

        return cls(
            enabled=bool(info.get("dnd_enabled")),
            start=when("next_dnd_start_ts"),
            end=when("next_dnd_end_ts"),
            snooze_end=when("snooze_endtime") if info.get("snooze_enabled") else None,
        )


@dataclass(frozen=True)
class Reached:
    """The person can be pinged now."""


@dataclass(frozen=True)
class Away:
    """The person is away; `until` is when the status expires or DND ends (None: no end known)."""

    why: Why
    until: datetime | None = None


Reach = Reached | Away


def _phrase(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(word.strip().lower()) + r"(?!\w)")


def status_is_away(status: Status, config: AwayConfig, now: datetime) -> bool:
    """Whether the status (unexpired) is on the away list."""
    if status.expiration is not None and status.expiration <= now:
        return False
    if status.emoji and status.emoji.lower() in {e.lower() for e in config.emoji}:
        return True
    text = status.text.lower()
    return bool(text) and any(_phrase(word).search(text) for word in config.words)


def dnd_until(dnd: Dnd, now: datetime) -> datetime | None:
    """When Do Not Disturb ends, if it is on now; else None."""
    ends = []
    if dnd.snooze_end is not None and dnd.snooze_end > now:
        ends.append(dnd.snooze_end)
    if dnd.enabled and dnd.start is not None and dnd.end is not None and dnd.start <= now < dnd.end:
        ends.append(dnd.end)
    return max(ends) if ends else None


def judge(status: Status | None, dnd: Dnd | None, config: AwayConfig, now: datetime) -> Reach:
    """Reached, or Away with when it ends. An away status wins over DND (it usually lasts longer)."""
    if status is not None and status_is_away(status, config, now):
        quiet = dnd_until(dnd, now) if dnd is not None else None
        until = status.expiration
        if until is not None and quiet is not None:
            until = max(until, quiet)
        return Away("status", until)
    if dnd is not None and (end := dnd_until(dnd, now)) is not None:
        return Away("dnd", end)
    return Reached()


def zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def next_working_hour(after: datetime, tz: str | None) -> datetime:
    """`after` if it is within 09:00–18:00 on a weekday in `tz`, else the next weekday's 09:00 (UTC)."""
    place = zone(tz)
    local = after.astimezone(place)
    if local.weekday() < SATURDAY and WORK_START <= local.time() < WORK_END:
        return after.astimezone(UTC)
    day = local.date() if local.time() < WORK_START else local.date() + DAY
    while day.weekday() >= SATURDAY:
        day += DAY
    return datetime.combine(day, WORK_START, tzinfo=place).astimezone(UTC)


def retry_at(
    away: Away, now: datetime, tz: str | None, tries: int, max_daily_retries: int
) -> datetime | None:
    """When to try an away person again: after their status or DND ends, in their working hours; a
    status without an end is tried daily, `max_daily_retries` times at most (then None: give up).
    `tries` counts the attempts already made that found them away."""
    if away.until is not None:
        return next_working_hour(max(away.until, now), tz)
    if tries > max_daily_retries:
        return None
    return next_working_hour(now + DAY, tz)


def away_at(until: datetime | None, when: datetime) -> bool:
    """Whether someone away until `until` (None: no end known) is still away at `when`."""
    return until is None or until > when


def most_away(untils: Mapping[str, datetime | bool | None], when: datetime) -> bool:
    """More than half of the people are away at `when` (each maps to when they are back, None when no
    end is known, or False when they are not away)."""
    away = sum(1 for u in untils.values() if not isinstance(u, bool) and away_at(u, when))
    return away * 2 > len(untils)
