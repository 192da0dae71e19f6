"""Finding the messages an earlier run of the same week posted but did not record (it died in between).

Every digest message carries message metadata (`scalebot_digest`: workspace, ISO week, part, key), so a
run that finds an intent without a ts reads the channel's recent history (for the parent) or the
thread (for team messages and charts) and adopts what is there instead of posting it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from bot.digest.slack_calls import paced
from bot.slack_api import InstrumentedWebClient, pages

METADATA_EVENT = "scalebot_digest"
MAX_HISTORY_PAGES = 3
MAX_REPLY_PAGES = 25


@dataclass(frozen=True)
class Tag:
    """What a digest message says about itself."""

    workspace: str
    week: str

    def metadata(self, part: str, key: str = "") -> dict[str, Any]:
        return {
            "event_type": METADATA_EVENT,
            "event_payload": {"workspace": self.workspace, "week": self.week, "part": part, "key": key},
        }

    def of(self, message: dict[str, Any]) -> tuple[str, str] | None:
        """(part, key) of one of this week's messages, else None."""
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if (
            metadata.get("event_type") != METADATA_EVENT
            or payload.get("workspace") != self.workspace
            or payload.get("week") != self.week
            or not payload.get("part")
        ):
            return None
        return str(payload["part"]), str(payload.get("key", ""))


async def find_parent(client: InstrumentedWebClient, channel: str, tag: Tag) -> str | None:
    """The ts of this week's parent among the channel's latest messages."""
    history = partial(paced, channel, client.conversations_history, posts=False)
    async for page in pages(
        history, max_pages=MAX_HISTORY_PAGES, channel=channel, limit=100, include_all_metadata=True
    ):
        for message in page.get("messages") or []:
            if tag.of(message) == ("parent", ""):
                return str(message["ts"])
    return None


async def thread_messages(
    client: InstrumentedWebClient, channel: str, parent_ts: str, tag: Tag
) -> dict[tuple[str, str], dict[str, Any]]:
    """This week's messages in the thread by (part, key), and its files by ("file", name)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    replies = partial(paced, channel, client.conversations_replies, posts=False)
    async for page in pages(
        replies,
        max_pages=MAX_REPLY_PAGES,
        channel=channel,
        ts=parent_ts,
        limit=200,
        include_all_metadata=True,
    ):
        for message in page.get("messages") or []:
            ours = tag.of(message)
            if ours is not None:
                found[ours] = message
            for file in message.get("files") or []:
                found[("file", str(file.get("name") or file.get("title") or ""))] = message
    return found
