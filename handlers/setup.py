"""`/scale-check setup`: the setup modal (workspace admins and the team's managers only).

The modal maps a channel to a team, picks a configured data source and signals, names leads and
managers, and sets the workspace's digest channel, day, time and time zone (those only for workspace
admins and the digest's managers; others see them read-only). What it stores wins over the config file
for that channel (and, once someone changes the digest there, for the workspace's digest), and the answer
says so when both exist; a changed schedule reschedules the digest job.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import blocks as bk
from bot.digest.jobs import reschedule
from bot.digest.roster import workspace_teams
from bot.digest.schedule import Schedule
from bot.digest.service import schedule_for
from bot.errors import PermissionDenied
from bot.home.render import ACTION_SETUP
from bot.home.service import may_set_up_a_team
from bot.setup import rules
from bot.setup import service as setup_service
from bot.setup.modal import CALLBACK_ID, CHANNEL_PICKED, metadata_of, origin_of, setup_modal
from bot.teams import Team
from bot.words import quoted
from handlers.base import Ctx, FieldError, Listeners, ViewErrors, is_admin, is_slack_admin
from handlers.home import publish
from handlers.router import Subcommand

log = logging.getLogger(__name__)

# Opening the modal and acking its submission both have 3 seconds: the workspace's zone, when not yet
# known, is waited for this long at most (UTC meanwhile).
ZONE_BUDGET = 1.0


async def team_of_channel(ctx: Ctx, channel_id: str) -> Team:
    """The channel's team as it stands (setup, else the file, else the channel's own name)."""
    return await setup_service.team_of_channel(ctx.rt, ctx.client, ctx.workspace_id, channel_id)


async def may_set_up(ctx: Ctx, team: Team) -> bool:
    assert ctx.user_id is not None
    if ctx.user_id in team.managers or ctx.user_id in ctx.rt.config.admins_for(ctx.workspace_id):
        return True
    return await is_slack_admin(ctx)


async def may_change_digest(ctx: Ctx, schedule: Schedule) -> bool:
    """The workspace's digest: its managers and workspace admins only."""
    return ctx.user_id in schedule.managers or await is_admin(ctx)


async def _modal(
    ctx: Ctx, team: Team | None, origin: str | None, warning: str | None = None
) -> dict[str, Any]:
    schedule = await schedule_for(ctx.rt, ctx.workspace_id, ZONE_BUDGET)
    manages = team is not None and ctx.user_id in team.managers
    return setup_modal(
        ctx.rt.config,
        team,
        schedule,
        origin_channel=origin,
        warning=warning,
        digest_editable=await may_change_digest(ctx, schedule),
        digest_who_can=rules.who_can_change_digest(schedule.managers),
        own_digest=(schedule.manager_channel(ctx.user_id or ""),) if manages else None,
    )


async def run_setup(ctx: Ctx, args: str) -> None:
    team = await ctx.team()
    if not await may_set_up(ctx, team):
        raise PermissionDenied(rules.who_can(team))
    view = await _modal(ctx, team, ctx.channel_id)
    await ctx.client.views_open(trigger_id=ctx.trigger_id, view=view)


async def open_from_home(ctx: Ctx, action: dict[str, Any]) -> None:
    """The modal with no channel picked yet, for admins and teams' managers; anyone else is told who can
    on their Home tab."""
    teams = await workspace_teams(ctx.rt, ctx.workspace_id)
    if not ctx.user_id or not await may_set_up_a_team(
        ctx.rt, ctx.client, ctx.workspace_id, ctx.user_id, teams
    ):
        await publish(ctx, f":no_entry: {rules.who_can_set_up_any()}")
        return
    await ctx.client.views_open(trigger_id=ctx.trigger_id, view=await _modal(ctx, None, None))


async def on_channel_picked(ctx: Ctx, action: dict[str, Any]) -> None:
    """Another channel picked in the modal: show that team's values (and whether this person may save)."""
    view = ctx.body.get("view") or {}
    channel = action.get("selected_conversation")
    if not channel or not view.get("id"):
        return
    team = await team_of_channel(ctx, channel)
    warning = None if await may_set_up(ctx, team) else rules.who_can(team)
    new = await _modal(ctx, team, origin_of(view), warning)
    await ctx.client.views_update(view_id=view["id"], hash=view.get("hash"), view=new)


