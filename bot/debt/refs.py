"""What the tech-debt form and nudge buttons carry (`bot.metadata.Carried`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from bot.metadata import Carried


class DebtForm(Carried):
    """The tech-debt modal: the team's channel it records for."""

    channel: str = Field(min_length=1)


class NudgeButton(Carried):
    """A nudge's "Acknowledge" / "Plan a Fix-It sprint": the nudge."""

    n: int = Field(ge=0)

    @model_validator(mode="before")
    @classmethod
    def _bare_id(cls, data: Any) -> Any:
        # Nudges posted before the buttons carried JSON objects carry the bare id ("12").
        return {"n": data} if isinstance(data, int) and not isinstance(data, bool) else data
