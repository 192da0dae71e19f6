"""Mitigation rules: targets, who may change what, when one is overdue, and when "done" is allowed.

A mitigation verified by a metric can be marked done only while the metric meets its target. When the
metric cannot be read (its source is down), a manager may override with a reason, which is recorded.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from bot.premortem.model import OPEN_STATUSES, Mitigation, Target
from bot.premortem.timing import zone

_TARGET = re.compile(
    r"^\s*(?P<op><=|>=|=<|=>|<|>|≤|≥)?\s*(?P<num>[-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?P<unit>%|ms|s)?\s*$"
)
_OPS = {"=<": "<=", "=>": ">=", "≤": "<=", "≥": ">="}
PLAN_MAX = 500
REASON_MIN = 10


class TargetError(ValueError):
    """A target that does not parse; the message says how to write one."""


def parse_target(text: str, default_op: str = "<=") -> Target:
    """`< 0.6`, `<= 250ms`, `>= 99.9%`, `0.7` (the default op): percent and ms become ratios and seconds."""
    match = _TARGET.match(text)
    if not match:
        raise TargetError("Write the target as a comparison and a number, like < 0.6, <= 250ms or >= 99.9%.")
    op = match["op"] or default_op
    op = _OPS.get(op, op)
    value = float(match["num"])
    unit = match["unit"]
    if unit == "%":
        value /= 100
    elif unit == "ms":
        value /= 1000
    return Target(op=op, value=value, text=" ".join(text.split()).lstrip("<>=≤≥ "))


def default_op(signal_name: str) -> str:
    """Availability must stay above its target; everything else (latency, errors, saturation) below."""
    return ">=" if "availability" in signal_name else "<="


def may_change_status(user: str, owner: str, managers: Collection[str], admins: Collection[str]) -> bool:
    """The owner, the team's managers and admins change a mitigation's status."""
    return user == owner or user in managers or user in admins


def may_override(user: str, managers: Collection[str], admins: Collection[str]) -> bool:
    return user in managers or user in admins


def local_today(now: datetime, tz: str | None) -> date:
    """The date it is at `now` in the zone `tz` (UTC when the zone is missing or unknown)."""
    return now.astimezone(zone(tz)).date()


def days_overdue(due: date, status: str, now: datetime, owner_tz: str | None) -> int:
    """Days an open mitigation is past its due date on its owner's calendar (0 when it is not)."""
    if status not in OPEN_STATUSES:
        return 0
    return max(0, (local_today(now, owner_tz) - due).days)


def is_overdue(mitigation: Mitigation, now: datetime) -> bool:
    """Open and past its due date where its owner is (a due date is a day in the owner's life)."""
    return days_overdue(mitigation.due, mitigation.status, now, mitigation.owner_tz) > 0


def age_days(created: datetime, now: datetime) -> int:
    return max(0, (now - created).days)


@dataclass(frozen=True)
class DoneCheck:
    """Whether a metric-verified mitigation may be marked done now, and what to tell the person."""

    allowed: bool
    value: float | None  # the metric now (None: could not read it)
    unavailable: str | None = None  # why it could not be read


def check_done(mitigation: Mitigation, value: float | None, unavailable: str | None) -> DoneCheck:
    """Done is allowed for load-test verification, or while the metric meets its target."""
    if mitigation.verification != "metric" or mitigation.target is None:
        return DoneCheck(True, None)
    if value is None:
        return DoneCheck(False, None, unavailable or "no value")
    return DoneCheck(mitigation.target.met_by(value), value)
