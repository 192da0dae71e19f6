"""Nudges: one channel message per run of out-of-band sprints, and what its two buttons record.

A nudge keeps the sprints of its run with the direction each was out of band in; a run holding one of
them (in that direction) is the same run, so a third sprint still out of band does not nudge again, nor
does a sprint corrected or back-filled out of band just before the run, and a new run (back in band,
then out again) does. The claim is a unique row per sprint and direction, so two replicas evaluating the
same write post one message.

Nudges are looked for after every write and import, and on the first day of each planned sprint (a
scheduler job per day, `debt.nudge_check`), since a sprint recorded in advance becomes current by date.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time

from apscheduler.triggers.date import DateTrigger

from bot.debt import band, render, service
from bot.debt.model import Nudge, TeamDebt
from bot.errors import UserError
from bot.runtime import Runtime
from bot.slack_api import InstrumentedWebClient
from bot.teams import Team
from storage import debt_status as status_repo

log = logging.getLogger(__name__)

CHECK_KIND = "debt.nudge_check"
# When, on a planned sprint's first day in the team's time zone, its nudge is looked for.
CHECK_AT = time(9, 0)


async def after_write(rt: Runtime, client: InstrumentedWebClient, team: Team, debt: TeamDebt) -> Nudge | None:
    """After a write, an import or a scheduled check: plan the checks of the planned sprints' first
    days, and post the nudge if one is due now."""
    try:
        await plan_checks(rt, team, debt)
    except Exception:
        log.warning(
            "could not schedule the tech-debt nudge checks",
            extra={"workspace": team.workspace_id, "channel": team.channel_id},
            exc_info=True,
        )
    return await evaluate(rt, client, team, debt)


async def evaluate(rt: Runtime, client: InstrumentedWebClient, team: Team, debt: TeamDebt) -> Nudge | None:
    """Post the nudge when the current run of out-of-band sprints is long enough and has none yet."""
    alloc = debt.allocation
    if alloc is None or not band.nudge_due(alloc.run, team.debt.nudge_after, debt.nudged):
        return None
    run = alloc.run
    marks = band.nudge_marks(run)
    row = await rt.db.run(
        status_repo.claim_nudge,
        team.workspace_id,
        team.channel_id,
        marks,
        render.run_summary(run),
        render.run_direction(run),
        rt.clock.now(),
    )
    if row is None:
        return None
    nudge = service.nudge_of(row, marks)
    try:
        response = await client.chat_postMessage(
            channel=team.channel_id, **render.nudge_message(team.name, nudge)
        )
    except Exception:
        await rt.db.run(status_repo.drop_nudge, team.workspace_id, nudge.id)  # the next write tries again
        raise
    await rt.db.run(status_repo.set_nudge_message, team.workspace_id, nudge.id, str(response["ts"]))
    log.info("tech-debt nudge posted", extra={"workspace": team.workspace_id, "channel": team.channel_id})
    return nudge


def check_key(channel_id: str, day: str) -> str:
    return f"{channel_id}@{day}"


async def plan_checks(rt: Runtime, team: Team, debt: TeamDebt) -> list[str]:
    """One `debt.nudge_check` job per day a planned sprint of the team starts, at `CHECK_AT` in the team's
    time zone; jobs for days no sprint starts on any more are removed. Returns the job ids wanted."""
    scheduler = rt.scheduler
    if scheduler is None:
        return []
    zone = service.zone(rt.config, team)
    days = band.planned_starts((r.figures() for r in debt.sprints), debt.today)
    wanted = {
        check_key(team.channel_id, day.isoformat()): datetime.combine(day, CHECK_AT, tzinfo=zone)
        for day in days
    }
    prefix = f"{CHECK_KIND}/{team.workspace_id}/"

    def sync() -> list[str]:
        # Only this channel's checks (their keys start with the channel id), read by id prefix.
        existing = {
            info.id[len(prefix) :]: info for info in scheduler.jobs(prefix + check_key(team.channel_id, ""))
        }
        for key in existing.keys() - wanted.keys():
            scheduler.unschedule(prefix + key)
        for key, when in wanted.items():
            current = existing.get(key)
            if current is None or current.next_run != when:
                scheduler.schedule(
                    CHECK_KIND,
                    key,
                    DateTrigger(when),
                    workspace_id=team.workspace_id,
                    channel_id=team.channel_id,
                )
        return sorted(prefix + key for key in wanted)

    return await asyncio.get_running_loop().run_in_executor(None, sync)


async def _mine(rt: Runtime, team: Team, nudge_id: int) -> None:
    row = await rt.db.run(status_repo.get_nudge, team.workspace_id, nudge_id)
    if row is None or row.channel_id != team.channel_id:
        raise UserError("That nudge is not this channel's any more.")


async def _refresh(client: InstrumentedWebClient, team: Team, nudge: Nudge, clicked_ts: str | None) -> None:
    """Update the nudge in place (by the ts stored, else the one clicked: a click can beat storing it)."""
    ts = nudge.message_ts or clicked_ts
    if ts:
        await client.chat_update(channel=nudge.channel_id, ts=ts, **render.nudge_message(team.name, nudge))


async def acknowledge(
    rt: Runtime,
    client: InstrumentedWebClient,
    team: Team,
    nudge_id: int,
    user_id: str,
    clicked_ts: str | None = None,
) -> tuple[Nudge, bool]:
    """Record who acknowledged; a second click changes nothing. (nudge, changed)."""
    await _mine(rt, team, nudge_id)
    row, changed = await rt.db.run(
        status_repo.acknowledge, team.workspace_id, nudge_id, user_id, rt.clock.now()
    )
    assert row is not None
    nudge = service.nudge_of(row)
    if changed:
        await _refresh(client, team, nudge, clicked_ts)
    return nudge, changed


async def plan_fixit(
    rt: Runtime,
    client: InstrumentedWebClient,
    team: Team,
    nudge_id: int,
    user_id: str,
    clicked_ts: str | None = None,
) -> tuple[Nudge, bool]:
    """Record a Fix-It sprint for the dates of the sprint after the current one, and tell the managers."""
    await _mine(rt, team, nudge_id)
    debt = await service.team_debt(rt, team)
    current = debt.allocation.current if debt.allocation else None
    dates = band.next_sprint_dates(current) if current else None
    row, changed = await rt.db.run(
        status_repo.plan_fixit,
        team.workspace_id,
        nudge_id,
        user_id,
        rt.clock.now(),
        dates[0] if dates else None,
        dates[1] if dates else None,
        current.name if current else "",
    )
    assert row is not None
    nudge = service.nudge_of(row)
    if changed:
        await _refresh(client, team, nudge, clicked_ts)
        for manager in team.managers:
            opened = await client.conversations_open(users=manager)
            await client.chat_postMessage(
                channel=opened["channel"]["id"], **render.fixit_dm(team.name, team.channel_id, nudge)
            )
    return nudge, changed
