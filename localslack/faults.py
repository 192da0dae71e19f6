"""Failure injection and rate limits: the ways a test makes the local Slack misbehave on purpose, and the
limits it enforces as Slack does."""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

ANY_METHOD = "*"


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: `burst` calls at once, refilled at `per_minute` calls a minute."""

    per_minute: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_minute <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs per_minute > 0 and burst >= 1")


# chat.update is a Tier 3 method: "50+ per minute … Sporadic bursts are welcome", counted per method
# per app per workspace (https://api.slack.com/docs/rate-limits). The fake allows a burst of 20 and
# then 50 a minute, answering 429 `ratelimited` with a Retry-After beyond that.
UPDATE_LIMIT = RateLimit(per_minute=50, burst=20)
# The canvas methods' documented tiers (https://docs.slack.dev/apis/web-api/rate-limits): creating is
# Tier 2 ("20+ per minute"), editing and sharing Tier 3 ("50+ per minute"); counted per method per
# workspace, a small burst then the tier's rate.
TIER_2 = RateLimit(per_minute=20, burst=5)
TIER_3 = RateLimit(per_minute=50, burst=20)
METHOD_TIERS: dict[str, RateLimit] = {
    "conversations.canvases.create": TIER_2,
    "canvases.create": TIER_2,
    "canvases.edit": TIER_3,
    "canvases.delete": TIER_3,
    "canvases.access.set": TIER_3,
    # Who is away: users.profile.get is Tier 4 ("100+ per minute"), dnd.info Tier 3, dnd.teamInfo Tier 2.
    "users.profile.get": RateLimit(per_minute=100, burst=50),
    "dnd.info": TIER_3,
    "dnd.teamInfo": RateLimit(per_minute=20, burst=10),
}


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class Injection:
    kind: str  # "fail" | "ratelimit" | "stall"
    remaining: int
    error: str = ""
    retry_after: int = 1
    seconds: float = 0.0
    skip: int = 0  # calls of the method to let through before this applies


@dataclass
class Planned:
    """What to do to one call: wait first, then maybe answer 429 or an error instead of the method."""

    stall: float = 0.0
    retry_after: int | None = None
    error: str | None = None


class Faults:
    """Queued, per-method injections plus the optional per-channel posting rate limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: dict[str, list[Injection]] = {}
        self.message_rate: float | None = None
        self._posts: dict[str, deque[float]] = {}
        self.update_limit: RateLimit | None = UPDATE_LIMIT
        self._updates: dict[str, _Bucket] = {}
        self._tiers: dict[tuple[str, str], _Bucket] = {}
        self.tier_limits: dict[str, RateLimit] = dict(METHOD_TIERS)

    def fail_next(self, method: str, error: str = "invalid_auth", times: int = 1) -> None:
        self._push(method, Injection("fail", times, error=error))

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        self._push(method, Injection("ratelimit", times, retry_after=retry_after))

    def stall_next(self, method: str, seconds: float, times: int = 1, after: int = 0) -> None:
        self._push(method, Injection("stall", times, seconds=seconds, skip=after))

    def clear(self) -> None:
        """No injections, no posting rate, and the default chat.update limit with full buckets."""
        with self._lock:
            self._queue.clear()
            self._posts.clear()
            self.message_rate = None
            self._updates.clear()
            self._tiers.clear()
            self.tier_limits = dict(METHOD_TIERS)
            self.update_limit = UPDATE_LIMIT

    def _push(self, method: str, injection: Injection) -> None:
        if injection.remaining < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._queue.setdefault(method, []).append(injection)

    def plan(self, method: str) -> Planned:
        """Consume the injections that apply to this call of `method`."""
        planned = Planned()
        with self._lock:
            for kind in ("stall", "ratelimit", "fail"):
                injection = self._take(method, kind) or self._take(ANY_METHOD, kind)
                if injection is None:
                    continue
                if kind == "stall":
                    planned.stall = injection.seconds
                elif kind == "ratelimit":
                    planned.retry_after = injection.retry_after
                    break  # a 429 answers the call; later failures wait for the retry
                else:
                    planned.error = injection.error
        return planned

    def left(self, method: str, kind: str) -> int:
        """How many calls `method`'s injections of `kind` are still waiting for (0: all have arrived)."""
        with self._lock:
            return sum(i.remaining for i in self._queue.get(method, []) if i.kind == kind)

    def _take(self, method: str, kind: str) -> Injection | None:
        for injection in self._queue.get(method, []):
            if injection.kind == kind and injection.remaining > 0:
                if injection.skip > 0:
                    injection.skip -= 1
                    return None
                injection.remaining -= 1
                return injection
        return None

    def set_message_rate(self, per_channel_per_second: float | None) -> None:
        with self._lock:
            self.message_rate = per_channel_per_second
            self._posts.clear()

    def admit_post(self, channel_id: str, now: float) -> int | None:
        """None when a post to `channel_id` may go ahead, else the Retry-After seconds to answer."""
        with self._lock:
            if self.message_rate is None:
                return None
            window = self._posts.setdefault(channel_id, deque())
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self.message_rate:
                return 1
            window.append(now)
            return None

    def set_update_limit(self, limit: RateLimit | None) -> None:
        """Limit chat.update per workspace (default `UPDATE_LIMIT`); None turns it off."""
        with self._lock:
            self.update_limit = limit
            self._updates.clear()

    def admit_update(self, team_id: str, now: float) -> int | None:
        """None when a chat.update in workspace `team_id` may go ahead, else the Retry-After seconds."""
        with self._lock:
            limit = self.update_limit
            if limit is None:
                return None
            rate = limit.per_minute / 60.0
            bucket = self._updates.get(team_id)
            if bucket is None:
                bucket = self._updates[team_id] = _Bucket(float(limit.burst), now)
            # max(): the store's clock goes back to real time when a test resets it.
            bucket.tokens = min(float(limit.burst), bucket.tokens + max(0.0, now - bucket.at) * rate)
            bucket.at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / rate))

    def set_tier_limit(self, method: str, limit: RateLimit | None) -> None:
        """Change one tiered method's limit (None: unlimited) until `clear()`; its buckets start full."""
        with self._lock:
            if limit is None:
                self.tier_limits.pop(method, None)
            else:
                self.tier_limits[method] = limit
            self._tiers = {k: v for k, v in self._tiers.items() if k[0] != method}

    def admit_tiered(self, method: str, team_id: str, now: float) -> int | None:
        """None when a call of a tiered method (`METHOD_TIERS`) may go ahead, else the Retry-After."""
        limit = self.tier_limits.get(method)
        if limit is None:
            return None
        with self._lock:
            rate = limit.per_minute / 60.0
            bucket = self._tiers.get((method, team_id))
            if bucket is None:
                bucket = self._tiers[(method, team_id)] = _Bucket(float(limit.burst), now)
            bucket.tokens = min(float(limit.burst), bucket.tokens + max(0.0, now - bucket.at) * rate)
            bucket.at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / rate))
