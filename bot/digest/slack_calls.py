"""Posting to Slack at the pace Slack allows: one message a second per channel, and 429s waited out.

Slack allows about one `chat.postMessage` a second per channel (bursts are answered 429 with
`Retry-After`). A digest for many teams puts all their messages in one thread of one channel, so the
poster paces itself per channel instead of bursting into 429s, and waits out the 429s it still gets
(from other posters in the channel, or Slack's own load).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack_api import rate_limited_for

log = logging.getLogger(__name__)

# Seconds between posts to one channel, counted from when the previous one was answered (so Slack, which
# counts from when it received it, always sees at least this much).
POST_INTERVAL = 1.0
MAX_RATE_LIMITED_TRIES = 8
MAX_RETRY_AFTER = 30.0


class ChannelPacer:
    """Spaces calls to the same channel at least `interval` apart (per process, per event loop)."""

    def __init__(self, interval: float | None = None) -> None:
        self.interval = POST_INTERVAL if interval is None else interval
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, channel: str) -> None:
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            loop = asyncio.get_running_loop()
            delay = self._next.get(channel, 0.0) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next[channel] = loop.time() + self.interval

    def posted(self, channel: str) -> None:
        """A post went through just now (maybe after Slack's own retries): the next waits from here."""
        loop = asyncio.get_running_loop()
        self._next[channel] = max(self._next.get(channel, 0.0), loop.time() + self.interval)

    def back_off(self, channel: str, seconds: float) -> None:
        """Slack said wait: nobody posts to this channel before then."""
        loop = asyncio.get_running_loop()
        self._next[channel] = max(self._next.get(channel, 0.0), loop.time() + seconds)


_pacers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ChannelPacer] = weakref.WeakKeyDictionary()


def pacer() -> ChannelPacer:
    """The process's pacer on this event loop (shared by every digest it sends)."""
    loop = asyncio.get_running_loop()
    found = _pacers.get(loop)
    if found is None:
        found = _pacers[loop] = ChannelPacer()
    return found


def _retry_after(exc: SlackApiError) -> float | None:
    wait = rate_limited_for(exc)
    return None if wait is None else min(max(wait, 0.5), MAX_RETRY_AFTER)


async def paced(
    pace_key: str, call: Callable[..., Awaitable[Any]], /, *, posts: bool = True, **kwargs: Any
) -> Any:
    """`call(**kwargs)`, retried after each 429's `Retry-After`; a post (`posts`) also waits its turn
    in its channel (`pace_key`), counted from when the previous post there went through.

    A 429 means Slack did not act on the call, so trying again cannot post twice.
    """
    chosen = pacer()
    for attempt in range(MAX_RATE_LIMITED_TRIES):
        if posts:
            await chosen.wait(pace_key)
        try:
            result = await call(**kwargs)
        except SlackApiError as exc:
            wait = _retry_after(exc)
            if wait is None or attempt == MAX_RATE_LIMITED_TRIES - 1:
                raise
            log.info("rate limited by Slack; waiting", extra={"retry_after": wait, "attempt": attempt + 1})
            chosen.back_off(pace_key, wait)
            if not posts:
                await asyncio.sleep(wait)
            continue
        if posts:
            chosen.posted(pace_key)
        return result
    raise AssertionError("unreachable")  # pragma: no cover
