"""The launch's rules with plain values: when each step comes, which start late, and when a metric
trigger may post again. Nothing here reads storage or Slack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.launch.config import LaunchConfig

StepName = Literal["premortem", "checklist", "gonogo", "retro"]
STEPS: tuple[StepName, ...] = ("premortem", "checklist", "gonogo", "retro")
STEP_TITLES: dict[str, str] = {
    "premortem": "Pre-mortem",
    "checklist": "Signal checklist",
    "gonogo": "Go/no-go summary",
    "retro": "Retro prompt",
}
SATURDAY = 5
CALIBRATION_DAYS = 30  # a launch's pre-mortem is checked against what broke up to T+30


@dataclass(frozen=True)
class PlannedStep:
    step: StepName
    at: datetime  # UTC, whole seconds
    late: bool  # its time had passed when the launch was created or moved: it runs at once


def working_day(day: date, *, backwards: bool) -> date:
    """`day`, or the nearest Monday–Friday before it (`backwards`) or after it."""
    step = timedelta(days=-1 if backwards else 1)
    while day.weekday() >= SATURDAY:
        day += step
    return day


def step_time(launch_day: date, zone: str, offset_days: int, hour: int) -> datetime:
    """`offset_days` from the launch, at `hour`:00 in `zone`, on a working day: a step before the launch
    comes on the working day before a weekend, one after it on the Monday after (UTC, whole seconds)."""
    day = working_day(launch_day + timedelta(days=offset_days), backwards=offset_days < 0)
    local = datetime.combine(day, time(hour, 0), tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def step_times(launch_day: date, zone: str, config: LaunchConfig) -> dict[StepName, datetime]:
    offsets = config.offsets
    days = {"premortem": offsets.premortem, "checklist": offsets.checklist, "gonogo": offsets.gonogo}
    days["retro"] = offsets.retro
    return {s: step_time(launch_day, zone, days[s], config.hour) for s in STEPS}


def plan(
    launch_day: date, zone: str, config: LaunchConfig, now: datetime, already: frozenset[str] = frozenset()
) -> list[PlannedStep]:
    """The steps still to come (those in `already` ran or were skipped): each at its time, or now and
    marked late when that time has passed."""
    start = now.astimezone(UTC).replace(microsecond=0)
    out = []
    for step, at in step_times(launch_day, zone, config).items():
        if step in already:
            continue
        out.append(PlannedStep(step, at, False) if at > start else PlannedStep(step, start, True))
    return out


def calibration_until(launch_day: date, zone: str, days: int = CALIBRATION_DAYS) -> datetime:
    """When the predictions of a launch's pre-mortem resolve: the end of the launch's T+`days` (the
    midnight after it) in the launch's zone, in UTC. An outcome on T+30 itself still counts."""
    end = datetime.combine(launch_day + timedelta(days=days + 1), time(0, 0), tzinfo=ZoneInfo(zone))
    return end.astimezone(UTC)


def launch_day_problem(launch_day: date, zone: str, now: datetime) -> str | None:
    """Why a launch cannot be on `launch_day` (in the past where its creator is), or None."""
    today = now.astimezone(ZoneInfo(zone)).date()
    if launch_day < today:
        return f"That date has passed ({launch_day.isoformat()}); pick today or a later day."
    if launch_day > today + timedelta(days=730):
        return "Pick a date within two years."
    return None


def missed(run_time: datetime, now: datetime, grace: timedelta) -> bool:
    """A step whose run comes more than `grace` after its time (the bot was down) is skipped, not run."""
    return now - run_time > grace


# --- metric triggers -------------------------------------------------------------------------------


def held_long_enough(breached_since: datetime | None, now: datetime, hold: timedelta) -> bool:
    """A trigger counts once it has stayed breached for `hold` (it newly breached at `breached_since`)."""
    return breached_since is not None and now - breached_since >= hold


def may_post_again(last_posted: datetime | None, now: datetime, quiet: timedelta) -> bool:
    """At most one post per trigger per `quiet` (30 days by default)."""
    return last_posted is None or now - last_posted >= quiet


def headroom_key(signal: str) -> str:
    return f"headroom:{signal}"


def trigger_key(signal: str, subject: str | None) -> str:
    return f"trigger:{signal}:{subject}" if subject else f"trigger:{signal}"
