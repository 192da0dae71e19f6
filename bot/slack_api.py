"""Talking to Slack's Web API: bounded retries, per-method metrics, and workspaces whose token died."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.errors import UserError
from bot.logs import redactor
from bot.outbound import retry_after
from bot.telemetry import Telemetry

log = logging.getLogger(__name__)

# Errors that mean the workspace's token no longer works: retrying only makes a storm.
DEAD_TOKEN_ERRORS = frozenset({"invalid_auth", "token_revoked", "account_inactive", "not_authed"})
# Errors a person can fix by inviting the bot.
NOT_IN_CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found"})

MAX_RETRY_AFTER_SECONDS = 30


def header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """A response header's first value, whatever its case (slack_sdk keeps some as lists)."""
    for key, value in (headers or {}).items():
        if key.lower() == name:
            first = value[0] if isinstance(value, list | tuple) else value
            return None if first is None else str(first)
    return None


def rate_limited_for(exc: SlackApiError) -> float | None:
    """Seconds a call Slack refused with a 429 asks us to wait (its `Retry-After`, read by the one
    parser, `bot.outbound.retry_after`; 1 when missing or unreadable); None when it is no rate limit."""
    response = exc.response
    if response is None:
        return None
    data = response.data  # not always Slack's JSON (a proxy's plain-text error page)
    if response.status_code != 429 and not (isinstance(data, dict) and data.get("error") == "ratelimited"):
        return None
    wait = retry_after(header(response.headers, "retry-after"))
    return 1.0 if wait is None else wait


class BoundedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Retries a 429 after its `Retry-After`, but never waits longer than a bounded time."""

    def __init__(self, max_retry_count: int = 3, max_wait: float = MAX_RETRY_AFTER_SECONDS) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        raw = header(response.headers, "retry-after")
        if raw is None:
            return True
        wait = retry_after(raw)
        return wait is not None and wait <= self.max_wait

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:  # pragma: no cover - _can_retry_async answered False
            raise error or RuntimeError("no response to retry")
        state.next_attempt_requested = True
        wait = retry_after(header(response.headers, "retry-after"))
        await asyncio.sleep((1.0 if wait is None else wait) + random.random())
        state.increment_current_attempt()


async def pages(
    call: Callable[..., Awaitable[Any]], /, *, max_pages: int | None = None, **kwargs: Any
) -> AsyncIterator[Any]:
    """Every page of a Slack list method (`conversations.members`, `users.list`,
    `conversations.history`…), following `response_metadata.next_cursor` until Slack says there is no
    more (or `max_pages` were read). `call` is the client method, or anything that calls one (a pacer)."""
    cursor: str | None = None
    read = 0
    while max_pages is None or read < max_pages:
        page = await call(**kwargs, cursor=cursor) if cursor else await call(**kwargs)
        read += 1
        yield page
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return


async def every(
    call: Callable[..., Awaitable[Any]], key: str, /, *, max_pages: int | None = None, **kwargs: Any
) -> list[Any]:
    """All the items under `key` (`members`, `channels`, `messages`…) on every page of a list method."""
    found: list[Any] = []
    async for page in pages(call, max_pages=max_pages, **kwargs):
        found.extend(page.get(key) or [])
    return found


def retry_handlers() -> list[AsyncRetryHandler]:
    return [AsyncConnectionErrorRetryHandler(max_retry_count=2), BoundedRateLimitRetryHandler()]


def is_slack_admin(user: dict[str, Any]) -> bool:
    """Slack's own admins, from a `users.info` user: an admin, an owner or the primary owner."""
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


async def user_is_slack_admin(client: AsyncWebClient, user_id: str) -> bool:
    """Whether Slack says `user_id` is a workspace admin or owner (False when it can't tell)."""
    try:
        user = (await client.users_info(user=user_id))["user"]
    except SlackApiError:
        return False
    return is_slack_admin(user)


# Errors about the ids a request carried, not about the bot: said to the person in words.
TRIGGER_ERRORS = frozenset({"invalid_trigger_id", "expired_trigger_id", "trigger_expired"})
TRIGGER_EXPIRED = (
    "Slack's form expired before it could open (this happens when things are slow). "
    "Run the command or click the button again."
)
UNKNOWN_ID_ERRORS = frozenset({"user_not_found", "channel_not_found", "users_not_found", "invalid_arguments"})
LOOKUPS = frozenset({"users.info", "conversations.info", "conversations.members", "chat.postEphemeral"})
UNKNOWN_ID = "Slack does not know that user or channel (any more). Try again from the channel itself."


