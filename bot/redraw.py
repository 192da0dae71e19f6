"""One redraw engine: stored state → render → hash → paced update, across replicas.

A capability (the checklist's thread, the pre-mortem's thread, a person's App Home) asks for a redraw of
one key after every change it stores; the engine decides when the drawing runs and gives it an `Updater`
to change messages with. The capability's `draw(key, updater)` reads what is stored, renders it, and
updates the messages whose content hash changed.

- **At once.** A request with no drawing under way runs at once, so the person who clicked sees the
  answer as soon as it is stored and drawn.
- **Coalesced.** Requests that arrive while a drawing of the key runs (or within `gap` of the last one)
  share one trailing drawing, which reads the latest state when it starts; so a burst of 40 clicks costs
  a handful of drawings, and the last state always lands.
- **Across replicas.** A drawing holds the key's lock in the cache (Redis, or the in-process cache), so
  two replicas never draw one key at once and an older rendering never lands after a newer one; a
  replica that finds the lock held waits its turn rather than dropping its request.
- **Within Slack's budgets.** `chat.update` is a Tier 3 method (about 50 a minute per workspace, short
  bursts welcome, https://docs.slack.dev/apis/web-api/rate-limits): every `chat.update` the engine makes
  takes a token from a per-workspace bucket kept in the cache and shared by every replica (`BUDGET`,
  under Slack's own). The message a person clicked is redrawn through the click's own `response_url`
  instead, which Slack allows "up to 5 times within 30 minutes" per click
  (https://docs.slack.dev/interactivity/handling-user-interaction) outside the Web API's budgets: the
  clicker sees their answer at once even when a burst has spent the bucket. Each `response_url` is used
  once here (the listener may need another use for an error). A drawing Slack still refuses with a 429
  is drawn again after its Retry-After.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack_api import InstrumentedWebClient, rate_limited_for
from storage.cache import Cache, locked

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

LOCK_SECONDS = 30.0  # a drawing's hold on its key (a crashed replica's lock expires)
LOCK_POLL = 0.05  # how often a replica waiting for another's drawing looks again
HOOK_SECONDS = 25 * 60.0  # a response_url is good for 30 minutes; not used after 25
HOOKS_KEPT = 8  # fresh response_urls remembered per message
_PRUNE_ABOVE = 256


def content_digest(payload: dict[str, Any] | str) -> str:
    """The hash of what a message (or a canvas's markdown) shows: only what changed is sent again."""
    text = payload if isinstance(payload, str) else json.dumps(payload, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Budget:
    """A token bucket: `burst` calls at once, refilled at `per_minute` a minute (per workspace)."""

    per_minute: float
    burst: int


# Under Slack's Tier 3 (50+ a minute; the local Slack allows a burst of 20 then 50 a minute), leaving
# room for the app's other chat.update calls (a mitigation's DM, the digest).
BUDGET = Budget(per_minute=40, burst=15)


class Buckets:
    """Per-workspace `chat.update` buckets in the cache, so every replica spends from the same one."""

    def __init__(self, cache: Cache, budget: Budget | None = None) -> None:
        self.cache, self.budget = cache, budget or BUDGET

    async def take(self, workspace_id: str) -> None:
        """Wait until a `chat.update` in the workspace fits the budget, and spend it."""
        while True:
            wait = await self._try(workspace_id)
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _try(self, workspace_id: str) -> float:
        key = f"redraw:budget:{workspace_id}"
        async with locked(self.cache, f"{key}:lock", 5) as held:
            if not held:
                return LOCK_POLL / 2
            rate, burst = self.budget.per_minute / 60.0, float(self.budget.burst)
            now = time.time()  # wall clock: the bucket is shared by processes
            raw = await self.cache.get(key)
            tokens, at = (burst, now) if raw is None else tuple(json.loads(raw))
            tokens = min(burst, tokens + max(0.0, now - at) * rate)
            spent = tokens >= 1.0
            if spent:
                tokens -= 1.0
            await self.cache.set(key, json.dumps([tokens, now]).encode(), burst / rate + 60)
            return 0.0 if spent else (1.0 - tokens) / rate


@dataclass
class _Hook:
    url: str
    at: float


@dataclass
class Updater:
    """What a drawing changes messages with: a fresh `response_url` of a click on the message when there
    is one, else a `chat.update` within the workspace's budget."""

    client: InstrumentedWebClient
    workspace_id: str
    buckets: Buckets
    hooks: dict[str, list[_Hook]] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)  # "response_url" / "chat.update", in order (tests)

    async def update(self, channel: str, ts: str, payload: dict[str, Any]) -> None:
        """Replace message `ts` with `payload`; raises `SlackApiError` as `chat.update` does."""
        while hooks := self.hooks.get(ts):
            hook = hooks.pop()  # the freshest
            if time.monotonic() - hook.at > HOOK_SECONDS:
                continue
            if await _respond(hook.url, payload):
                self.sent.append("response_url")
                return
        await self.buckets.take(self.workspace_id)
        await self.client.chat_update(channel=channel, ts=ts, **payload)
        self.sent.append("chat.update")


async def _respond(url: str, payload: dict[str, Any]) -> bool:
    body = {**payload, "replace_original": True}
    try:
        response = await AsyncWebhookClient(url, timeout=5).send_dict(body)
    except Exception as exc:  # a response_url is a shortcut: chat.update is the way that always works
        log.info("a response_url could not be used", extra={"error": type(exc).__name__})
        return False
    if response.status_code != 200:
        log.info("a response_url was refused", extra={"error": response.body[:40]})
        return False
    return True


def retry_after(exc: SlackApiError) -> float:
    """The Retry-After of a 429, clamped to 1–60 s (1 when missing or odd)."""
    return min(max(rate_limited_for(exc) or 1.0, 1.0), 60.0)


@dataclass
class _Slot:
    pending: bool = False
    last: float = float("-inf")
    task: asyncio.Task[None] | None = None
    hooks: dict[str, list[_Hook]] = field(default_factory=dict)


Draw = Callable[[K, Updater], Awaitable[None]]


class Redraw(Generic[K]):
    """Runs `draw(key, updater)` for every request: at once when idle, coalesced while busy."""

    def __init__(
        self,
        name: str,
        cache: Cache,
        draw: Draw[K],
        *,
        client_for: Callable[[str], Awaitable[InstrumentedWebClient]],
        workspace_of: Callable[[K], str],
        gap: float = 0.0,
        buckets: Buckets | None = None,
    ) -> None:
        self.name, self.cache, self.draw = name, cache, draw
        self.client_for, self.workspace_of = client_for, workspace_of
        self.gap = gap
        self.buckets = buckets or Buckets(cache)
        self._slots: dict[K, _Slot] = {}

    def request(
        self, key: K, *, ts: str | None = None, response_url: str | None = None
    ) -> asyncio.Task[None]:
        """Ask for a drawing of `key`; `ts`/`response_url`: the message a click came from, and the
        click's response_url, used to redraw that message outside the chat.update budget."""
        if len(self._slots) > _PRUNE_ABOVE:
            self._prune()
        slot = self._slots.setdefault(key, _Slot())
        if ts and response_url:
            hooks = slot.hooks.setdefault(ts, [])
            hooks.append(_Hook(response_url, time.monotonic()))
            del hooks[:-HOOKS_KEPT]
        slot.pending = True
        if slot.task is None or slot.task.done():
            slot.task = asyncio.create_task(self._drain(key, slot), name=f"redraw:{self.name}:{key}")
        return slot.task

    async def _drain(self, key: K, slot: _Slot) -> None:
        while slot.pending:
            wait = slot.last + self.gap - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)  # requests arriving meanwhile share this drawing
            slot.pending = False
            try:
                again = await self._draw_across_replicas(key, slot)
            except Exception:
                log.exception("a redraw failed", extra={"redraw": self.name, "key": str(key)})
                again = 0.0
            slot.last = time.monotonic()
            if again > 0:
                log.warning(
                    "Slack rate-limited a redraw; drawing again later",
                    extra={"redraw": self.name, "retry_after": again},
                )
                await asyncio.sleep(again)
                slot.pending = True

    async def _draw_across_replicas(self, key: K, slot: _Slot) -> float:
        """Draw once under the key's lock (waiting while another replica draws); returns the seconds to
        wait before drawing again after a 429, else 0."""
        lock = f"redraw:{self.name}:{key}"
        while True:
            async with locked(self.cache, lock, LOCK_SECONDS) as held:
                if held:
                    workspace_id = self.workspace_of(key)
                    hooks, slot.hooks = slot.hooks, {}
                    client = await self.client_for(workspace_id)
                    updater = Updater(client, workspace_id, self.buckets, hooks)
                    try:
                        await self.draw(key, updater)
                    except SlackApiError as exc:
                        if exc.response.get("error") != "ratelimited":
                            raise
                        return retry_after(exc)
                    return 0.0
            # Another replica is drawing; it may have read the state before our change, so ours runs
            # after it.
            await asyncio.sleep(LOCK_POLL)

    def _prune(self) -> None:
        idle_before = time.monotonic() - max(self.gap, 1.0)
        for key in [
            k
            for k, s in self._slots.items()
            if (s.task is None or s.task.done()) and s.last < idle_before and not s.pending
        ]:
            del self._slots[key]

    async def idle(self) -> None:
        """Wait until every requested drawing has happened (tests and shutdown)."""
        while tasks := [s.task for s in self._slots.values() if s.task is not None and not s.task.done()]:
            await asyncio.gather(*tasks, return_exceptions=True)
