"""The digest through the runtime: a workspace's schedule, building a week's digest, sending it once.

`send_week` is what the scheduled job, `/scale-check digest now` and the bench call; it holds a lock per
workspace and week (Redis when configured) so two senders never interleave, and it is idempotent: the
same week again edits the parent and team messages in place and posts only what is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.digest import charts, render
from bot.digest.assemble import Digest, assemble
from bot.digest.model import SectionKind, Week
from bot.digest.post import Outcome, Poster
from bot.digest.post_canvas import canvas_url
from bot.digest.roster import workspace_teams
from bot.digest.schedule import Schedule, effective, zone_is_set
from bot.digest.sections import Provider, collect, default_providers
from bot.digest.zone import workspace_timezone
from bot.errors import UserError
from bot.slack_api import InstrumentedWebClient
from storage import digest as repo
from storage import digest_canvas, installations

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
RENEW_EVERY = 15.0  # seconds


class DigestBusy(UserError):
    """Another sender is posting this week's digest right now."""


class NoDigestChannel(UserError):
    """The workspace has no digest channel yet."""


async def schedule_for(rt: Runtime, workspace_id: str, zone_budget: float | None = None) -> Schedule:
    """The schedule in force: what setup stored, else the config file; in the workspace's own time zone
    when neither names one (`zone_budget`: see `workspace_timezone`)."""
    row = await rt.db.run(repo.get_schedule, workspace_id)
    stored = row.as_dict() if row else None
    ws = rt.config.workspaces.get(workspace_id)
    file = rt.config.digest_for(workspace_id)
    own_zone = None if zone_is_set(file, stored) else await workspace_timezone(rt, workspace_id, zone_budget)
    own_channels = await rt.db.run(digest_canvas.manager_channels, workspace_id)
    return effective(
        file,
        stored,
        file_sets_workspace=bool(ws and ws.digest and ws.digest.channel),
        workspace_zone=own_zone,
        own_channels=own_channels,
    )


async def build(
    rt: Runtime,
    workspace_id: str,
    week: Week,
    as_of: datetime,
    *,
    providers: Mapping[SectionKind, Provider] | None = None,
    concurrency: int | None = None,
) -> Digest:
    """Every team's sections for the week, with the agenda and dependencies worked out."""
    teams = await workspace_teams(rt, workspace_id)
    options = {"concurrency": concurrency} if concurrency else {}
    collected = await collect(rt, teams, week, as_of, providers=providers, **options)
    row = await rt.db.run(installations.find_installation, workspace_id)
    name = row.workspace_name if row else None
    # the agenda and dependencies of a thousand teams take tens of milliseconds: off the event loop
    return await asyncio.to_thread(assemble, workspace_id, week, as_of, collected, name)


async def preview(
    rt: Runtime, client: InstrumentedWebClient, workspace_id: str, now: datetime
) -> dict[str, Any]:
    """This week's digest as `/scale-check digest preview` shows it: the parent as it would be posted
    (capped lists, the canvas's link when it exists) and the teams the thread would hold."""
    schedule = await schedule_for(rt, workspace_id)
    digest = await build(rt, workspace_id, Week.of(now, schedule.timezone), now)
    row = await rt.db.run(digest_canvas.get_canvas, workspace_id)
    url = await canvas_url(client, workspace_id, row.canvas_id) if row and row.canvas_id else None
    return render.preview_message(
        digest,
        schedule.channel,
        agenda_cap=schedule.agenda_cap,
        reply_cap=schedule.reply_cap,
        canvas_url=url,
    )


@contextlib.asynccontextmanager
async def holding_week(
    rt: Runtime,
    workspace_id: str,
    week: Week,
    channel: str,
    *,
    reason: str,
    requested_by: str | None,
    scheduled_for: datetime | None,
) -> AsyncIterator[repo.DigestRunRow]:
    """Take the workspace's week for this sender (a lease on the run's row, on the runtime's clock,
    renewed while it works) so that no other sender interleaves; a sender that died loses it when the
    lease runs out."""
    owner = f"{rt.owner}:{uuid.uuid4().hex[:8]}"
    run = await rt.db.run(
        repo.claim_run,
        workspace_id,
        week.key,
        channel,
        reason,
        requested_by,
        scheduled_for,
        owner,
        rt.clock.now(),
        LEASE,
    )
    if run is None:
        raise DigestBusy(
            "This week's digest is being posted right now; it will be in the channel in a moment."
        )

    async def renew() -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            await rt.db.run(repo.renew_run, workspace_id, week.key, owner, rt.clock.now() + LEASE)

    renewing = asyncio.create_task(renew())
    try:
        yield run
    finally:
        renewing.cancel()
        await rt.db.run(repo.release_run, workspace_id, week.key, owner)


async def send_week(
    rt: Runtime,
    workspace_id: str,
    week: Week,
    as_of: datetime,
    *,
    reason: str = "schedule",
    requested_by: str | None = None,
    scheduled_for: datetime | None = None,
    schedule: Schedule | None = None,
    providers: Mapping[SectionKind, Provider] | None = None,
    concurrency: int | None = None,
) -> Outcome:
    """Build and post (or edit in place) the workspace's digest for `week`."""
    schedule = schedule or await schedule_for(rt, workspace_id)
    if not schedule.channel:
        raise NoDigestChannel(
            "There is no digest channel yet: a workspace admin or a team's manager picks one with "
            "`/scale-check setup` (or the operator sets `digest.channel` in the config file)."
        )
    held = holding_week(
        rt,
        workspace_id,
        week,
        schedule.channel,
        reason=reason,
        requested_by=requested_by,
        scheduled_for=scheduled_for,
    )
    async with held as run:
        digest = await build(rt, workspace_id, week, as_of, providers=providers, concurrency=concurrency)
        rendered = await charts.render_charts(digest.teams)
        client = await rt.client_for(workspace_id)
        previous = await rt.db.run(digest_canvas.previous_state, workspace_id, week.key)
        poster = Poster(rt, client, digest, run.channel_id or schedule.channel, schedule, rendered, previous)
        outcome = await poster.post(run)
    log.info(
        "digest sent",
        extra={
            "workspace": workspace_id,
            "week": week.key,
            "reason": reason,
            "teams": len(digest.teams),
            "posted": outcome.posted,
            "updated": outcome.updated,
            "new_parent": outcome.new_parent,
            "managers": outcome.managers,
            "canvas_edited": outcome.canvas.edited,
        },
    )
    return outcome


# Every capability's provider is imported now, as the app starts, not by the first digest: that import
# (the storage models and services behind them, some 150 ms) would run on the event loop mid-digest.
default_providers()
