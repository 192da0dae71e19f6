"""`/scale-check debt …`: what a person typed, read into a command, or a sentence saying how to fix it.

Pure: the router's `check` runs `problem()` in the ack, so a malformed figure is answered at once and
nothing is recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal

Unit = Literal["points", "hours"]

MAX_SPRINT_NAME = 80
MAX_FIGURE = Decimal(1_000_000)

USAGE = '[12 of 50 | 12/50 | 24% of 50] [points|hours] [sprint "Name"] | history | sync'
EXAMPLE = '/scale-check debt 12 of 50 points sprint "Sprint 42"'
ACCEPTED = (
    "Accepted forms: `/scale-check debt 12 of 50`, `/scale-check debt 12/50` or "
    "`/scale-check debt 24% of 50`, each optionally followed by `points` or `hours`, "
    '`sprint "Sprint 42"` and `from 2026-03-02 to 2026-03-13`; `/scale-check debt` alone opens a form, '
    "`/scale-check debt history` lists the sprints, `/scale-check debt sync` imports from the tracker now."
)

_UNITS: dict[str, Unit] = {
    "point": "points",
    "points": "points",
    "pts": "points",
    "hour": "hours",
    "hours": "hours",
    "hrs": "hours",
}
_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_FIGURE = re.compile(
    rf"^(?P<debt>{_NUMBER})\s*(?P<pct>%)?\s*(?:of|/)\s*(?P<cap>{_NUMBER})(?=\s|$)", re.IGNORECASE
)
_SPRINT_QUOTED = re.compile(r"\bsprint\s+\"(?P<name>[^\"]*)\"", re.IGNORECASE)
_SPRINT_BARE = re.compile(r"\bsprint\s+(?P<name>.+?)(?=\s+(?:from|points?|pts|hours?|hrs)\b|\s*$)", re.I)
_DATES = re.compile(r"\bfrom\s+(?P<starts>\S+)\s+to\s+(?P<ends>\S+)", re.IGNORECASE)


class CommandError(ValueError):
    """The arguments cannot be read; the message says what is wrong (the accepted forms follow it)."""


@dataclass(frozen=True)
class Record:
    """Record a sprint's figures (the current sprint unless `sprint` names one)."""

    debt: Decimal
    capacity: Decimal
    unit: Unit | None = None
    sprint: str | None = None
    starts: date | None = None
    ends: date | None = None
    typed: str = ""  # the figure as typed, e.g. "24% of 50"


@dataclass(frozen=True)
class OpenForm:
    """No arguments: the form, and the allocation once a sprint exists."""


@dataclass(frozen=True)
class ShowHistory:
    pass


@dataclass(frozen=True)
class Sync:
    pass


DebtCommand = Record | OpenForm | ShowHistory | Sync


def normalise(text: str) -> str:
    """Undo Slack's escaping of & < > and straighten typographic quotes."""
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    for curly in "“”„‟″":
        text = text.replace(curly, '"')
    return " ".join(text.split())


def parse(args: str) -> DebtCommand:
    """Read the arguments of `/scale-check debt`; raises `CommandError` with what to fix."""
    text = normalise(args)
    word = text.lower()
    if not text:
        return OpenForm()
    if word == "history":
        return ShowHistory()
    if word == "sync":
        return Sync()
    sprint, text = _take_sprint(text)
    starts, ends, text = _take_dates(text)
    match = _FIGURE.match(text)
    if match is None:
        raise CommandError(f"I couldn't read the figures in `{_shown(args)}`.")
    debt_text, cap_text = match.group("debt"), match.group("cap")
    debt, capacity = _number(debt_text), _number(cap_text)
    if debt < 0 or capacity < 0:
        raise CommandError("Figures can't be negative.")
    if capacity == 0:
        raise CommandError("The capacity must be more than 0.")
    if capacity > MAX_FIGURE:
        raise CommandError(f"A capacity of {cap_text} is more than I can believe for one sprint.")
    percent = match.group("pct") is not None
    if percent:
        if debt > 100:
            raise CommandError(f"{debt_text}% is more than all of the capacity.")
        typed = f"{debt_text}% of {cap_text}"
        debt = debt * capacity / 100
    else:
        typed = f"{debt_text} of {cap_text}"
    if debt > capacity:
        raise CommandError(f"The debt part ({debt_text}) can't be more than the capacity ({cap_text}).")
    unit, rest = _take_unit(text[match.end() :].strip())
    if rest:
        raise CommandError(f"I don't know what `{_shown(rest)}` means here.")
    return Record(
        debt=debt, capacity=capacity, unit=unit, sprint=sprint, starts=starts, ends=ends, typed=typed
    )


def problem(args: str) -> str | None:
    """The router's `check`: None when the arguments read, else what to fix and the accepted forms."""
    try:
        parse(args)
    except CommandError as exc:
        return f"{exc} {ACCEPTED}"
    return None


def _shown(text: str) -> str:
    return text.replace("`", "'")[:100]


def _number(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        raise CommandError(f"`{text}` is not a number.") from None


def _take_sprint(text: str) -> tuple[str | None, str]:
    match = _SPRINT_QUOTED.search(text) or _SPRINT_BARE.search(text)
    if match is None:
        if re.search(r"\bsprint\b", text, re.IGNORECASE):
            raise CommandError('Name the sprint after `sprint`, like `sprint "Sprint 42"`.')
        return None, text
    name = match.group("name").strip().strip('"').strip()
    if not name:
        raise CommandError('The sprint needs a name, like `sprint "Sprint 42"`.')
    if len(name) > MAX_SPRINT_NAME:
        raise CommandError(f"A sprint name can be at most {MAX_SPRINT_NAME} characters.")
    return name, (text[: match.start()] + " " + text[match.end() :]).strip()


def _take_dates(text: str) -> tuple[date | None, date | None, str]:
    match = _DATES.search(text)
    if match is None:
        if re.search(r"\bfrom\b", text, re.IGNORECASE):
            raise CommandError("Give both dates, like `from 2026-03-02 to 2026-03-13`.")
        return None, None, text
    try:
        starts = date.fromisoformat(match.group("starts"))
        ends = date.fromisoformat(match.group("ends"))
    except ValueError:
        raise CommandError("Dates are written like 2026-03-02.") from None
    if ends < starts:
        raise CommandError(
            f"The sprint can't end ({ends.isoformat()}) before it starts ({starts.isoformat()})."
        )
    return starts, ends, (text[: match.start()] + " " + text[match.end() :]).strip()


def _take_unit(text: str) -> tuple[Unit | None, str]:
    words = text.split()
    if words and words[0].lower() in _UNITS:
        return _UNITS[words[0].lower()], " ".join(words[1:])
    return None, text
