"""A workspace's digest schedule: the config file's, with what `/scale-check setup` stored winning.

Plain values: the file's `DigestConfig` and the stored override (a dict) in, a `Schedule` out, and the
cron trigger in the workspace's own time zone (Monday 09:00 by default). When neither the file nor setup
names a zone, the workspace's own zone is used (its installer's or primary owner's, `bot/digest/zone.py`),
and UTC only when Slack does not tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.digest.config import DigestConfig

ZoneSource = Literal["set", "workspace", "utc"]

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
    # Where the zone comes from: named in the file or setup, the workspace's own, or UTC for want of one.
    zone_source: ZoneSource = "set"
    agenda_cap: int = 5
    reply_cap: int = 20
    # A manager's own digest goes to this channel instead of a DM (config file and setup).
    manager_channels: tuple[tuple[str, str], ...] = ()

    def manager_channel(self, user_id: str) -> str | None:
        return dict(self.manager_channels).get(user_id)

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

    def shown(self) -> dict[str, Any]:
        """The digest fields as the setup modal shows them (to tell what someone changed)."""
        return shown_fields(self)


class DigestFields(Protocol):
    @property
    def channel(self) -> str | None: ...
    @property
    def day(self) -> str: ...
    @property
    def time(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def managers(self) -> tuple[str, ...]: ...


def shown_fields(fields: DigestFields) -> dict[str, Any]:
    """The digest fields in one comparable shape, for the schedule in force and a modal's submission."""
    return {
        "channel": fields.channel,
        "day": fields.day,
        "time": fields.time,
        "timezone": fields.timezone,
        "managers": sorted(fields.managers),
    }


def zone_is_set(file: DigestConfig, stored: dict[str, Any] | None) -> bool:
    """Whether setup or the file names the digest's time zone (else it is the workspace's own)."""
    return bool(stored and stored.get("timezone")) or "timezone" in file.model_fields_set


def effective(
    file: DigestConfig,
    stored: dict[str, Any] | None,
    *,
    file_sets_workspace: bool = False,
    workspace_zone: str | None = None,
    own_channels: Mapping[str, str] | None = None,
) -> Schedule:
    """The schedule in force: the stored override where it exists, else the file; the zone, when
    neither names one, is `workspace_zone` (else UTC)."""
    in_file = file_sets_workspace or file.channel is not None
    source: ZoneSource = "set"
    if not zone_is_set(file, stored):
        source = "workspace" if workspace_zone else "utc"
        file = file.model_copy(update={"timezone": workspace_zone or "UTC"})
    channels = tuple(sorted({**file.manager_channels, **dict(own_channels or {})}.items()))
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
            zone_source=source,
            agenda_cap=file.agenda_cap,
            reply_cap=file.reply_cap,
            manager_channels=channels,
        )
    return Schedule(
        channel=file.channel,
        day=file.day,
        time=file.time,
        timezone=file.timezone,
        managers=tuple(file.managers),
        grace_hours=file.grace_hours,
        in_file=in_file,
        zone_source=source,
        agenda_cap=file.agenda_cap,
        reply_cap=file.reply_cap,
        manager_channels=channels,
    )
