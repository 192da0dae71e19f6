"""The launch's rules with plain values: 10:00 on working days in the launch's zone, the offsets, late
starts, missed steps, and when a metric trigger may post again."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from bot.launch.config import LaunchConfig, LaunchOffsets
from bot.launch.rules import (
    calibration_until,
    held_long_enough,
    launch_day_problem,
    may_post_again,
    missed,
    plan,
    step_time,
    step_times,
    working_day,
)

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


def test_each_step_comes_at_ten_in_the_launch_zone_counted_from_the_launch_date() -> None:
    # Monday 21 December 2026: T−14 and T−7 are Mondays; 10:00 in Berlin (winter) is 09:00 UTC.
    times = step_times(date(2026, 12, 21), BERLIN, LaunchConfig())
    assert times["premortem"] == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert times["checklist"] == datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    # T−1 is a Sunday: the go/no-go comes on the Friday before.
    assert times["gonogo"] == datetime(2026, 12, 18, 9, 0, tzinfo=UTC)
    # T+3 is a Thursday.
    assert times["retro"] == datetime(2026, 12, 24, 9, 0, tzinfo=UTC)


def test_a_step_after_the_launch_that_falls_on_a_weekend_comes_the_monday_after() -> None:
    # Launch Thursday 10 December: T+3 is Sunday 13th, so the retro comes Monday 14th at 10:00 in New York.
    assert step_time(date(2026, 12, 10), NEW_YORK, 3, 10) == datetime(2026, 12, 14, 15, 0, tzinfo=UTC)
    assert working_day(date(2026, 12, 12), backwards=True) == date(2026, 12, 11)
    assert working_day(date(2026, 12, 12), backwards=False) == date(2026, 12, 14)


def test_ten_oclock_follows_the_zone_across_daylight_saving() -> None:
    # New York: 10:00 is 14:00 UTC in summer time and 15:00 UTC after 1 November.
    assert step_time(date(2026, 10, 26), NEW_YORK, 0, 10) == datetime(2026, 10, 26, 14, 0, tzinfo=UTC)
    assert step_time(date(2026, 11, 2), NEW_YORK, 0, 10) == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def test_offsets_and_the_hour_come_from_the_config() -> None:
    config = LaunchConfig(offsets=LaunchOffsets(premortem=-21, checklist=-10, gonogo=-2, retro=7), hour=9)
    times = step_times(date(2026, 12, 21), "UTC", config)
    assert times["premortem"] == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert times["checklist"] == datetime(2026, 12, 11, 9, 0, tzinfo=UTC)  # Friday 11th, not Sat–Sun
    assert times["gonogo"] == datetime(2026, 12, 18, 9, 0, tzinfo=UTC)  # Saturday 19th → Friday 18th
    assert times["retro"] == datetime(2026, 12, 28, 9, 0, tzinfo=UTC)
    with pytest.raises(ValidationError, match="premortem must come no later than checklist"):
        LaunchConfig(offsets=LaunchOffsets(premortem=-3, checklist=-7))


def test_a_launch_planned_less_than_two_weeks_ahead_starts_the_due_steps_now_marked_late() -> None:
    now = datetime(2026, 12, 10, 13, 27, 5, 120000, tzinfo=UTC)  # Thursday, 11 days before
    planned = {p.step: p for p in plan(date(2026, 12, 21), BERLIN, LaunchConfig(), now)}
    assert planned["premortem"].late and planned["premortem"].at == now.replace(microsecond=0)
    assert not planned["checklist"].late and planned["checklist"].at == datetime(
        2026, 12, 14, 9, 0, tzinfo=UTC
    )
    # Five days before: the checklist is late too; the go/no-go is not.
    later = plan(date(2026, 12, 21), BERLIN, LaunchConfig(), datetime(2026, 12, 16, 8, 0, tzinfo=UTC))
    assert [(p.step, p.late) for p in later] == [
        ("premortem", True),
        ("checklist", True),
        ("gonogo", False),
        ("retro", False),
    ]


def test_moving_a_launch_leaves_the_steps_that_already_ran() -> None:
    now = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    planned = plan(date(2026, 12, 28), BERLIN, LaunchConfig(), now, frozenset({"premortem"}))
    assert [p.step for p in planned] == ["checklist", "gonogo", "retro"]
    assert not any(p.late for p in planned)


def test_a_launch_date_in_the_past_where_its_creator_is_is_refused() -> None:
    # 23:30 UTC on the 10th is already the 11th in Tokyo.
    now = datetime(2026, 12, 10, 23, 30, tzinfo=UTC)
    assert launch_day_problem(date(2026, 12, 10), "Asia/Tokyo", now) is not None
    assert launch_day_problem(date(2026, 12, 10), NEW_YORK, now) is None
    assert launch_day_problem(date(2029, 1, 1), NEW_YORK, now) == "Pick a date within two years."


def test_a_step_run_later_than_its_grace_is_missed() -> None:
    due = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert not missed(due, due + timedelta(hours=6), timedelta(hours=6))
    assert missed(due, due + timedelta(hours=6, seconds=1), timedelta(hours=6))


def test_a_trigger_posts_at_most_once_per_thirty_days_and_only_after_it_held() -> None:
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    quiet = timedelta(days=30)
    assert may_post_again(None, now, quiet)
    assert not may_post_again(now - timedelta(days=29, hours=23), now, quiet)
    assert may_post_again(now - timedelta(days=30), now, quiet)
    hold = timedelta(minutes=60)
    assert not held_long_enough(None, now, hold)
    assert not held_long_enough(now - timedelta(minutes=59), now, hold)
    assert held_long_enough(now - timedelta(minutes=60), now, hold)


def test_a_launchs_pre_mortem_resolves_at_the_end_of_t_plus_30_in_the_launchs_zone() -> None:
    # Monday 21 December 2026 in Berlin (winter, UTC+1): T+30 is Wednesday 20 January, ending at midnight.
    assert calibration_until(date(2026, 12, 21), "Europe/Berlin") == datetime(2027, 1, 20, 23, 0, tzinfo=UTC)
    # Across a clock change: 1 March + 30 is 31 March, after Berlin moved to summer time (UTC+2).
    assert calibration_until(date(2027, 3, 1), "Europe/Berlin") == datetime(2027, 3, 31, 22, 0, tzinfo=UTC)
    # The same date in Los Angeles ends nine hours later than in Berlin.
    assert calibration_until(date(2026, 12, 21), "America/Los_Angeles") == datetime(
        2027, 1, 21, 8, 0, tzinfo=UTC
    )
