"""Cache, claims and locks behave the same in process and on Redis; a dying Redis degrades to memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from storage.cache import Cache, FallbackCache, MemoryCache, RedisCache, locked
from tests.servers import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    c = RedisCache(server.url)
    yield c
    await c.close()


async def test_values_expire(cache: Cache) -> None:
    await cache.set("k", b"v", ttl=0.2)
    assert await cache.get("k") == b"v"
    await asyncio.sleep(0.3)
    assert await cache.get("k") is None


async def test_a_claim_is_won_once(cache: Cache) -> None:
    results = await asyncio.gather(*(cache.claim("event:T1:Ev1", 60) for _ in range(10)))
    assert results.count(True) == 1


async def test_a_lock_is_exclusive_reentrant_and_released(cache: Cache) -> None:
    assert await cache.acquire("lock", "a", 5)
    assert not await cache.acquire("lock", "b", 5)
    assert await cache.acquire("lock", "a", 5)  # renewal by the holder
    await cache.release("lock", "b")  # not the holder: no effect
    assert not await cache.acquire("lock", "b", 5)
    await cache.release("lock", "a")
    async with locked(cache, "lock", 5) as held:
        assert held


async def test_claims_survive_redis_dying_between_delivery_and_retry(redis_server: RedisServer) -> None:
    cache = FallbackCache(RedisCache(redis_server.url), cooldown=0.1)
    assert await cache.claim("event:T1:Ev9", 60)
    redis_server.stop()
    try:
        # The retries arrive while Redis is gone: the in-process mirror still knows the event.
        assert not await cache.claim("event:T1:Ev9", 60)
        assert await cache.claim("event:T1:Ev10", 60)
        await cache.set("k", b"v", 60)
        assert await cache.get("k") == b"v"
        assert not cache.primary_up
    finally:
        redis_server.start()
    await asyncio.sleep(0.15)
    assert not await cache.claim("event:T1:Ev10", 60)  # still refused once Redis is back
    await cache.set("k2", b"v2", 60)
    assert await cache.primary.get("k2") == b"v2"
    await cache.close()


async def test_a_hung_redis_costs_one_short_timeout_not_one_per_call() -> None:
    # A listening socket that never answers: connect succeeds, reads time out.
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    cache = FallbackCache(RedisCache(f"redis://127.0.0.1:{port}/0", timeout=0.2), cooldown=30)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await cache.claim("event:x", 60)
    for i in range(20):
        await cache.get(f"k{i}")
    assert loop.time() - started < 1.0
    server.close()
