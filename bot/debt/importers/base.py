"""What every importer shares: the imported sprint, counting unestimated issues, and a careful HTTP client.

The client sends through the bot's one outbound policy (`bot.outbound`): timeouts and 5xx are retried
with exponential backoff; a rate limit (429, GitHub's exhausted 403, Linear's `RATELIMITED` under HTTP
400, a GraphQL error array saying so) is never sent again before the tracker's reset: waited out when
the reset is within `WAIT_WITHIN` seconds, otherwise the import stops with `ImportRateLimited`, which
says when the tracker may be asked again. The client refuses to follow a link to another host and turns
every failure into `ImportFailed` with a reason a person can read. Reasons never contain a credential:
they name the tracker, the path and the HTTP status only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from bot import outbound
from bot.debt.config import TrackerHttp

log = logging.getLogger(__name__)

MAX_PAGES = 200  # a tracker that keeps answering "there is more" is broken, not big
# An import runs in the background: a rate limit lifting within a minute is waited out.
WAIT_WITHIN = 60.0

Secret = Callable[[str], str]


class ImportFailed(Exception):
    """The import did not produce a figure; `reason` is shown to the team next to the stale figure.
    `status` is the HTTP status of a refused request (a 404 lets an importer try an older endpoint)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class ImportRateLimited(ImportFailed):
    """The tracker asked us to wait past what an import waits; `next_try` (epoch seconds) is when it may
    be asked again, `wait` how many seconds from now that is."""

    def __init__(self, limit: outbound.RateLimited) -> None:
        super().__init__(limit.reason)
        self.next_try = limit.next_try

    @property
    def wait(self) -> float:
        return max(0.0, self.next_try - time.time())


@dataclass(frozen=True)
class TrackerIssue:
    key: str
    estimate: float | None  # None: unestimated
    debt: bool  # chosen as tech-debt work (labels or the JQL filter)


@dataclass(frozen=True)
class ImportedSprint:
    """The active sprint (cycle, milestone, iteration) of a team, as its tracker reports it."""

    name: str
    starts: date | None
    ends: date | None
    issues: tuple[TrackerIssue, ...]


@dataclass(frozen=True)
class Tally:
    capacity: Decimal
    debt: Decimal
    issues: int
    debt_issues: int
    unestimated: int
    rule: str  # how unestimated issues counted: "skipped" or "counted as 2 points"


def tally(issues: Sequence[TrackerIssue], unestimated: Literal["skip"] | float, unit: str) -> Tally:
    """Capacity = the estimates of every issue; debt = those of the tech-debt issues. An unestimated
    issue counts 0 (`skip`) or the configured default size, and is counted either way."""
    default = None if unestimated == "skip" else Decimal(str(unestimated))
    capacity = debt = Decimal(0)
    missing = 0
    for issue in issues:
        if issue.estimate is None:
            missing += 1
            size = default or Decimal(0)
        else:
            size = Decimal(str(issue.estimate))
        capacity += size
        if issue.debt:
            debt += size
    rule = "skipped" if default is None else f"counted as {_plain(default)} {unit}"
    return Tally(capacity, debt, len(issues), sum(1 for i in issues if i.debt), missing, rule)


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def day(value: Any) -> date | None:
    """The date part of an ISO date or timestamp ("2026-03-02", "2026-03-02T09:00:00.000+0100")."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def estimate(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if number >= 0 else None
    return None


def next_cursor(connection: Any) -> str | None:
    """The cursor of a GraphQL connection's next page (its `pageInfo`), or None on the last page."""
    info = connection.get("pageInfo") if isinstance(connection, dict) else None
    if not isinstance(info, dict) or not info.get("hasNextPage"):
        return None
    after = info.get("endCursor")
    return str(after) if after else None


def need(condition: bool, label: str, what: str) -> None:
    """Fail the import when a tracker's answer does not have the shape its documentation gives."""
    if not condition:
        raise ImportFailed(f"{label} answered something that is not {what}")


