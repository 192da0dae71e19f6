"""`/scale-check digest preview | now`: this week's digest shown only to you, or posted now.

`now` is for the workspace's managers (the digest's and every team's) and admins; it counts as the
week's digest, so the scheduled run of the same week edits it in place instead of posting another.
"""

from __future__ import annotations

from bot import blocks as bk
from bot.digest import service
from bot.digest.jobs import ensure_workspace
from bot.digest.model import Week
from bot.digest.roster import workspace_teams
from bot.digest.service import schedule_for, send_week
from bot.errors import PermissionDenied
from handlers.base import Ctx, Listeners, is_admin
from handlers.router import Subcommand

WORDS = ("preview", "now")


def check_args(args: str) -> str | None:
    word = args.strip().lower()
    if word in ("", *WORDS):
        return None
    return "Say `preview` to see this week's digest yourself, or `now` to post it (managers and admins)."


async def preview(ctx: Ctx) -> None:
    payload = await service.preview(ctx.rt, ctx.client, ctx.workspace_id, ctx.now)
    await ctx.ephemeral(payload["text"], payload["blocks"])
    await ensure_workspace(ctx.rt, ctx.workspace_id)


async def send_now(ctx: Ctx) -> None:
    rt = ctx.rt
    schedule = await schedule_for(rt, ctx.workspace_id)
    teams = await workspace_teams(rt, ctx.workspace_id)
    managers = {*schedule.managers, *(m for t in teams for m in t.managers)}
    if ctx.user_id not in managers and not await is_admin(ctx):
        named = ", ".join(bk.mention(m) for m in sorted(managers)) or "none named yet"
        raise PermissionDenied(
            f"Only the workspace's managers ({named}) and admins can post the digest now. "
            "`/scale-check digest preview` shows it to you without posting."
        )
    now = ctx.now
    week = Week.of(now, schedule.timezone)
    outcome = await send_week(
        rt, ctx.workspace_id, week, now, reason="now", requested_by=ctx.user_id, schedule=schedule
    )
    link = (await ctx.client.chat_getPermalink(channel=outcome.channel, message_ts=outcome.parent_ts)).get(
        "permalink"
    )
    where = f"in {bk.channel_link(outcome.channel)}" + (f" ({bk.link(str(link), 'open it')})" if link else "")
    done = "Posted" if outcome.new_parent else "Updated in place"
    scheduled = schedule.next_run(now)
    later = ""
    if scheduled is not None and Week.of(scheduled, schedule.timezone) == week:
        later = (
            f" It counts as this week's digest: the scheduled run ({bk.date(scheduled)}) "
            "will update it in place rather than post another."
        )
    text = f"{done} this week's digest {where}.{later}"
    await ctx.ephemeral(text, [bk.section(text)])
    await ensure_workspace(rt, ctx.workspace_id)


async def run_digest(ctx: Ctx, args: str) -> None:
    word = args.strip().lower() or "preview"
    if word == "now":
        await send_now(ctx)
    else:
        await preview(ctx)


def register(listeners: Listeners) -> None:
    listeners.router.add(
        Subcommand(
            name="digest",
            summary="this week's cross-team digest: `preview` shows it to you, `now` posts it (managers and admins)",
            usage="[preview | now]",
            example="/scale-check digest preview",
            run=run_digest,
            check=check_args,
            order=60,
        )
    )
