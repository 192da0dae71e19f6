"""What the pre-mortem's buttons and modals carry (`bot.metadata.Carried`): ids, never parsed text."""

from __future__ import annotations

from pydantic import Field

from bot.metadata import Carried


class FromCheck(Carried):
    """ "Start a pre-mortem" under a finished signal check (none: from a launch's metric trigger)."""

    check: int | None = Field(default=None, ge=0)


class StartForm(Carried):
    """The start modal: the team's channel, and the check it was started from, if any."""

    ch: str = Field(min_length=1)
    check: int | None = Field(default=None, ge=0)


class PremortemRef(Carried):
    """A button or modal about one pre-mortem (answer, cancel, close voting)."""

    pm: int = Field(ge=0)


class ExtendRef(PremortemRef):
    """ "Extend by 24 hours": the new deadline, as the button showed it (epoch seconds)."""

    to: int = Field(ge=0)


class SnoozeRef(PremortemRef):
    """ "Snooze a day" on a lead's reminder: which reminder it was."""

    step: str = Field(min_length=1)


class GroupRef(PremortemRef):
    """A risk group of a pre-mortem (vote, unvote, split, its mitigation form)."""

    g: str = Field(min_length=1)


class MitigationRef(Carried):
    """A mitigation, and for a status button or the override form the status it was drawn in."""

    m: int = Field(ge=0)
    s: str | None = None


class StatusRef(MitigationRef):
    """A status button: the status it sets."""

    s: str = Field(min_length=1)
