"""One policy for every call the bot makes to a service it reads (metrics sources, trackers).

    response = await send(call, policy=Policy(timeout=10), limits=JIRA, service="Jira Cloud", key=key)

`call` makes one request (an `httpx` coroutine function); `send` runs it under the policy:

- a 5xx or a connection error is sent again after an exponential backoff with jitter, `retries` times
  (a read timeout is not: it would double the wait); the last 5xx response is returned as it came;
- a rate limit (a 429, or the vendor's own form: see `Limits`) is never sent again before the vendor's
  reset. When the reset comes within `wait_within` seconds of the call's start, `send` waits and sends
  again; otherwise it raises `RateLimited` at once. Until the reset, every later call with the same `key`
  raises `RateLimited` too, without sending anything (`key` names the service *and* the credentials:
  one organisation's limit never stops another's);
- `retry_after(value)` is the one parser of `Retry-After` (seconds or an HTTP-date);
- `credential_id(*secrets)` names a set of credentials in cache and single-flight keys with a keyed hash
  (HMAC-SHA256), never the secret itself;
- `RateLimited.reason` is plain text for logs and storage ("Jira Cloud asked us to wait 10 minutes; next
  try at 14:32 UTC (2026-03-05)"); `mrkdwn(text)` escapes such a text for Slack and turns its time into a
  `<!date^…>` each reader sees in their own zone.

A new caller (Slack's Web API, say) needs a `Limits` (the default reads `Retry-After` on a 429), a
`Policy` and a `key` naming the service and the credentials; nothing else.

The vendors' reset headers, each read as its documentation says (see `Limits`):
Datadog `X-RateLimit-Reset` (seconds until the reset, docs.datadoghq.com/api/latest/rate-limits),
Jira `Retry-After` (seconds) and `X-RateLimit-Reset` (an ISO 8601 time, "Rate limiting" in the Jira Cloud
platform docs), GitHub `retry-after` (seconds) and `x-ratelimit-reset` (UTC epoch seconds, "Rate limits
for the REST API"), Linear `X-RateLimit-Requests-Reset` / `X-RateLimit-Complexity-Reset` (UTC epoch
milliseconds, linear.app/developers/rate-limiting).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import os
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from bot.blocks import date as slack_date

__all__ = [
    "DATADOG",
    "GITHUB",
    "JIRA",
    "LINEAR",
    "NEW_RELIC",
    "PROMETHEUS",
    "Limits",
    "Policy",
    "RateLimited",
    "credential_id",
    "retry_after",
    "send",
]

# --- credentials in keys --------------------------------------------------------------------------

# Replicas sharing one Redis share cached answers only when they hash credentials with the same key:
# set SCALEBOT_CREDENTIAL_HASH_KEY on each; without it every process draws its own.
_HASH_KEY = (os.environ.get("SCALEBOT_CREDENTIAL_HASH_KEY") or "").encode() or secrets.token_bytes(32)


def credential_id(*parts: str) -> str:
    """A short keyed hash of credentials (API key, app key, token, account…) for cache keys."""
    message = "\x1f".join(parts).encode()
    return hmac.new(_HASH_KEY, message, hashlib.sha256).hexdigest()[:24]


# --- reading the vendors' answers -----------------------------------------------------------------

ResetStyle = Literal["seconds", "http", "epoch", "epoch_ms", "iso"]


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _reset_at(value: str, style: ResetStyle, now: float) -> float | None:
    """When (epoch seconds) a reset header says the limit lifts."""
    text = value.strip()
    if style == "http":
        wait = retry_after(text, now)
        return None if wait is None else now + wait
    if style == "iso":  # Jira: yyyy-MM-ddTHH:mmZ
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    if style == "seconds":
        return now + max(0.0, number)
    return number / 1000.0 if style == "epoch_ms" else number


@dataclass(frozen=True)
class Limits:
    """How one vendor says "rate limited" and when it may be asked again."""

    reset_headers: tuple[tuple[str, ResetStyle], ...] = (("retry-after", "http"),)
    # GraphQL `errors[]` entries meaning a rate limit: their `extensions.code`, `extensions.errorClass`
    # or `type` (any HTTP status).
    graphql_codes: frozenset[str] = frozenset()
    # GitHub answers an exhausted primary limit with 403 and `x-ratelimit-remaining: 0`.
    exhausted_403: bool = False
    # When nothing says how long: GitHub's docs ask for at least a minute; so does the bot elsewhere.
    default_wait: float = 60.0

    def reset(self, response: httpx.Response, now: float) -> float | None:
        """When (epoch seconds) the limit lifts, or None when `response` is not a rate limit."""
        if not self._limited(response):
            return None
        found = [
            when
            for header, style in self.reset_headers
            if (raw := response.headers.get(header)) is not None
            and (when := _reset_at(raw, style, now)) is not None
        ]
        return max(found) if found else now + self.default_wait

    def _limited(self, response: httpx.Response) -> bool:
        status = response.status_code
        if status == 429:
            return True
        if self.exhausted_403 and status == 403:
            headers = response.headers
            if headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers:
                return True
            return "rate limit" in response.text.lower()  # a secondary limit says so in its message
        return bool(self.graphql_codes) and bool(self.graphql_codes & graphql_error_codes(response))


def graphql_error_codes(response: httpx.Response) -> set[str]:
    """Every code a GraphQL `errors` array names (`extensions.code`, `extensions.errorClass`, `type`)."""
    if "json" not in response.headers.get("content-type", ""):
        return set()
    try:
        body = json.loads(response.content)
    except ValueError:
        return set()
    errors = body.get("errors") if isinstance(body, dict) else None
    codes: set[str] = set()
    for error in errors if isinstance(errors, list) else ():
        if not isinstance(error, dict):
            continue
        extensions = error.get("extensions")
        if isinstance(extensions, dict):
            codes.update(str(extensions[k]) for k in ("code", "errorClass") if extensions.get(k))
        if error.get("type"):
            codes.add(str(error["type"]))
    return codes


PROMETHEUS = Limits()
DATADOG = Limits(reset_headers=(("retry-after", "http"), ("x-ratelimit-reset", "seconds")))
NEW_RELIC = Limits(graphql_codes=frozenset({"TOO_MANY_REQUESTS", "RATE_LIMITED"}))
JIRA = Limits(reset_headers=(("retry-after", "http"), ("x-ratelimit-reset", "iso")))
GITHUB = Limits(
    reset_headers=(("retry-after", "http"), ("x-ratelimit-reset", "epoch")),
    graphql_codes=frozenset({"RATE_LIMITED"}),
    exhausted_403=True,
)
LINEAR = Limits(
    reset_headers=(
        ("retry-after", "http"),
        ("x-ratelimit-requests-reset", "epoch_ms"),
        ("x-ratelimit-complexity-reset", "epoch_ms"),
    ),
    graphql_codes=frozenset({"RATELIMITED"}),
)


# --- the policy -----------------------------------------------------------------------------------


def plain_wait(seconds: float) -> str:
    """`600` → "10 minutes" (the next-try time, rounded up, is the exact promise)."""
    if seconds < 90:
        n = max(1, math.ceil(seconds))
        return f"{n} second{'s' if n != 1 else ''}"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"


class RateLimited(Exception):
    """The service asked us to wait longer than this call may. `next_try` is epoch seconds (UTC)."""

    def __init__(self, service: str, next_try: float, asked: float) -> None:
        self.service = service
        self.next_try = next_try
        self.asked = asked
        super().__init__(self.reason)

    @property
    def next_try_at(self) -> datetime:
        return datetime.fromtimestamp(math.ceil(self.next_try), UTC)

    @property
    def reason(self) -> str:
        """Plain words: "Jira Cloud asked us to wait 10 minutes; next try at 14:32 UTC (2026-03-05)".

        Stored and logged as it is; `mrkdwn()` turns the time into a Slack date for each reader."""
        at = self.next_try_at
        if at.second:  # the minute after: never a time before the reset
            at += timedelta(seconds=60 - at.second)
        when = at.strftime("%H:%M UTC (%Y-%m-%d)")
        return f"{self.service} asked us to wait {plain_wait(self.asked)}; next try at {when}"


_NEXT_TRY = re.compile(r"next try at (\d\d):(\d\d) UTC \((\d{4})-(\d\d)-(\d\d)\)")


def mrkdwn(reason: str) -> str:
    """`reason` escaped for Slack mrkdwn, its "next try at …" time a `<!date^…>` in the reader's zone."""

    def token(found: re.Match[str]) -> str:
        hour, minute, year, month, day = (int(g) for g in found.groups())
        return "next try at " + slack_date(datetime(year, month, day, hour, minute, tzinfo=UTC), "{time}")

    escaped = reason.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _NEXT_TRY.sub(token, escaped)


