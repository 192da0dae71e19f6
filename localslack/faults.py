"""Failure injection and rate limits: the ways a test makes the local Slack misbehave on purpose."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

ANY_METHOD = "*"


@dataclass
class Injection:
    kind: str  # "fail" | "ratelimit" | "stall"
    remaining: int
    error: str = ""
    retry_after: int = 1
    seconds: float = 0.0


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

    def fail_next(self, method: str, error: str = "invalid_auth", times: int = 1) -> None:
        self._push(method, Injection("fail", times, error=error))

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        self._push(method, Injection("ratelimit", times, retry_after=retry_after))

    def stall_next(self, method: str, seconds: float, times: int = 1) -> None:
        self._push(method, Injection("stall", times, seconds=seconds))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._posts.clear()
            self.message_rate = None

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

    def _take(self, method: str, kind: str) -> Injection | None:
        for injection in self._queue.get(method, []):
            if injection.kind == kind and injection.remaining > 0:
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
