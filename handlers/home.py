"""The App Home: published on `app_home_opened`, with buttons to set a team up (for those who may),
preview the digest, refresh, and per team to start a signal check, show its metrics, record tech debt and
start a pre-mortem.

A person sees the teams they belong to (named as a lead or manager, or a member of the team's channel);
managers see every team. A team's button runs the same subcommand `/scale-check …` runs in the team's
channel (so a check started here is posted there), and what the command would have shown only to the
person is shown on the Home tab instead (the metrics in a modal).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from bot import blocks as bk
from bot.digest import render
from bot.digest.jobs import ensure_workspace
from bot.digest.model import Week
from bot.digest.service import build, schedule_for
from bot.home.render import (
    ACTION_CHECK,
    ACTION_DEBT,
    ACTION_METRICS,
    ACTION_PREMORTEM,
    ACTION_PREVIEW,
    ACTION_REFRESH,
    TeamButton,
)
from bot.home.service import open_check_link, service_for, visible
from bot.teams import Team
from bot.words import possessive
from handlers.base import Ctx, Listeners, report
from handlers.router import CommandRouter

log = logging.getLogger(__name__)

PREVIEW_CALLBACK = "digest.preview"
METRICS_CALLBACK = "home.metrics"


async def publish(ctx: Ctx, notice: str | None = None, *, keep_notice: bool = False) -> None:
    """Publish the person's Home tab (`bot.home.service`); `notice` answers what they just did there."""
    if ctx.user_id:
        await service_for(ctx.rt).publish(ctx.workspace_id, ctx.user_id, notice, keep_notice=keep_notice)


async def on_home_opened(ctx: Ctx) -> None:
    event = ctx.body.get("event") or {}
    if event.get("tab", "home") != "home":
        return
    ctx.user_id = ctx.user_id or event.get("user")
    await publish(ctx, keep_notice=True)
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


# --- a team's buttons ----------------------------------------------------------------------------------


async def _clicked_team(ctx: Ctx, action: dict[str, Any]) -> Team | None:
    """The team of the button, if it is one this person sees on their Home tab (else they are told)."""
    ref = TeamButton.load(action.get("value"))
    if ref is None or not ctx.user_id:
        await publish(ctx, ":warning: That button is out of date; here is your Home tab again.")
        return None
    seen = await visible(ctx.rt, ctx.client, ctx.workspace_id, ctx.user_id)
    team = next((t for t in seen.mine if t.channel_id == ref.ch), None)
    if team is None:
        await publish(ctx, ":warning: That team is no longer one of yours here; here is your Home tab again.")
    return team


async def _run_in_channel(router: CommandRouter, ctx: Ctx, team: Team, command: str) -> Ctx:
    """Run `/scale-check <command>` as if typed in the team's channel; what it would have shown only to
    this person is collected in the returned context."""
    sub, args, _ = router.resolve(command)
    assert sub is not None, f"no subcommand {command!r}"
    there = dataclasses.replace(
        ctx, channel_id=team.channel_id, response_url=None, respond=None, extras={}, collected=[]
    )
    try:
        await sub.run(there, args)
    except Exception as exc:  # the command's own errors, shown as it would show them
        await report(there, exc)
    return there


def _told(team: Team, there: Ctx) -> str:
    said = "\n".join(text for text, _ in (there.collected or [])[:3])
    return f"*{bk.escape(team.name)}* ({bk.channel_link(team.channel_id)}): {said}"


class TeamButtons:
    """The listeners of a team's buttons; each runs the team's subcommand through the router."""

    def __init__(self, router: CommandRouter) -> None:
        self.router = router

    async def check(self, ctx: Ctx, action: dict[str, Any]) -> None:
        team = await _clicked_team(ctx, action)
        if team is None:
            return
        there = await _run_in_channel(self.router, ctx, team, "signals")
        if there.collected:  # a check is open there already, or it could not start: as the command says
            await publish(ctx, _told(team, there))
            return
        link = await open_check_link(ctx.rt, ctx.client, ctx.workspace_id, team.channel_id)
        where = bk.channel_link(team.channel_id)
        opened = f" ({bk.link(link, 'open it')})" if link else ""
        await publish(
            ctx,
            f":white_check_mark: Started a signal check for *{bk.escape(team.name)}* in {where}{opened}: "
            "its questions are in the thread there.",
        )

    async def metrics(self, ctx: Ctx, action: dict[str, Any]) -> None:
        """In a modal: "reading" at once (the trigger lasts 3 s), then the reading."""
        team = await _clicked_team(ctx, action)
        if team is None or not ctx.trigger_id:
            return
        title = bk.truncate(f"Metrics · {team.name}", 24)
        reading = bk.section(f":hourglass_flowing_sand: Reading {bk.escape(possessive(team.name))} metrics…")
        working = bk.modal(title, [reading], callback_id=METRICS_CALLBACK, submit=None, close="Close")
        opened = await ctx.client.views_open(trigger_id=ctx.trigger_id, view=working)
        there = await _run_in_channel(self.router, ctx, team, "metrics")
        blocks: list[bk.Block] = []
        for text, shown in there.collected or []:
            blocks += shown or [bk.section(text)]
        view = bk.modal(
            title,
            blocks[:100] or [bk.section("Nothing to show.")],
            callback_id=METRICS_CALLBACK,
            submit=None,
            close="Close",
        )
        await ctx.client.views_update(view_id=opened["view"]["id"], view=view)

    async def debt(self, ctx: Ctx, action: dict[str, Any]) -> None:
        """The tech-debt form, as `/scale-check debt` opens it; anything else it says, on the Home tab."""
        await self._relayed(ctx, action, "debt")

    async def premortem(self, ctx: Ctx, action: dict[str, Any]) -> None:
        """A pre-mortem with the team's leads (or the form to pick them), posted in the team's channel."""
        await self._relayed(ctx, action, "premortem")

    async def _relayed(self, ctx: Ctx, action: dict[str, Any], command: str) -> None:
        """Run the clicked team's `command` in its channel; what it says only to this person, on the Home tab."""
        team = await _clicked_team(ctx, action)
        if team is None:
            return
        there = await _run_in_channel(self.router, ctx, team, command)
        if there.collected:
            await publish(ctx, _told(team, there))


def register(listeners: Listeners) -> None:
    listeners.event("app_home_opened", on_home_opened)
    listeners.action(ACTION_REFRESH, on_refresh)
    listeners.action(ACTION_PREVIEW, on_preview)
    buttons = TeamButtons(listeners.router)
    listeners.action(ACTION_CHECK, buttons.check)
    listeners.action(ACTION_METRICS, buttons.metrics)
    listeners.action(ACTION_DEBT, buttons.debt)
    listeners.action(ACTION_PREMORTEM, buttons.premortem)
