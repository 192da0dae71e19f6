"""Config-file model for "who is away" (the `away:` section, per workspace under `workspaces.<id>.away`)."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.configbase import Strict

# What a Slack status says when its person is away. Text entries match whole words or phrases in the
# status text, case-insensitively ("OOO" matches "OOO until Monday", not "Zoom"); emoji entries match the
# status emoji exactly.
DEFAULT_WORDS = [
    "ooo",
    "out of office",
    "out of the office",
    "vacation",
    "vacationing",
    "holiday",
    "holidays",
    "on leave",
    "parental leave",
    "sick",
    "off sick",
    "pto",
]
DEFAULT_EMOJI = [
    ":palm_tree:",
    ":airplane:",
    ":face_with_thermometer:",
    ":thermometer:",
    ":beach_with_umbrella:",
    ":desert_island:",
    ":baby:",
    ":mask:",
]


class AwayConfig(Strict):
    enabled: bool = True  # false: everyone is treated as present and no lookups are made
    words: list[str] = Field(default_factory=lambda: list(DEFAULT_WORDS))
    emoji: list[str] = Field(default_factory=lambda: list(DEFAULT_EMOJI))
    # A status without an expiry is looked at again once a day, at most this many times; then the
    # message is given up (the thread still shows the person as away).
    max_daily_retries: int = Field(default=5, ge=0, le=30)

    @field_validator("emoji")
    @classmethod
    def _emoji(cls, value: list[str]) -> list[str]:
        for name in value:
            if not (len(name) > 2 and name.startswith(":") and name.endswith(":")):
                raise ValueError(f"away emoji are written like :palm_tree:, got {name!r}")
        return value

    @field_validator("words")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        for word in value:
            if not word.strip() or len(word) > 60:
                raise ValueError(f"away words are 1 to 60 characters, got {word!r}")
        return value