@dataclass(frozen=True)
class Policy:
    """How patient one call is: retries after errors, and how long it may sit out a rate limit."""

    timeout: float  # per request (connect is capped at 2 s by the callers' clients)
    retries: int = 2  # after a 5xx or a connection error
    backoff: float = 0.1  # the first wait after an error; doubles after each
    wait_within: float = 0.0  # the longest a call may sit out a rate limit (its answer's budget)
    max_limit_waits: int = 2  # rate-limit waits within one call
    retry_timeouts: bool = False  # send again after a read timeout (background work, not an answer)


# key -> (epoch seconds the limit lifts, seconds the service asked for); per process.
_blocked: dict[str, tuple[float, float]] = {}


def blocked_until(key: str, now: float | None = None) -> float | None:
    """When calls with `key` may be sent again, or None when they may now."""
    entry = _blocked.get(key)
    now = time.time() if now is None else now
    if entry is None or entry[0] <= now:
        _blocked.pop(key, None)
        return None
    return entry[0]


class _Again(Exception):
    def __init__(self, wait: float, response: httpx.Response | None = None, error: Exception | None = None):
        super().__init__("again")
        self.wait = wait
        self.response = response
        self.error = error


async def send(
    call: Callable[[], Awaitable[httpx.Response]],
    *,
    policy: Policy,
    limits: Limits,
    service: str,
    key: str,
) -> httpx.Response:
    """`call()` under the policy (see the module's docstring). Raises `RateLimited`, `httpx.ReadTimeout`,
    or the last `httpx.TransportError`; returns the response otherwise (a 5xx after the retries)."""
    started = time.monotonic()
    counts = {"errors": 0, "limits": 0}

    def budget() -> float:
        return policy.wait_within - (time.monotonic() - started)

    def limited(until: float, asked: float) -> None:
        wait = until - time.time()
        if wait <= budget() and counts["limits"] < policy.max_limit_waits:
            counts["limits"] += 1
            raise _Again(max(wait, 0.0) + 0.05)  # the sleep's clock is not the wall clock: land after
        raise RateLimited(service, until, asked)

    async def once() -> httpx.Response:
        until = blocked_until(key)
        if until is not None:
            limited(until, _blocked[key][1])
        try:
            response = await call()
        except httpx.ReadTimeout as exc:
            if not policy.retry_timeouts:
                raise
            counts["errors"] += 1
            raise _Again(_backoff(policy, counts["errors"]), error=exc) from None
        except httpx.TransportError as exc:
            counts["errors"] += 1
            raise _Again(_backoff(policy, counts["errors"]), error=exc) from None
        now = time.time()
        reset = limits.reset(response, now)
        if reset is not None:
            asked = max(0.0, reset - now)
            previous = _blocked.get(key)
            _blocked[key] = (max(reset, previous[0]) if previous else reset, asked)
            limited(_blocked[key][0], asked)
        if response.status_code >= 500:
            counts["errors"] += 1
            wait = max(
                _backoff(policy, counts["errors"]), retry_after(response.headers.get("retry-after")) or 0
            )
            if wait > max(budget(), policy.backoff * 8):
                return response  # asked to wait longer than we may: this answer stands
            raise _Again(wait, response=response)
        return response

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return error.wait if isinstance(error, _Again) else 0.0

    async def attempts() -> httpx.Response:
        try:
            return await once()  # most calls: one request, without setting up the retry machinery
        except _Again as first:
            if counts["errors"] > policy.retries:
                raise
            await asyncio.sleep(first.wait)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Again),
            wait=wait,
            stop=lambda _state: counts["errors"] > policy.retries,
            reraise=True,
        )
        answer: httpx.Response = await retrying(once)
        return answer

    try:
        response = await attempts()
    except _Again as last:
        if last.response is not None:
            return last.response
        assert last.error is not None
        raise last.error from last.error.__cause__  # kept: callers tell "refused" from "unreachable"
    return response


def _backoff(policy: Policy, errors: int) -> float:
    base = policy.backoff * (2 ** (errors - 1))
    return float(base + random.uniform(0, policy.backoff / 2))
