"""What a button's `value` or a modal's `private_metadata` carries: one family of typed models.

Every such payload is a subclass of `Carried`: a small pydantic model that dumps to compact JSON
(checked against Slack's limits: 2,000 characters for a button's value, 3,000 for a modal's
private_metadata) and parses back with `parse`, which answers a value that is not ours (forged,
truncated, or drawn by an older version that carried something else) with a sentence for the person,
never a stack trace. `load` is the quiet form (None) for a caller that has its own way to say it.

This module imports neither storage nor Slack: render modules build payloads with it, listeners parse
them.
"""

from __future__ import annotations

import json
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.errors import UserError

BUTTON_VALUE_MAX = 2000  # Slack: a button element's `value`
PRIVATE_METADATA_MAX = 3000  # Slack: a view's `private_metadata`

OUT_OF_DATE = (
    "That button or form is out of date; the message has been redrawn since. Try again from the latest one."
)


class MetadataTooLong(ValueError):
    """A payload longer than Slack keeps: a bug in the caller, raised before Slack refuses the message."""


class Carried(BaseModel):
    """Base of every button value and modal private_metadata: compact JSON both ways, with Slack's limits.

    Unknown keys are ignored (a button drawn by an older version still works when it carries what is
    needed); a missing or mistyped field is refused.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    def dump(self) -> str:
        """The button value (at most 2,000 characters)."""
        return self._dump(BUTTON_VALUE_MAX, "a button's value")

    def metadata(self) -> str:
        """The modal's private_metadata (at most 3,000 characters)."""
        return self._dump(PRIVATE_METADATA_MAX, "a modal's private_metadata")

    def _dump(self, limit: int, what: str) -> str:
        text = json.dumps(
            self.model_dump(mode="json", exclude_none=True), separators=(",", ":"), sort_keys=True
        )
        if len(text) > limit:
            raise MetadataTooLong(f"{type(self).__name__} is {len(text)} characters; {what} holds {limit}")
        return text

    @classmethod
    def load(cls, raw: str | None) -> Self | None:
        """The payload, or None for one that is not ours (empty, not JSON, missing or mistyped fields)."""
        if not raw or len(raw) > PRIVATE_METADATA_MAX:
            return None
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            return None

    @classmethod
    def parse(cls, raw: str | None, sentence: str = OUT_OF_DATE) -> Self:
        """The payload, or a `UserError` whose `sentence` the person is shown (ephemerally)."""
        found = cls.load(raw)
        if found is None:
            raise UserError(sentence)
        return found
