"""How an away person is shown beside their name: "away until Tue 8 Dec" (the day they are back, in
their own zone, as their status or Do Not Disturb says), or "away" when no end is known."""

from __future__ import annotations

from datetime import datetime

from bot.presence.rules import zone

AWAY_EMOJI = ":palm_tree:"


def back_text(until: datetime | None, tz: str | None) -> str:
    if until is None:
        return "away"
    local = until.astimezone(zone(tz))
    return f"away until {local:%a} {local.day} {local:%b}"
