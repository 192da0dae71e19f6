"""The workspace's own time zone, the digest's default when neither setup nor the config file names one.

Slack has no time zone per workspace, so it is the zone of the person who installed the app (OAuth), else
of the workspace's primary owner (`users.info` / `users.list`, scope `users:read`). Kept in the cache for a
day; when Slack does not answer, nothing is kept and the caller falls back to UTC until it does.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.slack_api import WorkspaceInactiveError, pages
from storage import installations

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

KEEP_SECONDS = 24 * 3600.0
KEEP_NONE_SECONDS = 3600.0  # no owner with a zone: ask again within the hour
USERS_PAGES = 20  # users.list pages (200 people each) read looking for the primary owner


def _key(workspace_id: str) -> str:
    return f"digest:zone:{workspace_id}"


def _zone_of(user: dict[str, Any]) -> str | None:
    tz = user.get("tz")
    return str(tz) if tz else None


async def _ask_slack(rt: Runtime, workspace_id: str) -> str | None:
    client = await rt.client_for(workspace_id)
    row = await rt.db.run(installations.find_installation, workspace_id)
    if row is not None and row.installer_user_id:
        found = _zone_of((await client.users_info(user=row.installer_user_id))["user"])
        if found:
            return found
    owner: str | None = None
    async for page in pages(client.users_list, max_pages=USERS_PAGES, limit=200):
        for user in page.get("members") or []:
            if user.get("is_primary_owner"):
                return _zone_of(user)
            if owner is None and user.get("is_owner"):
                owner = _zone_of(user)
    return owner


async def _look_up(rt: Runtime, workspace_id: str) -> str | None:
    try:
        zone = await _ask_slack(rt, workspace_id)
    except (SlackApiError, WorkspaceInactiveError, OSError, TimeoutError, aiohttp.ClientError):
        log.info("could not read the workspace's time zone", extra={"workspace": workspace_id}, exc_info=True)
        return None
    await rt.cache.set(_key(workspace_id), (zone or "").encode(), KEEP_SECONDS if zone else KEEP_NONE_SECONDS)
    return zone


# Lookups under way, so that concurrent callers share one and one cut short by its budget still finishes.
_pending: dict[tuple[int, str], asyncio.Task[str | None]] = {}


async def workspace_timezone(rt: Runtime, workspace_id: str, budget: float | None = None) -> str | None:
    """The workspace's zone (its installer's, else its primary owner's), or None when Slack does not tell.

    `budget` bounds the wait on a cold cache for callers that must answer Slack within 3 seconds (a
    modal to open, a submission to ack): they get None (so UTC, for now) while the lookup finishes in
    the background and fills the cache for the next caller.
    """
    kept = await rt.cache.get(_key(workspace_id))
    if kept is not None:
        return kept.decode() or None
    key = (id(rt), workspace_id)
    task = _pending.get(key)
    if task is None:
        task = asyncio.create_task(_look_up(rt, workspace_id), name=f"zone-{workspace_id}")
        _pending[key] = task
        task.add_done_callback(lambda _: _pending.pop(key, None))
    try:
        return await asyncio.wait_for(asyncio.shield(task), budget)
    except TimeoutError:
        log.info("the workspace's time zone is still being looked up", extra={"workspace": workspace_id})
        return None