async def submit(ctx: Ctx, view: dict[str, Any]) -> dict[str, Any] | None:
    """Validate and store before the ack, so errors show under the inputs of the modal. The digest's
    fields are stored only when they differ from what the modal showed, and only for those who may."""
    values = (view.get("state") or {}).get("values") or {}
    meta = metadata_of(view)
    schedule = await schedule_for(ctx.rt, ctx.workspace_id, ZONE_BUDGET)
    try:
        team_setup, digest_setup = rules.parse(
            values,
            ctx.rt.config,
            meta.origin,
            with_digest=meta.digest_shown is not None,
            default_zone=schedule.timezone,
        )
    except rules.SetupErrors as exc:
        raise ViewErrors(exc.errors) from None
    team = await team_of_channel(ctx, team_setup.channel)
    if not await may_set_up(ctx, team):
        raise FieldError(rules.B_CHANNEL, rules.who_can(team))
    digest_changed = digest_setup is not None and rules.fingerprint(digest_setup.shown()) != meta.digest_shown
    if digest_setup is not None and digest_changed:
        if not await may_change_digest(ctx, schedule):
            raise FieldError(rules.B_DIGEST_CHANNEL, rules.who_can_change_digest(schedule.managers))
        if digest_setup.channel:
            await _check_digest_channel(ctx, digest_setup.channel)
    assert ctx.user_id is not None
    asked, own_channel = rules.own_digest_channel(values)
    if own_channel:
        await _check_digest_channel(ctx, own_channel, rules.B_OWN_DIGEST)
    now = ctx.now
    await setup_service.save(
        ctx.rt,
        ctx.workspace_id,
        team_setup,
        digest_setup if digest_changed else None,
        ctx.user_id,
        now,
        own_digest=(own_channel,) if asked and own_channel != schedule.manager_channel(ctx.user_id) else None,
    )
    return None


async def _check_digest_channel(ctx: Ctx, channel: str, block: str = rules.B_DIGEST_CHANNEL) -> None:
    try:
        info = (await ctx.client.conversations_info(channel=channel))["channel"]
    except SlackApiError:
        raise FieldError(block, "I can't see that channel; pick another.") from None
    if not info.get("is_member"):
        raise FieldError(
            block,
            f"I'm not in #{info.get('name') or channel}: `/invite @scalebot` there, then save again.",
        )


def confirmation(
    team: Team, schedule: Schedule, file_name: str | None, next_run: Any
) -> tuple[str, list[bk.Block]]:
    where = bk.channel_link(team.channel_id)
    people = []
    if team.leads:
        people.append("leads " + ", ".join(bk.mention(u) for u in team.leads))
    if team.managers:
        people.append("managers " + ", ".join(bk.mention(u) for u in team.managers))
    metrics = "no metrics source"
    if team.metrics is not None:
        signals = ", ".join(team.metrics.signals) or "the default set"
        service = f", service `{bk.escape(team.metrics.service)}`" if team.metrics.service else ""
        metrics = f"metrics from {bk.escape(team.metrics.source)}{service}, signals: {signals}"
    lines = [
        f":white_check_mark: Saved: {where} is team *{bk.escape(team.name)}* "
        f"({'; '.join([*people, metrics])})."
    ]
    if file_name is not None:
        lines.append(
            f"The config file also declares {where} (as {quoted(bk.escape(file_name))}): what you saved here wins "
            "over the file for this channel."
        )
    if schedule.channel and next_run is not None:
        lines.append(
            f"Weekly digest: {schedule.describe()} in {bk.channel_link(schedule.channel)}; "
            f"the next one is {bk.date(next_run, '{date_long_pretty} at {time}')}."
        )
    else:
        lines.append("Weekly digest: no channel picked, so none is sent yet.")
    if schedule.from_setup and schedule.in_file:
        lines.append(
            "The config file sets a digest schedule for this workspace too: the one saved here wins."
        )
    text = " ".join(lines)
    return text, [bk.section("\n".join(lines))]


async def after_submit(ctx: Ctx) -> None:
    view = ctx.body.get("view") or {}
    values = (view.get("state") or {}).get("values") or {}
    team_setup, _ = rules.parse(values, ctx.rt.config, origin_of(view), with_digest=False)
    await reschedule(ctx.rt, ctx.workspace_id)
    team = await team_of_channel(ctx, team_setup.channel)
    schedule = await schedule_for(ctx.rt, ctx.workspace_id)
    entry = ctx.rt.config.team_for(ctx.workspace_id, team.channel_id)
    text, blocks = confirmation(team, schedule, entry.name if entry else None, schedule.next_run(ctx.now))
    origin = origin_of(view)
    if origin and ctx.user_id:
        try:
            await ctx.client.chat_postEphemeral(channel=origin, user=ctx.user_id, **bk.message(text, blocks))
            return
        except SlackApiError:
            log.info("could not answer in the channel; sending a DM instead")
    if ctx.user_id:
        await ctx.dm(ctx.user_id, text, blocks)


def register(listeners: Listeners) -> None:
    listeners.router.add(
        Subcommand(
            name="setup",
            summary="set up this channel's team, its data source and people, and the weekly digest (admins and managers)",
            usage="",
            example="/scale-check setup",
            run=run_setup,
            check=lambda args: None if not args.strip() else "`setup` takes no arguments.",
            order=70,
        )
    )
    listeners.view(CALLBACK_ID, submit, after_submit)
    listeners.action(CHANNEL_PICKED, on_channel_picked)
    listeners.action(ACTION_SETUP, open_from_home)
