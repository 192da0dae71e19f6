"""Each query once: results cached for the TTL (Redis or in-process), and concurrent askers of the same
(source, query, time) sharing the one request in flight, so a burst of commands costs one query each.

A source's identity (kind, URL, account and a keyed hash of its credentials) is part of every key: two
sources on one URL with different credentials never share an answer, a request, or a stale figure."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.errors import new_error_id
from bot.metrics.sources.base import Result, Series, Source, SourceError, SourceRateLimited

if TYPE_CHECKING:
    from storage.cache import Cache

log = logging.getLogger(__name__)

# A finished query stays joinable this long, covering askers who missed the cache while it was stored.
HOLD_SECONDS = 1.0
# The last good answer to each question is kept this long, to show (marked stale) while a source
# asks us to wait.
LAST_GOOD_SECONDS = 7 * 86400.0

Count = Callable[[str], None]  # called with the outcome of each query sent: ok, error or timeout


@dataclass(frozen=True)
class Ask:
    query: str
    at: datetime
    history: timedelta | None = None
    step: timedelta | None = None

    def key(self, source: Source) -> str:
        parts = [
            source.identity,
            self.query,
            f"{self.at.timestamp():.3f}",
            f"{self.history.total_seconds():g}" if self.history else "-",
            f"{self.step.total_seconds():g}" if self.step else "-",
        ]
        return "metrics:q:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]

    def last_key(self, source: Source) -> str:
        """The key of the last good answer to this question at any time (for a stale figure)."""
        parts = [
            source.identity,
            self.query,
            f"{self.history.total_seconds():g}" if self.history else "-",
            f"{self.step.total_seconds():g}" if self.step else "-",
        ]
        return "metrics:last:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def _value(v: float) -> float | str:
    return v if math.isfinite(v) else str(v)  # "nan", "inf", "-inf": JSON has no such numbers


def _body(result: Result) -> dict[str, Any]:
    series = [[dict(s.labels), [[t, _value(v)] for t, v in s.points]] for s in result.series]
    return {"series": series, "warnings": list(result.warnings)}


def encode(result: Result) -> bytes:
    return json.dumps(_body(result)).encode()


def decode(raw: bytes) -> Result:
    body: dict[str, Any] = json.loads(raw)
    series = tuple(
        Series(labels, tuple((float(t), float(v)) for t, v in points)) for labels, points in body["series"]
    )
    return Result(series, tuple(body.get("warnings") or ()))


_flights: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Future[Result]]] = (
    weakref.WeakKeyDictionary()
)


def in_flight() -> int:
    """Queries currently shared in this event loop (for tests and diagnostics)."""
    return len(_flights.get(asyncio.get_running_loop(), {}))


async def _cache_get(cache: Cache, key: str) -> Result | None:
    try:
        raw = await cache.get(key)
        return decode(raw) if raw is not None else None
    except Exception:  # a broken entry or an unreachable cache is a miss, never a failed answer
        log.debug("metrics cache read failed", exc_info=True)
        return None


async def _run(source: Source, ask: Ask, key: str, cache: Cache, ttl: float, count: Count) -> Result:
    try:
        result = await source.read(ask.query, ask.at, ask.history, ask.step)
    except SourceRateLimited:
        count("rate_limited")
        raise
    except SourceError as exc:
        count("timeout" if exc.reason.startswith("timed out") else "error")
        log.warning("metrics source failed", extra={"source": source.name, "reason": exc.reason})
        raise
    except Exception as exc:
        count("error")
        error_id = new_error_id()
        log.error(
            "metrics source read crashed", extra={"source": source.name, "error_id": error_id}, exc_info=exc
        )
        raise SourceError(f"answered something I could not read (error id {error_id})") from None
    count("ok")
    try:
        body = _body(result)
        if ttl > 0:
            await cache.set(key, json.dumps(body).encode(), ttl)
        body["read_at"] = ask.at.timestamp()
        await cache.set(ask.last_key(source), json.dumps(body).encode(), LAST_GOOD_SECONDS)
    except Exception:
        log.debug("metrics cache write failed", exc_info=True)
    return result


async def last_good(source: Source, ask: Ask, cache: Cache) -> tuple[Result, datetime] | None:
    """The last good answer to `ask`'s question from `source` (any evaluation time) and when it was
    read; None when there is none or the cache cannot say."""
    try:
        raw = await cache.get(ask.last_key(source))
        if raw is None:
            return None
        stamp = float(json.loads(raw)["read_at"])
        return decode(raw), datetime.fromtimestamp(stamp, UTC)
    except Exception:
        log.debug("metrics cache read failed", exc_info=True)
        return None


async def fetch(source: Source, ask: Ask, cache: Cache, ttl: float, count: Count) -> tuple[Result, bool]:
    """The result of `ask` on `source`, and whether it came from the cache. Raises `SourceError`.

    Callers may give up waiting (a deadline); the shared query carries on for the others.
    """
    loop = asyncio.get_running_loop()
    flights = _flights.setdefault(loop, {})
    key = ask.key(source)
    task = flights.get(key)
    if task is None and ttl > 0:
        cached = await _cache_get(cache, key)
        if cached is not None:
            return cached, True
        task = flights.get(key)  # started by someone else while we looked
    if task is not None and task.done() and not task.cancelled() and task.exception() is None:
        return task.result(), True  # landed a moment ago: as good as the cache
    if task is None:
        task = asyncio.ensure_future(_run(source, ask, key, cache, ttl, count))
        flights[key] = task

        def landed(done: asyncio.Future[Result]) -> None:
            def forget() -> None:
                if flights.get(key) is done:
                    del flights[key]

            if done.cancelled() or done.exception() is not None:
                forget()
            else:
                loop.call_later(min(ttl, HOLD_SECONDS), forget)

        task.add_done_callback(landed)
    return await asyncio.shield(task), False
