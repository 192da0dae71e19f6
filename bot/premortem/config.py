"""Config-file models for pre-mortems (capability 2)."""

from __future__ import annotations

from pydantic import Field

from bot.configbase import Strict


class TeamPremortemConfig(Strict):
    deadline_hours: float = Field(default=48, gt=0, le=24 * 14)
    components: list[str] = []  # known components suggested when leads name risks
