"""Slack's rate tiers, kept by the bot: a per-workspace token bucket per method in the shared cache, so
every replica spends from the same one and a big reminder round waits instead of meeting 429s."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from storage.cache import Cache, locked

LOCK_POLL = 0.02
EPSILON = 1e-6


@dataclass(frozen=True)
class Tier:
    """`burst` calls at once, then `per_minute` a minute: a little under Slack's own tier, leaving room
    for the app's other calls of the same method."""

    per_minute: float
    burst: int


# https://docs.slack.dev/apis/web-api/rate-limits : users.profile.get is Tier 4 (100+ a minute),
# dnd.info Tier 3 (50+), dnd.teamInfo Tier 2 (20+; up to 50 users a call).
TIERS: dict[str, Tier] = {
    "users.profile.get": Tier(per_minute=90, burst=40),
    "dnd.info": Tier(per_minute=45, burst=15),
    "dnd.teamInfo": Tier(per_minute=18, burst=8),
}


class Pace:
    """Wait until a call of `method` in a workspace fits its tier, then spend it."""

    def __init__(
        self,
        cache: Cache,
        tiers: dict[str, Tier] | None = None,
        now: Callable[[], float] = time.time,  # wall clock: the buckets are shared by processes
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.cache, self.tiers, self.now, self.sleep = cache, tiers or TIERS, now, sleep
        self._queues: dict[tuple[str, str], asyncio.Lock] = {}

    async def take(self, workspace_id: str, method: str) -> None:
        # One waiter per process at a time (the others queue here, not on the shared cache).
        async with self._queues.setdefault((workspace_id, method), asyncio.Lock()):
            while True:
                wait = await self._try(workspace_id, method)
                if wait is None:  # another replica is spending: look again in a moment
                    await asyncio.sleep(LOCK_POLL)
                elif wait <= 0:
                    return
                else:
                    await self.sleep(wait)

    async def _try(self, workspace_id: str, method: str) -> float | None:
        tier = self.tiers[method]
        key = f"presence:pace:{workspace_id}:{method}"
        async with locked(self.cache, f"{key}:lock", 5) as held:
            if not held:
                return None
            rate, burst = tier.per_minute / 60.0, float(tier.burst)
            now = self.now()
            raw = await self.cache.get(key)
            tokens, at = (burst, now) if raw is None else tuple(json.loads(raw))
            tokens = min(burst, tokens + max(0.0, now - at) * rate)
            spent = tokens >= 1.0 - EPSILON  # (a refill computed in floats may land a hair under 1)
            if spent:
                tokens = max(0.0, tokens - 1.0)
            await self.cache.set(key, json.dumps([tokens, now]).encode(), burst / rate + 60)
            return 0.0 if spent else (1.0 - tokens) / rate + EPSILON
