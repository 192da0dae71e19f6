"""Cache, dedup claims and locks: Redis when configured, in-process otherwise, in-process when Redis fails."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

T = TypeVar("T")


class Cache(Protocol):
    """The small interface the bot needs from a shared store. Values are bytes; TTLs are seconds."""

    name: str

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def claim(self, key: str, ttl: float) -> bool:
        """Set `key` only if absent: True for the first caller within `ttl`, False for the rest."""
        ...

    async def acquire(self, key: str, owner: str, ttl: float) -> bool:
        """Take a lock held by `owner` for at most `ttl`; False if someone else holds it."""
        ...

    async def release(self, key: str, owner: str) -> None:
        """Release the lock if `owner` still holds it."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """In-process implementation; thread-safe because the scheduler thread shares it with requests."""

    name = "memory"

    def __init__(self, max_entries: int = 50_000) -> None:
        self._data: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()
        self._max = max_entries

    def _alive(self, key: str, now: float) -> tuple[bytes, float] | None:
        entry = self._data.get(key)
        if entry is not None and entry[1] <= now:
            del self._data[key]
            return None
        return entry

    def _put(self, key: str, value: bytes, ttl: float, now: float) -> None:
        if len(self._data) >= self._max:
            # Drop expired entries first, then the oldest-expiring ones.
            for k in [k for k, (_, exp) in self._data.items() if exp <= now]:
                del self._data[k]
            while len(self._data) >= self._max:
                del self._data[min(self._data, key=lambda k: self._data[k][1])]
        self._data[key] = (value, now + ttl)

    async def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._alive(key, time.monotonic())
            return entry[0] if entry else None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        with self._lock:
            self._put(key, value, ttl, time.monotonic())

    async def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    async def claim(self, key: str, ttl: float) -> bool:
        with self._lock:
            now = time.monotonic()
            if self._alive(key, now) is not None:
                return False
            self._put(key, b"1", ttl, now)
            return True

    async def acquire(self, key: str, owner: str, ttl: float) -> bool:
        with self._lock:
            now = time.monotonic()
            entry = self._alive(key, now)
            if entry is not None and entry[0] != owner.encode():
                return False
            self._put(key, owner.encode(), ttl, now)
            return True

    async def release(self, key: str, owner: str) -> None:
        with self._lock:
            entry = self._alive(key, time.monotonic())
            if entry is not None and entry[0] == owner.encode():
                del self._data[key]

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class RedisCache:
    """Redis implementation with short timeouts: a hung Redis must not stall an ack."""

    name = "redis"

    def __init__(self, url: str, *, timeout: float = 0.25, prefix: str = "scalebot:") -> None:
        self.prefix = prefix
        self.client = aioredis.Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry_on_timeout=False,
            health_check_interval=30,
        )

    def _k(self, key: str) -> str:
        return self.prefix + key

    async def get(self, key: str) -> bytes | None:
        value = await self.client.get(self._k(key))
        return bytes(value) if value is not None else None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        await self.client.set(self._k(key), value, px=max(1, int(ttl * 1000)))

    async def delete(self, key: str) -> None:
        await self.client.delete(self._k(key))

    async def claim(self, key: str, ttl: float) -> bool:
        return bool(await self.client.set(self._k(key), b"1", nx=True, px=max(1, int(ttl * 1000))))

    async def acquire(self, key: str, owner: str, ttl: float) -> bool:
        k = self._k(key)
        if await self.client.set(k, owner, nx=True, px=max(1, int(ttl * 1000))):
            return True
        # Re-entrant for the same owner: renew instead of refusing ourselves.
        if await self.client.get(k) == owner.encode():
            await self.client.pexpire(k, max(1, int(ttl * 1000)))
            return True
        return False

    async def release(self, key: str, owner: str) -> None:
        await self.client.eval(_RELEASE, 1, self._k(key), owner)

    async def ping(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()


class FallbackCache:
    """Redis first, with every write mirrored in-process; when Redis fails, the mirror answers.

    Mirroring claims is what keeps a Slack retry from being processed twice when Redis dies between
    the first delivery and its retries. After a failure Redis is skipped for `cooldown` seconds, so an
    outage costs one timeout, not one per request.
    """

    name = "redis+memory"

    def __init__(self, primary: Cache, local: MemoryCache | None = None, cooldown: float = 5.0) -> None:
        self.primary = primary
        self.local = local or MemoryCache()
        self.cooldown = cooldown
        self._down_until = 0.0
        self._outage_logged = False

    @property
    def primary_up(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, op: str, exc: BaseException) -> None:
        self._down_until = time.monotonic() + self.cooldown
        if not self._outage_logged:
            self._outage_logged = True
            log.warning(
                "Redis unavailable, using the in-process cache until it returns",
                extra={"operation": op, "error": type(exc).__name__},
            )

    def _recovered(self) -> None:
        if self._outage_logged:
            self._outage_logged = False
            log.info("Redis is back")

    async def _try(self, op: str, coro_factory: Callable[[], Awaitable[T]]) -> tuple[bool, T | None]:
        if not self.primary_up:
            return False, None
        try:
            result = await coro_factory()
        except (TimeoutError, RedisError, OSError) as exc:
            self._failed(op, exc)
            return False, None
        self._recovered()
        return True, result

    async def get(self, key: str) -> bytes | None:
        ok, value = await self._try("get", lambda: self.primary.get(key))
        return value if ok else await self.local.get(key)

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        await self.local.set(key, value, ttl)
        await self._try("set", lambda: self.primary.set(key, value, ttl))

    async def delete(self, key: str) -> None:
        await self.local.delete(key)
        await self._try("delete", lambda: self.primary.delete(key))

    async def claim(self, key: str, ttl: float) -> bool:
        local_first = await self.local.claim(key, ttl)
        ok, shared_first = await self._try("claim", lambda: self.primary.claim(key, ttl))
        return local_first and (bool(shared_first) if ok else True)

    async def acquire(self, key: str, owner: str, ttl: float) -> bool:
        ok, got = await self._try("acquire", lambda: self.primary.acquire(key, owner, ttl))
        if ok:
            return bool(got)
        return await self.local.acquire(key, owner, ttl)

    async def release(self, key: str, owner: str) -> None:
        await self.local.release(key, owner)
        await self._try("release", lambda: self.primary.release(key, owner))

    async def ping(self) -> None:
        await self.primary.ping()
        self._down_until = 0.0
        self._recovered()

    async def close(self) -> None:
        await self.primary.close()


def make_cache(redis_url: str | None) -> Cache:
    """The cache the settings ask for: Redis with an in-process fallback, or in-process only."""
    if not redis_url:
        return MemoryCache()
    return FallbackCache(RedisCache(redis_url))


@contextlib.asynccontextmanager
async def locked(cache: Cache, key: str, ttl: float) -> AsyncIterator[bool]:
    """`async with locked(cache, key, ttl) as held:` — held is False when someone else has it."""
    owner = uuid.uuid4().hex
    held = await cache.acquire(key, owner, ttl)
    try:
        yield held
    finally:
        if held:
            await cache.release(key, owner)
