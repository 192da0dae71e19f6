"""Pooled HTTP for the services the bot reads most (the metrics sources): one aiohttp session per event
loop and per key (the service *and* its credentials, as `bot.outbound` names them), its connections kept
alive between reads and bounded in number, each answer handed back as an `httpx.Response` and each
failure as httpx's own exception, so the outbound policy (`bot.outbound.send`) and the sources' parsers
see exactly what an httpx client would give them.

    response = await http_pool.request(key, 8, "GET", url, params=..., headers=..., read_timeout=10, verify=ctx)

Why aiohttp underneath: a weekly digest of a thousand teams sends some six thousand reads, and on the
bench (`bench/digest.py`; figures in docs/performance.md) httpx's client spent about 1 ms of CPU on each
(0.5 ms of it in httpcore's connection pool, whose cost per request grows with the square of the
connections it holds), against about 0.2 ms for aiohttp (its HTTP parser is compiled) plus the
`httpx.Response` built from its answer. aiohttp is already a dependency: Slack's `AsyncWebClient`
sends on it. The trackers (`bot/debt/importers/`) send a few requests a sprint and keep httpx's client.

`close_all()` (the runtime's `close`) closes the running loop's sessions; a later request opens new ones.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
from yarl import URL

__all__ = ["close_all", "request"]


@dataclass
class _Pool:
    session: aiohttp.ClientSession
    # The proxy for each origin, from HTTP(S)_PROXY and NO_PROXY as httpx's client honours them, read
    # once (aiohttp's `trust_env` reads the environment again for every request).
    proxies: dict[tuple[str, str | None], str | None] = field(default_factory=dict)

    def proxy(self, url: URL) -> str | None:
        origin = (url.scheme, url.host)
        if origin not in self.proxies:
            found = urllib.request.getproxies().get(url.scheme)
            bypass = found is None or urllib.request.proxy_bypass(url.host or "")
            self.proxies[origin] = None if bypass else found
        return self.proxies[origin]


_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, int], _Pool]] = (
    weakref.WeakKeyDictionary()
)

# The body arrives decoded (aiohttp undoes gzip and deflate); the answer must not say it is encoded.
_DROPPED = {b"content-encoding", b"content-length", b"transfer-encoding"}


# Each loop's sessions close with the loop (`asyncio.run` and `asyncio.Runner` cancel the tasks left
# when they finish) when nobody called `close_all` first: a task waiting for that moment.
_keepers: set[asyncio.Task[None]] = set()


async def _close_at_shutdown(pools: dict[tuple[str, int], _Pool]) -> None:
    try:
        await asyncio.get_running_loop().create_future()
    finally:
        for pool in list(pools.values()):
            await pool.session.close()


def _pool(key: str, limit: int, verify: ssl.SSLContext) -> _Pool:
    loop = asyncio.get_running_loop()
    per_loop = _pools.get(loop)
    if per_loop is None:
        per_loop = _pools[loop] = {}
        keeper = loop.create_task(_close_at_shutdown(per_loop), name="http_pool: close at shutdown")
        _keepers.add(keeper)
        keeper.add_done_callback(_keepers.discard)
    found = per_loop.get((key, limit))
    if found is None or found.session.closed:
        session = aiohttp.ClientSession(
            # at most `limit` requests at once; the rest wait for a connection (not timed: the reader's
            # own deadline bounds the wait)
            connector=aiohttp.TCPConnector(limit=limit, limit_per_host=0, ssl=verify),
            cookie_jar=aiohttp.DummyCookieJar(),  # a monitoring API's cookies are never sent back
            skip_auto_headers=("User-Agent",),
            headers={"User-Agent": "scalebot"},
        )
        found = per_loop[(key, limit)] = _Pool(session)
    return found


def _url(url: str, params: Mapping[str, str] | None) -> URL:
    if params:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
    return URL(url, encoded=True)


def _as_httpx(exc: BaseException, timeout: float) -> httpx.TransportError:
    """The httpx exception an httpx client would have raised for `exc`."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(f"no connection within {timeout:g} s")
    if isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        return httpx.ReadTimeout(f"no answer within {timeout:g} s")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc.os_error) or "could not connect")
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError("the server closed the connection before answering")
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol("not a URL the bot can request")
    if isinstance(exc, aiohttp.ClientResponseError):  # a malformed status line or headers
        return httpx.RemoteProtocolError("the server's answer was not HTTP")
    return httpx.ReadError("the connection failed")


async def request(
    key: str,
    limit: int,
    method: str,
    url: str,
    *,
    read_timeout: float,
    connect_timeout: float = 2.0,
    verify: ssl.SSLContext,
    params: Mapping[str, str] | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """One request on `key`'s pooled session (at most `limit` at once). `read_timeout` bounds each wait for
    data, `connect_timeout` the connection; raises `httpx.TransportError` (its subclasses, as httpx
    would) when no answer came."""
    pool = _pool(key, limit, verify)
    target = _url(url, params)
    bounds = aiohttp.ClientTimeout(
        total=None, connect=None, sock_connect=connect_timeout, sock_read=read_timeout
    )
    try:
        async with pool.session.request(
            method,
            target,
            proxy=pool.proxy(target),
            json=json,
            headers=headers,
            timeout=bounds,
            allow_redirects=False,
        ) as answer:
            body = await answer.read()
            raw = [(name, value) for name, value in answer.raw_headers if name.lower() not in _DROPPED]
            return httpx.Response(answer.status, headers=raw, content=body)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise _as_httpx(exc, read_timeout) from exc


async def close_all() -> None:
    """Close the running loop's sessions."""
    pools = _pools.pop(asyncio.get_running_loop(), {})
    for pool in list(pools.values()):
        await pool.session.close()
    pools.clear()  # the loop's keeper has nothing left to close
