"""Who is away, with plain values: the away list, Do Not Disturb windows, the next working hour in the
person's zone, the daily retry cap, "most leads away" and how the thread says it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from bot.config import AppConfig
from bot.presence.config import AwayConfig
from bot.presence.render import back_text
from bot.presence.rules import (
    Away,
    Dnd,
    Reached,
    Status,
    dnd_until,
    judge,
    most_away,
    next_working_hour,
    retry_at,
    status_is_away,
)

# A Monday, 10:00 UTC.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
CONFIG = AwayConfig()


@pytest.mark.parametrize(
    ("text", "emoji"),
    [
        ("OOO until Monday", ""),
        ("ooo", ""),
        ("Out of office", ""),
        ("On vacation in Lisbon", ""),
        ("Public holiday", ""),
        ("Off sick", ""),
        ("Parental leave 🍼", ""),
        ("", ":palm_tree:"),
        ("Back soon", ":airplane:"),
        ("", ":face_with_thermometer:"),
    ],
)
def test_a_status_on_the_away_list_is_away(text: str, emoji: str) -> None:
    assert status_is_away(Status(text, emoji), CONFIG, NOW)


@pytest.mark.parametrize(
    ("text", "emoji"),
    [
        ("In a meeting", ":spiral_calendar_pad:"),
        ("Zoom calls all day", ""),  # "ooo" only as a whole word
        ("Looking at the sickle chart", ""),  # "sick" only as a whole word
        ("Commuting", ":bus:"),
        ("", ""),
    ],
)
def test_other_statuses_are_not_away(text: str, emoji: str) -> None:
    assert not status_is_away(Status(text, emoji), CONFIG, NOW)


def test_an_expired_status_is_not_away_and_the_list_is_configurable() -> None:
    assert not status_is_away(Status("OOO", ":palm_tree:", NOW - HOUR), CONFIG, NOW)
    assert status_is_away(Status("OOO", "", NOW + HOUR), CONFIG, NOW)
    custom = AwayConfig(words=["Urlaub"], emoji=[":sunny:"])
    assert status_is_away(Status("Im Urlaub", ""), custom, NOW)
    assert status_is_away(Status("", ":sunny:"), custom, NOW)
    assert not status_is_away(Status("OOO", ":palm_tree:"), custom, NOW)
    with pytest.raises(ValidationError):
        AwayConfig(emoji=["palm_tree"])


def test_the_workspace_away_list_overrides_the_default() -> None:
    config = AppConfig.model_validate(
        {"away": {"max_daily_retries": 2}, "workspaces": {"T0001": {"away": {"words": ["Urlaub"]}}}}
    )
    assert config.away_for("T0001").words == ["Urlaub"]
    assert config.away_for("T0002").max_daily_retries == 2


def test_profile_and_dnd_come_from_slacks_shapes() -> None:
    status = Status.of({"status_text": "OOO", "status_emoji": ":palm_tree:", "status_expiration": 0})
    assert status.expiration is None
    ends = int((NOW + HOUR).timestamp())
    assert Status.of({"status_text": "x", "status_expiration": ends}).expiration == NOW + HOUR
    off = Dnd.of({"dnd_enabled": False, "next_dnd_start_ts": 1, "next_dnd_end_ts": 1})
    assert off == Dnd(False, None, None, None)


def test_dnd_is_on_inside_its_window_or_during_a_snooze() -> None:
    window = Dnd(True, NOW - HOUR, NOW + 2 * HOUR)
    assert dnd_until(window, NOW) == NOW + 2 * HOUR
    assert dnd_until(window, NOW + 2 * HOUR) is None  # ended
    assert dnd_until(Dnd(True, NOW + HOUR, NOW + 9 * HOUR), NOW) is None  # tonight's, not yet
    assert dnd_until(Dnd(False, NOW - HOUR, NOW + HOUR), NOW) is None  # turned off
    assert dnd_until(Dnd(snooze_end=NOW + 30 * timedelta(minutes=1)), NOW) == NOW + 30 * timedelta(minutes=1)


def test_judge_says_why_and_until_when() -> None:
    back = NOW + 48 * HOUR
    assert judge(Status("OOO", "", back), None, CONFIG, NOW) == Away("status", back)
    assert judge(Status("Vacation"), None, CONFIG, NOW) == Away("status", None)
    assert judge(Status(), Dnd(True, NOW, NOW + HOUR), CONFIG, NOW) == Away("dnd", NOW + HOUR)
    assert judge(Status("Focus"), Dnd(True, NOW + HOUR, NOW + 2 * HOUR), CONFIG, NOW) == Reached()
    assert judge(None, None, CONFIG, NOW) == Reached()  # nothing could be read: present


def test_the_next_working_hour_is_in_the_persons_own_zone() -> None:
    # Friday 17:30 in Berlin is inside working hours; 18:30 waits for Monday 09:00 Berlin.
    friday = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    assert next_working_hour(friday, "Europe/Berlin") == friday
    later = friday + HOUR
    assert next_working_hour(later, "Europe/Berlin") == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    # The same moment is 11:30 in New York: inside.
    assert next_working_hour(later, "America/New_York") == later
    # 10:00 UTC Monday is 19:00 in Tokyo: Tuesday 09:00 Tokyo (00:00 UTC).
    assert next_working_hour(NOW, "Asia/Tokyo") == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert next_working_hour(NOW, "Not/AZone") == NOW  # an unknown zone reads as UTC


def test_an_away_person_is_retried_after_they_are_back_or_daily_up_to_the_cap() -> None:
    back = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)  # Wednesday 23:00 in Berlin
    assert retry_at(Away("status", back), NOW, "Europe/Berlin", 1, 5) == datetime(
        2026, 11, 26, 8, 0, tzinfo=UTC
    )
    # No end: a day later, in working hours, while tries stay within the cap.
    assert retry_at(Away("status"), NOW, "Europe/Berlin", 1, 2) == NOW + timedelta(days=1)
    assert retry_at(Away("status"), NOW, "Europe/Berlin", 2, 2) == NOW + timedelta(days=1)
    assert retry_at(Away("status"), NOW, "Europe/Berlin", 3, 2) is None
    assert retry_at(Away("status"), NOW, "UTC", 1, 0) is None  # no daily retries at all
    # An end already past (a stale read) is tried now, in working hours.
    assert retry_at(Away("dnd", NOW - HOUR), NOW, "UTC", 1, 5) == NOW


def test_more_than_half_away_at_a_moment() -> None:
    deadline = NOW + 48 * HOUR
    assert most_away({"a": None, "b": deadline + HOUR, "c": False}, deadline)
    assert not most_away({"a": None, "b": deadline - HOUR, "c": False}, deadline)  # b is back
    assert not most_away({"a": None, "b": False}, deadline)  # half is not more than half


def test_the_thread_says_the_day_they_are_back_in_their_zone() -> None:
    tuesday_late = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # already Wednesday in Berlin
    assert back_text(tuesday_late, "America/New_York") == "away until Tue 24 Nov"
    assert back_text(tuesday_late, "Europe/Berlin") == "away until Wed 25 Nov"
    assert back_text(None, "Europe/Berlin") == "away"
