"""Config-file models for pre-mortems (capability 2)."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.configbase import Strict, shown

COMPONENT_MAX = 80  # characters of a component's name, in the config and in the answer modal


class TeamPremortemConfig(Strict):
    deadline_hours: float = Field(default=48, gt=0, le=24 * 14)
    components: list[str] = []  # known components suggested when leads name risks
    # Which component a metrics signal measures, for "data says" (e.g. db_connections: database).
    # Without an entry, a signal matches the risks whose names share a word with the signal's name.
    signal_components: dict[str, str] = {}

    @field_validator("components")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name.strip() or len(name) > COMPONENT_MAX:
                raise ValueError(f"component names are 1 to {COMPONENT_MAX} characters, got {shown(name)}")
        return value
