"""Slack's own `/status` and `/dnd` in the local console, so "who is away" can be tried locally.

    /status :palm_tree: OOO for 3d     status emoji and text, expiring in 3 days (m, h, d; none: no expiry)
    /status Out of office              text only, no expiry
    /status clear
    /dnd 2h                            Do Not Disturb from now for 2 hours (m, h, d)
    /dnd off

Real Slack's `/dnd 2 hours` starts a snooze, which Slack shows to no one but its person (an app can't
see it); here it sets a Do Not Disturb window, which apps do see (`next_dnd_start_ts`–`next_dnd_end_ts`).
"""

from __future__ import annotations

import re

from localslack.store import Store

COMMANDS = ("/status", "/dnd")
_DURATION = re.compile(r"^(\d+)\s*(m|min|mins|minutes?|h|hours?|d|days?)$", re.IGNORECASE)
_SECONDS = {"m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> int | None:
    """Seconds in "90m", "2h", "3 days"; None when it isn't one."""
    found = _DURATION.match(text.strip())
    if not found:
        return None
    return int(found.group(1)) * _SECONDS[found.group(2)[0].lower()]


def run(store: Store, user_id: str, command: str, args: str) -> str:
    """Apply `/status` or `/dnd` for `user_id`; returns what Slackbot answers."""
    args = args.strip()
    now = store.now()
    with store.lock:
        user = store.users[user_id]
        if command == "/dnd":
            if args.lower() in ("off", "end", "stop"):
                user.dnd_start = user.dnd_end = user.snooze_end = 0
                return "Do Not Disturb is off."
            seconds = duration(args or "1h")
            if seconds is None:
                return "Usage: `/dnd 2h` (m, h or d), or `/dnd off`."
            user.dnd_start, user.dnd_end = int(now), int(now + seconds)
            return f"Do Not Disturb is on for {args or '1h'}."
        if args.lower() in ("", "clear"):
            user.status_text, user.status_emoji, user.status_expiration = "", "", 0
            return "Your status is cleared."
        expires = 0
        words = args.split()
        if len(words) >= 2 and words[-2].lower() == "for" and (seconds := duration(words[-1])) is not None:
            expires, words = int(now + seconds), words[:-2]
        emoji = words.pop(0) if words and re.fullmatch(r":[\w+-]+:", words[0]) else ""
        user.status_text, user.status_emoji, user.status_expiration = " ".join(words)[:100], emoji, expires
        until = f" for {args.split()[-1]}" if expires else ""
        return f"Your status is {emoji} {user.status_text}{until}.".replace("  ", " ")