class WorkspaceInactiveError(Exception):
    """The workspace's token was revoked or the app uninstalled; nothing more is sent there."""

    def __init__(self, workspace_id: str | None, error: str) -> None:
        super().__init__(f"workspace {workspace_id} is inactive ({error})")
        self.workspace_id, self.error = workspace_id, error


def not_in_channel_message() -> str:
    return (
        "I'm not a member of this channel, so I can't post here. Invite me with `/invite @scalebot`, "
        "then run the command again."
    )


class InstrumentedWebClient(AsyncWebClient):
    """An `AsyncWebClient` that counts calls by method and error and reports dead tokens once."""

    def __init__(
        self,
        *,
        telemetry: Telemetry | None = None,
        on_dead_token: Callable[[str | None, str], Awaitable[None]] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("retry_handlers", retry_handlers())
        super().__init__(**kwargs)
        self.workspace_id: str | None = kwargs.get("team_id")
        self.telemetry = telemetry
        self.on_dead_token = on_dead_token
        if self.token:
            redactor.add(self.token)

    def __deepcopy__(self, memo: dict[int, Any]) -> InstrumentedWebClient:
        # Bolt deep-copies each request for its lazy listeners; a client (and its pooled HTTP session)
        # is safe to share on one event loop, and a session cannot be copied.
        return self

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        try:
            response = await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            data = exc.response.data if exc.response is not None else None
            if isinstance(data, dict):
                error = str(data.get("error", "unknown"))
            else:  # not Slack's JSON (a proxy's or a server's plain-text error page)
                error = f"http_{exc.response.status_code}" if exc.response is not None else "unknown"
            self._count(api_method, error)
            if error in DEAD_TOKEN_ERRORS:
                if self.on_dead_token is not None:
                    await self.on_dead_token(self.workspace_id, error)
                raise WorkspaceInactiveError(self.workspace_id, error) from exc
            if error in NOT_IN_CHANNEL_ERRORS and api_method.startswith("chat."):
                raise UserError(not_in_channel_message()) from exc
            if error in TRIGGER_ERRORS and api_method in ("views.open", "views.push"):
                raise UserError(TRIGGER_EXPIRED) from exc
            refused = exc.response is not None and exc.response.status_code == 400
            if (error in UNKNOWN_ID_ERRORS or refused) and api_method in LOOKUPS:
                raise UserError(UNKNOWN_ID) from exc
            raise
        except (TimeoutError, aiohttp.ClientError) as exc:
            self._count(api_method, type(exc).__name__)
            raise
        self._count(api_method, "ok")
        return response

    def _count(self, method: str, error: str) -> None:
        if self.telemetry is not None:
            self.telemetry.api_calls.labels(method=method, error=error).inc()


class SlackClients:
    """Builds clients that share one HTTP connection pool per event loop."""

    def __init__(
        self,
        base_url: str,
        telemetry: Telemetry,
        on_dead_token: Callable[[str | None, str], Awaitable[None]] | None = None,
        timeout: int = 10,
    ) -> None:
        self.base_url = base_url
        self.telemetry = telemetry
        self.on_dead_token = on_dead_token
        self.timeout = timeout
        self._sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}

    def _session(self) -> aiohttp.ClientSession | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        session = self._sessions.get(loop)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(limit=64),
            )
            self._sessions[loop] = session
        return session

    def client(
        self, token: str | None, team_id: str | None = None, *, pooled: bool = True
    ) -> InstrumentedWebClient:
        """A client for `token`; `pooled=False` for Bolt's own base client, which Bolt copies into
        objects it deep-copies (a pooled session cannot be copied)."""
        return InstrumentedWebClient(
            token=token,
            base_url=self.base_url,
            team_id=team_id,
            timeout=self.timeout,
            session=self._session() if pooled else None,
            telemetry=self.telemetry,
            on_dead_token=self.on_dead_token,
        )

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        session = self._sessions.pop(loop, None)
        if session is not None:
            await session.close()
