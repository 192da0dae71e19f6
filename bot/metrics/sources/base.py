"""What every monitoring source shares: results, errors safe to show, and HTTP with retries and bounds.

A source answers `read(query, at, history, step)`: the value of `query` at `at` (history None) or its
points over `[at - history, at]`. Values are floats and may be NaN or ±Inf (shown as "n/a").
"""

from __future__ import annotations

import math
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from bot import http_pool, outbound

Point = tuple[float, float]  # (Unix seconds, value)


@dataclass(frozen=True)
class Series:
    labels: Mapping[str, str]
    points: tuple[Point, ...]

    @property
    def last(self) -> Point | None:
        return self.points[-1] if self.points else None


@dataclass(frozen=True)
class Result:
    series: tuple[Series, ...]
    warnings: tuple[str, ...] = ()


class SourceError(Exception):
    """A source could not answer. `reason` is shown to people: it never holds a URL or a credential."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Source(Protocol):
    name: str
    kind: str
    has_history: bool  # can answer range reads (a 7-day trend)
    # A range read's point at its end is what an instant read at that time answers (Prometheus: a range
    # query is an instant query at each step). False when range points are rollup buckets (Datadog, New
    # Relic): the value then always comes from an instant read.
    range_ends_with_value: bool

    @property
    def identity(self) -> str:
        """What makes two sources the same for caching and sharing: kind, URL, account, and a keyed hash
        of the credentials (`outbound.credential_id`), so one key's answer never serves another's."""
        ...

    async def read(
        self, query: str, at: datetime, history: timedelta | None = None, step: timedelta | None = None
    ) -> Result: ...


def number(raw: Any) -> float:
    """A sample value as sent: numbers, or strings like "0.5", "NaN", "+Inf", "-Inf"; None is NaN."""
    if raw is None:
        return math.nan
    if isinstance(raw, bool):
        raise SourceError("answered a value that is not a number")
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            raise SourceError("answered a value that is not a number") from None
    raise SourceError("answered a value that is not a number")


# --- HTTP ----------------------------------------------------------------------------------------

# One verifying TLS context for every client, built at import (loading the CA bundle blocks for a
# moment, which must not happen on the event loop).
_SSL_CONTEXT = ssl.create_default_context()


def ssl_context() -> ssl.SSLContext:
    return _SSL_CONTEXT


@dataclass(frozen=True)
class HttpPolicy:
    timeout: float
    retries: int = 2
    max_concurrency: int = 8
    backoff: float = 0.1  # first wait; doubles after each attempt
    wait_within: float = 4.0  # the longest a read sits out a rate limit before answering without it


class SourceRateLimited(SourceError):
    """The source asked us to wait past the answer's budget; `next_try` is when it may be asked again."""

    def __init__(self, limit: outbound.RateLimited) -> None:
        super().__init__(limit.reason)
        self.next_try = limit.next_try


def _refused(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):  # httpx wraps the OSError (anyio may wrap it again)
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _transport_reason(exc: httpx.TransportError, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, httpx.ConnectError):
        return "refused the connection" if _refused(exc) else "could not be reached"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "closed the connection before answering"
    return "the connection failed"


async def send(
    identity: str,
    policy: HttpPolicy,
    method: str,
    url: str,
    *,
    service: str,
    limits: outbound.Limits,
    params: Mapping[str, str] | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """One request under the outbound policy (`bot.outbound`: retries after a 5xx or a connection
    error, rate limits honoured to the vendor's reset), on the source's pooled connections
    (`bot.http_pool`, at most `policy.max_concurrency` at once), with connect/read timeouts. Returns
    the last response (maybe a 5xx); raises `SourceRateLimited` when the reset is past
    `policy.wait_within`, `SourceError` when no response came."""
    rules = outbound.Policy(
        timeout=policy.timeout,
        retries=policy.retries,
        backoff=policy.backoff,
        wait_within=policy.wait_within,
    )

    async def call() -> httpx.Response:
        return await http_pool.request(
            identity,
            policy.max_concurrency,
            method,
            url,
            read_timeout=policy.timeout,
            connect_timeout=min(policy.timeout, 2.0),
            verify=ssl_context(),
            params=params,
            json=json,
            headers=headers,
        )

    try:
        return await outbound.send(call, policy=rules, limits=limits, service=service, key=identity)
    except outbound.RateLimited as exc:
        raise SourceRateLimited(exc) from None
    except httpx.TransportError as exc:
        raise SourceError(_transport_reason(exc, policy.timeout)) from None


class HttpSource:
    """What the HTTP sources share: a name, a policy, and `request`, one request under the outbound
    policy as the vendor (`service`, `limits`) and the credentials (`identity`) the subclass names."""

    kind: str
    service: str
    limits: outbound.Limits
    has_history = True

    def __init__(self, name: str, policy: HttpPolicy) -> None:
        self.name = name
        self.policy = policy

    @property
    def identity(self) -> str:
        raise NotImplementedError

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await send(
            self.identity, self.policy, method, url, service=self.service, limits=self.limits, **kwargs
        )


def json_body(response: httpx.Response, what: str) -> Any:
    """The parsed body, or a `SourceError` naming what came instead."""
    try:
        return response.json()
    except ValueError:
        if response.status_code >= 400:
            raise SourceError(f"HTTP {response.status_code}") from None
        ctype = response.headers.get("content-type", "no content type").split(";")[0]
        raise SourceError(
            f"answered HTTP {response.status_code} with {ctype}, not the {what} API's JSON"
        ) from None


def http_reason(response: httpx.Response, credentials: str) -> str:
    """A short reason for a refused request; names the config key to check for 401/403."""
    status = response.status_code
    if status in (401, 403):
        return f"HTTP {status}: the credentials were refused (check {credentials})"
    if status == 404:
        return "HTTP 404: no such API at the configured URL"
    return f"HTTP {status}"
