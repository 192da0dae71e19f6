"""The App Home: published on `app_home_opened`, with buttons to set a team up, preview the digest, refresh.

A person sees the teams they belong to (named as a lead or manager, or a member of the team's channel);
managers see every team.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import blocks as bk
from bot.digest import render
from bot.digest.jobs import ensure_workspace
from bot.digest.model import Week
from bot.digest.roster import members, workspace_teams
from bot.digest.sections import collect
from bot.digest.service import build, schedule_for
from bot.home import ACTION_PREVIEW, ACTION_REFRESH, MAX_TEAMS, home_view
from bot.slack_api import InstrumentedWebClient
from bot.teams import Team
from handlers.base import Ctx, Listeners

log = logging.getLogger(__name__)

SECTION_TIMEOUT = 5.0  # a slow source shows "unavailable" on the Home tab rather than holding it back
PREVIEW_CALLBACK = "digest.preview"


async def _channel_members(client: InstrumentedWebClient, teams: list[Team]) -> dict[str, set[str]]:
    limit = asyncio.Semaphore(8)

    async def one(team: Team) -> tuple[str, set[str]]:
        async with limit:
            try:
                page = await client.conversations_members(channel=team.channel_id, limit=1000)
            except SlackApiError:
                return team.channel_id, set()
            return team.channel_id, set(page.get("members") or [])

    return dict(await asyncio.gather(*(one(t) for t in teams)))


async def _user_tz(client: InstrumentedWebClient, user_id: str) -> str | None:
    try:
        return (await client.users_info(user=user_id))["user"].get("tz")
    except SlackApiError:
        return None


async def publish(ctx: Ctx) -> None:
    rt, user = ctx.rt, ctx.user_id
    if not user:
        return
    schedule = await schedule_for(rt, ctx.workspace_id)
    teams = await workspace_teams(rt, ctx.workspace_id)
    manager = user in schedule.managers or any(user in t.managers for t in teams)
    if manager:
        mine = teams
    else:
        in_channel = await _channel_members(ctx.client, teams)
        mine = [t for t in teams if user in members(t) or user in in_channel.get(t.channel_id, set())]
    now = ctx.now
    week = Week.of(now, schedule.timezone)
    glance = await collect(rt, mine[:MAX_TEAMS], week, now, section_seconds=SECTION_TIMEOUT)
    view = home_view(
        user,
        glance,
        now,
        schedule,
        schedule.next_run(now) if schedule.channel else None,
        user_tz=await _user_tz(ctx.client, user),
        manager=manager,
        total=len(mine),
    )
    await ctx.client.views_publish(user_id=user, view=view)


async def on_home_opened(ctx: Ctx) -> None:
    event = ctx.body.get("event") or {}
    if event.get("tab", "home") != "home":
        return
    ctx.user_id = ctx.user_id or event.get("user")
    await publish(ctx)
    await ensure_workspace(ctx.rt, ctx.workspace_id)


async def on_refresh(ctx: Ctx, action: dict[str, Any]) -> None:
    await publish(ctx)


async def on_preview(ctx: Ctx, action: dict[str, Any]) -> None:
    """A modal: "working" at once (the trigger lasts 3 s), then the preview once it is built."""
    working = bk.modal(
        "This week's digest",
        [
            bk.section(
                ":hourglass_flowing_sand: Reading every team's checklist, mitigations, metrics and tech debt…"
            )
        ],
        callback_id=PREVIEW_CALLBACK,
        submit=None,
        close="Close",
    )
    opened = await ctx.client.views_open(trigger_id=ctx.trigger_id, view=working)
    schedule = await schedule_for(ctx.rt, ctx.workspace_id)
    now = ctx.now
    digest = await build(ctx.rt, ctx.workspace_id, Week.of(now, schedule.timezone), now)
    payload = render.preview_message(digest, schedule.channel)
    view = bk.modal(
        "This week's digest", payload["blocks"], callback_id=PREVIEW_CALLBACK, submit=None, close="Close"
    )
    await ctx.client.views_update(view_id=opened["view"]["id"], view=view)


def register(listeners: Listeners) -> None:
    listeners.event("app_home_opened", on_home_opened)
    listeners.action(ACTION_REFRESH, on_refresh)
    listeners.action(ACTION_PREVIEW, on_preview)
