"""Single-workspace modes (HTTP with a bot token, Socket Mode): the one workspace's life.

- At start-up the token's workspace is recorded (`record_token_workspace`); a token Slack already
  refused, or one that was revoked before a restart, leaves the process stopped.
- After `tokens_revoked` / `app_uninstalled` (or a dead-token error from any call) nothing more is
  sent with the token: `install_guard` answers commands in words without calling Slack and drops
  everything else, jobs are removed, and `Runtime.client_for` refuses. The log says how to recover.
- Socket Mode connects in the background with backoff (`connect_with_backoff`), so a websocket that
  cannot be reached never holds up start-up, and SIGTERM stops the process at any point.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.payloads import workspace_id
from bot.runtime import RECOVERY_TOKEN, Runtime
from storage import installations

log = logging.getLogger(__name__)

STOPPED_TEXT = (
    "scalebot is no longer connected to this workspace: its access was revoked or the app was "
    "uninstalled. An admin can reinstall it to bring it back."
)
LIFECYCLE_EVENTS = frozenset({"tokens_revoked", "app_uninstalled"})
CONNECT_TIMEOUT = 10.0
AUTH_TEST_TIMEOUT = 3.0  # start-up waits no longer for Slack (SIGTERM is acted on once it is over)
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 60.0


async def record_token_workspace(rt: Runtime, bolt: AsyncApp) -> None:
    """Remember the token's workspace so scheduled jobs know where to post, and whether it stopped."""
    token = bolt.client.token or ""
    try:
        auth = await asyncio.wait_for(bolt.client.auth_test(), AUTH_TEST_TIMEOUT)
    except Exception as exc:  # Slack unreachable at start-up: requests still work, jobs wait
        log.warning("auth.test failed at start-up", extra={"error": type(exc).__name__})
        known = await rt.db.run(_row_for_token, token)
        if known is not None:
            rt.token_workspace = known.workspace_id
            if not known.active:
                rt.stopped_reason = known.deactivated_reason or "inactive"
                log.warning(
                    "the bot token was revoked before this start: nothing is sent to Slack",
                    extra={"workspace": known.workspace_id, "recovery": RECOVERY_TOKEN},
                )
        return
    rt.token_workspace = auth["team_id"]
    row = installations.InstallationRow(
        workspace_id=auth["team_id"],
        workspace_name=auth.get("team"),
        bot_token=token,
        bot_id=auth.get("bot_id"),
        bot_user_id=auth.get("user_id"),
        source="token",
        installed_at=rt.clock.now(),
    )
    await rt.db.run(installations.save_installation, row)  # a working token makes it active again
    rt.stopped_reason = None


def _row_for_token(session: Any, token: str) -> installations.InstallationRow | None:
    from sqlmodel import select

    row = installations.InstallationRow
    query = select(row).where(row.bot_token.in_([token, installations.token_fingerprint(token)]))  # type: ignore[attr-defined]
    return session.exec(query).first()


Guard = Callable[[dict[str, Any]], Awaitable[BoltResponse | None]]


def make_guard(rt: Runtime) -> Guard:
    """Once the one workspace is inactive, requests are answered before Bolt sees them (Bolt's own
    authorization would call auth.test with the dead token), without any Web API call."""

    async def single_workspace_guard(body: dict[str, Any]) -> BoltResponse | None:
        event = body.get("event")
        event_type = event.get("type") if isinstance(event, dict) else None
        named = workspace_id(body)
        if rt.token_workspace is not None and named is not None and named != rt.token_workspace:
            # Signed with our secret but for a workspace this token does not belong to: nothing is
            # stored under it.
            log.info("request for another workspace refused", extra={"workspace": named})
            return BoltResponse(status=400, body="this app is installed in another workspace")
        if event_type in LIFECYCLE_EVENTS or (reason := await rt.stopped()) is None:
            return None
        log.info("request ignored: the workspace is inactive", extra={"reason": reason})
        if "command" in body:
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": STOPPED_TEXT})
        if body.get("type") == "block_suggestion":
            return BoltResponse(status=200, body={"options": []})
        return BoltResponse(status=200, body="")

    return single_workspace_guard


async def connect_with_backoff(handler: Any, connected: asyncio.Event) -> None:
    """Connect the Socket Mode handler, retrying with capped exponential backoff; cancellable."""
    delay = BACKOFF_FIRST
    attempt = 0
    while True:
        attempt += 1
        try:
            await asyncio.wait_for(handler.connect_async(), CONNECT_TIMEOUT)
            connected.set()
            log.info("Socket Mode connected", extra={"attempt": attempt})
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "Socket Mode could not connect; retrying",
                extra={"attempt": attempt, "error": type(exc).__name__, "retry_in": round(delay, 1)},
            )
        await asyncio.sleep(delay * random.uniform(0.8, 1.2))
        delay = min(delay * 2, BACKOFF_MAX)
