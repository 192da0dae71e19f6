"""`/scale-check incident …` parsed into what to do (plain values; the ack refuses what does not parse)."""

from __future__ import annotations

import re
from dataclasses import dataclass

USAGE = "<component> [note] | list | withdraw <#> | predictions | watch <#> <signal>"
EXAMPLE = "/scale-check incident database primary ran out of connections at 14:05"
HOW = (
    "Say what broke: `/scale-check incident database [note]` (quote a name of several words: "
    '`/scale-check incident "search index" reindex stalled`), `/scale-check incident list`, or '
    "`/scale-check incident withdraw 12`."
)
_QUOTED = re.compile(r'^\s*["“”]([^"“”]+)["“”]\s*(.*)$', re.S)


@dataclass(frozen=True)
class ListOutcomes:
    pass


@dataclass(frozen=True)
class Withdraw:
    outcome_id: int


@dataclass(frozen=True)
class ListPredictions:
    pass


@dataclass(frozen=True)
class Watch:
    prediction_id: int
    signal: str


@dataclass(frozen=True)
class Incident:
    component: str
    note: str = ""


Parsed = ListOutcomes | Withdraw | ListPredictions | Watch | Incident
_SIGNAL = re.compile(r"^[a-z][a-z0-9_]{0,119}$")


def parse(args: str) -> Parsed | str:
    """What the arguments ask for, or a sentence saying how to fix them."""
    text = args.strip()
    if not text or text.lower() == "list":
        return ListOutcomes()
    head, _, rest = text.partition(" ")
    if head.lower() == "withdraw":
        number = rest.strip().lstrip("#")
        if not number.isdigit() or len(number) > 12:
            return "Say which outcome to withdraw by its number: `/scale-check incident withdraw 12`."
        return Withdraw(int(number))
    if head.lower() == "predictions" and not rest.strip():
        return ListPredictions()
    if head.lower() == "watch":
        number, _, signal = rest.strip().lstrip("#").partition(" ")
        if not number.isdigit() or len(number) > 12 or not _SIGNAL.match(signal.strip()):
            return (
                "Say which prediction and which of the team's signals shows it breaking: "
                "`/scale-check incident watch 7 db_connections` (`/scale-check incident predictions` lists them)."
            )
        return Watch(int(number), signal.strip())
    quoted = _QUOTED.match(text)
    if quoted:
        component, note = quoted.group(1).strip(), quoted.group(2).strip()
    else:
        component, note = head, rest.strip()
    if not component:
        return HOW
    if len(component) > 80:
        return "Keep the component's name to 80 characters."
    if len(note) > 500:
        return "Keep the note to 500 characters."
    return Incident(component, note)


def problem(args: str) -> str | None:
    parsed = parse(args)
    return parsed if isinstance(parsed, str) else None
