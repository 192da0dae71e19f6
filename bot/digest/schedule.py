"""A workspace's digest schedule: the config file's, with what `/scale-check setup` stored winning.

Plain values: the file's `DigestConfig` and the stored override (a dict) in, a `Schedule` out, and the
cron trigger in the workspace's own time zone (Monday 09:00 by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.digest.config import DigestConfig

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Schedule:
    channel: str | None
    day: str
    time: str  # HH:MM
    timezone: str
    managers: tuple[str, ...]
    grace_hours: float
    from_setup: bool = False  # setup stored it (and it wins over the file)
    in_file: bool = False  # the config file sets a digest for this workspace too

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.grace_hours)

    @property
    def signature(self) -> str:
        """What identifies the trigger: a stored job whose signature differs is rescheduled."""
        return f"{self.day[:3]} {self.time} {self.timezone}"

    def trigger(self) -> CronTrigger:
        hour, minute = (int(part) for part in self.time.split(":"))
        return CronTrigger(
            day_of_week=self.day[:3], hour=hour, minute=minute, timezone=ZoneInfo(self.timezone)
        )

    def next_run(self, now: datetime) -> datetime | None:
        return self.trigger().get_next_fire_time(None, now)

    def describe(self) -> str:
        return f"{self.day.capitalize()}s at {self.time} ({self.timezone})"


def effective(
    file: DigestConfig, stored: dict[str, Any] | None, *, file_sets_workspace: bool = False
) -> Schedule:
    """The schedule in force: the stored override where it exists, else the file."""
    in_file = file_sets_workspace or file.channel is not None
    if stored:
        return Schedule(
            channel=stored.get("channel") or None,
            day=str(stored.get("day") or file.day),
            time=str(stored.get("time") or file.time),
            timezone=str(stored.get("timezone") or file.timezone),
            managers=tuple(stored.get("managers") or ()),
            grace_hours=file.grace_hours,
            from_setup=True,
            in_file=in_file,
        )
    return Schedule(
        channel=file.channel,
        day=file.day,
        time=file.time,
        timezone=file.timezone,
        managers=tuple(file.managers),
        grace_hours=file.grace_hours,
        in_file=in_file,
    )