class TrackerClient:
    """An httpx AsyncClient for one tracker and one import run. `limits` is how the tracker says "rate
    limited" (`bot.outbound.JIRA`, `GITHUB`, `LINEAR`); `credentials` the secrets it sends, hashed into
    the key its rate limits are remembered under (one token's limit never stops another's)."""

    def __init__(
        self,
        label: str,
        base_url: str,
        http: TrackerHttp,
        headers: Mapping[str, str],
        *,
        limits: outbound.Limits,
        wait_within: float = WAIT_WITHIN,
    ) -> None:
        self.label = label
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.limits = limits
        self._origin = urlsplit(self.base_url)[:2]
        secrets = [f"{k}={v}" for k, v in sorted(headers.items())]
        self.key = f"tracker|{self.base_url}|{outbound.credential_id(*secrets)}"
        self.policy = outbound.Policy(
            timeout=http.timeout_seconds,
            retries=http.retries,
            backoff=http.backoff_seconds,
            wait_within=wait_within,
            retry_timeouts=True,
        )
        self._client = httpx.AsyncClient(
            headers={"Accept": "application/json", "User-Agent": "scalebot", **headers},
            timeout=httpx.Timeout(http.timeout_seconds),
            follow_redirects=False,
        )

    async def __aenter__(self) -> TrackerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    def same_origin(self, url: str) -> bool:
        return urlsplit(url)[:2] == self._origin

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> tuple[Any, httpx.Headers]:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: Mapping[str, Any]) -> tuple[Any, httpx.Headers]:
        return await self.request("POST", path, json=body)

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[Any, httpx.Headers]:
        """The parsed JSON body and the headers; retries what is worth retrying, then fails with a reason."""
        url = self.url(path)
        if not self.same_origin(url):
            raise ImportFailed(f"{self.label} pointed to another host; not following it")
        shown = urlsplit(url).path
        attempts = self.http.retries + 1
        tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"

        async def call() -> httpx.Response:
            return await self._client.request(method, url, **kwargs)

        try:
            response = await outbound.send(
                call, policy=self.policy, limits=self.limits, service=self.label, key=self.key
            )
        except outbound.RateLimited as exc:
            log.info(
                "tracker rate limit", extra={"tracker": self.label, "next_try": exc.next_try_at.isoformat()}
            )
            raise ImportRateLimited(exc) from None
        except httpx.TimeoutException:
            raise ImportFailed(
                f"{self.label} did not answer within {self.http.timeout_seconds:g}s ({shown}), {tries}"
            ) from None
        except httpx.TransportError as exc:
            raise ImportFailed(
                f"cannot reach {self.label} ({type(exc).__name__}, {shown}), {tries}"
            ) from None
        status = response.status_code
        # Linear answers a refused key with HTTP 400 and `extensions.code` AUTHENTICATION_ERROR.
        if status in (401, 403) or outbound.graphql_error_codes(response) & _REFUSED_CODES:
            raise ImportFailed(
                f"{self.label} refused the credentials (HTTP {status} for {shown}); "
                "check the token the config file names"
            )
        if status >= 500:
            raise ImportFailed(f"{self.label} answered HTTP {status} ({shown}), {tries}")
        if status >= 400:
            raise ImportFailed(f"{self.label} answered HTTP {status} ({shown}){_detail(response)}", status)
        try:
            return response.json(), response.headers
        except ValueError:
            raise ImportFailed(f"{self.label} answered something that is not JSON ({shown})") from None


_REFUSED_CODES = {"AUTHENTICATION_ERROR", "UNAUTHENTICATED", "FORBIDDEN"}


def _detail(response: httpx.Response) -> str:
    """The tracker's own error message, short (Jira's errorMessages, GitHub's and Linear's message)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    messages: list[str] = []
    if isinstance(body, dict):
        for key in ("errorMessages", "errors"):
            value = body.get(key)
            if isinstance(value, list):
                messages += [str(m.get("message", m)) if isinstance(m, dict) else str(m) for m in value]
        if isinstance(body.get("message"), str):
            messages.append(body["message"])
    text = "; ".join(messages)[:200]
    return f": {text}" if text else ""
