"""When things happen: the reveal rule, the deadline, and reminders inside each lead's working hours.

- Answers are revealed when every current lead has answered, or when the deadline has passed.
- Leads who have not answered get one reminder halfway to the deadline and one 2 hours before it.
- A reminder is sent between 09:00 and 18:00, Monday to Friday, in the lead's own time zone (their Slack
  profile's); one that would fall outside waits for 09:00 the next working morning (Monday's after a
  weekend in the lead's zone), unless the deadline comes first, in which case it is not sent (after the
  deadline the answers are revealed anyway).
- Two reminders that would land at the same moment (both pushed to the same morning) become one.
- "Snooze a day" holds a lead's reminders for 24 hours and then reminds once more (same rules).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.premortem.model import RevealReason

WORK_START = time(9, 0)
WORK_END = time(18, 0)
SATURDAY = 5  # date.weekday(): Monday is 0, so Saturday and Sunday are 5 and 6
FINAL_BEFORE = timedelta(hours=2)
SNOOZE = timedelta(days=1)
EXTEND_BY = timedelta(hours=24)

HALFWAY = "halfway"
FINAL = "final"


def reveal_reason(
    leads: Collection[str], answered: Collection[str], deadline: datetime, now: datetime
) -> RevealReason | None:
    """Why the answers can be shown now, or None while they must stay hidden."""
    if leads and set(leads) <= set(answered):
        return "all_answered"
    if now >= deadline:
        return "deadline"
    return None


def zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def working_time(when: datetime, tz: str | None) -> datetime:
    """`when` if it is inside 09:00–18:00 on a weekday in `tz`, else the next weekday's 09:00 there (UTC)."""
    place = zone(tz)
    local = when.astimezone(place)
    if local.weekday() < SATURDAY and WORK_START <= local.time() < WORK_END:
        return when.astimezone(UTC)
    day = local.date() if local.time() < WORK_START else local.date() + timedelta(days=1)
    while day.weekday() >= SATURDAY:
        day += timedelta(days=1)
    return datetime.combine(day, WORK_START, tzinfo=place).astimezone(UTC)


def reminder_time(when: datetime, tz: str | None, deadline: datetime) -> datetime | None:
    """When a reminder due at `when` is sent: in working hours and before the deadline, else None."""
    at = working_time(when, tz)
    return at if at < deadline else None


def reminder_plan(started: datetime, deadline: datetime, tz: str | None) -> list[tuple[str, datetime]]:
    """The reminders a lead gets, as (step, when): halfway and 2 hours before the deadline."""
    halfway = started + (deadline - started) / 2
    raw = [(HALFWAY, halfway)]
    final = deadline - FINAL_BEFORE
    if final > halfway:
        raw.append((FINAL, final))
    planned: list[tuple[str, datetime]] = []
    for step, when in raw:
        at = reminder_time(when, tz, deadline)
        if at is not None:
            planned.append((step, at))
    # Two steps pushed to the same morning: keep only the later step (it says more about the deadline).
    return [
        (step, at)
        for i, (step, at) in enumerate(planned)
        if all(at != later for _, later in planned[i + 1 :])
    ]


def snooze_step(step: str) -> str:
    """The step of the reminder that follows a snooze of `step` (one per reminder snoozed)."""
    return f"{step}+1d"


def snoozed_reminder(
    clicked: datetime, tz: str | None, deadline: datetime
) -> tuple[datetime, datetime | None]:
    """(snoozed until, when the next reminder goes or None when the deadline comes first)."""
    until = clicked + SNOOZE
    return until, reminder_time(until, tz, deadline)
