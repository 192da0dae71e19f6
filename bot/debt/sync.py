"""Importing a team's active sprint from its tracker: record the figure, or mark the last one stale.

Used by the daily job and by `/scale-check debt sync`. One import per team at a time (a lock), and
recording is idempotent (an unchanged figure records nothing), so a retry never duplicates a write.

When the tracker asks us to wait past what an import waits (a rate limit), the figure is marked stale
with the time the tracker may be asked again, nothing is sent to it before then (a sync or the daily
job in between answers from the note, kept in the shared cache), and a one-off import is scheduled
just after the reset instead of waiting for the next daily run.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.date import DateTrigger

from bot.debt import importers, nudges, service
from bot.debt.importers import ImportedSprint, ImportFailed, Tally
from bot.debt.importers.base import ImportRateLimited
from bot.debt.model import TeamDebt
from bot.errors import UserError, new_error_id
from bot.runtime import Runtime
from bot.slack_api import InstrumentedWebClient
from bot.teams import Team
from storage import debt as repo
from storage import debt_status as status_repo

log = logging.getLogger(__name__)

LOCK_SECONDS = 300.0
RETRY_KIND = "debt.import"  # the one-off import after a rate limit is an ordinary import job
NOT_CONFIGURED = (
    "This team has no tracker import configured. The operator sets one up under the team's `debt.import` "
    "in the config file (docs/debt.md, “Importing from Jira, Linear or GitHub”); until then, record sprints with `/scale-check debt 12 of 50`."
)


@dataclass(frozen=True)
class SyncResult:
    ok: bool
    busy: bool = False
    reason: str | None = None
    sprint: str | None = None
    recorded: bool = False  # False after a successful import whose figure had not changed
    tally: Tally | None = None
    debt: TeamDebt | None = None
    next_try: datetime | None = None  # a rate limit: when the tracker may be asked again (bot clock)


async def sync(rt: Runtime, team: Team, client: InstrumentedWebClient | None = None) -> SyncResult:
    """Import the team's active sprint now; raises `UserError` when the team has no import configured."""
    spec = team.debt.import_
    if spec is None:
        raise UserError(NOT_CONFIGURED)
    waiting = await _waiting(rt, team)
    if waiting is not None:  # the tracker asked us to wait: nothing is sent before its reset
        until, reason = waiting
        return SyncResult(ok=False, reason=reason, next_try=until, debt=await service.team_debt(rt, team))
    key = f"debt-import:{team.workspace_id}:{team.channel_id}"
    owner = f"{rt.owner}:{uuid.uuid4().hex[:8]}"
    if not await rt.cache.acquire(key, owner, LOCK_SECONDS):
        return SyncResult(ok=False, busy=True)
    try:
        result = await _sync(rt, team)
    finally:
        await rt.cache.release(key, owner)
    # After a failed import too: the figures are the last good ones, but a planned sprint may have
    # become current since the last write.
    if result.debt is not None:
        try:
            await nudges.after_write(rt, client or await rt.client_for(team.workspace_id), team, result.debt)
        except Exception:
            log.warning("could not post the tech-debt nudge after an import", exc_info=True)
    return result


async def _sync(rt: Runtime, team: Team) -> SyncResult:
    spec = team.debt.import_
    assert spec is not None
    tracker = rt.config.trackers[spec.tracker]
    day = service.today(rt, team)
    try:
        sprint: ImportedSprint = await importers.fetch(tracker, spec, rt.config.secret, day)
        counted = importers.tally(sprint.issues, spec.unestimated, team.debt.unit)
        if counted.capacity <= 0:
            raise ImportFailed(f"the active sprint {sprint.name!r} has no estimated work yet")
    except ImportRateLimited as exc:
        until = rt.clock.now() + timedelta(seconds=exc.wait)
        await _wait_for_reset(rt, team, until, exc.reason)
        failed = await _failed(rt, team, exc.reason)
        return SyncResult(False, reason=failed.reason, debt=failed.debt, next_try=until)
    except ImportFailed as exc:
        return await _failed(rt, team, exc.reason)
    except Exception as exc:  # a tracker answer nobody foresaw must not lose the last good figure
        error_id = new_error_id()
        log.error(
            "tracker import failed", extra={"error_id": error_id, "tracker": spec.tracker}, exc_info=exc
        )
        return await _failed(rt, team, f"unexpected error (error id {error_id})")
    write = repo.SprintWrite(
        sprint=sprint.name,
        capacity=counted.capacity,
        debt=counted.debt,
        unit=team.debt.unit,
        source=tracker.kind,
        author=spec.tracker,
        now=rt.clock.now(),
        starts=sprint.starts,
        ends=sprint.ends,
        issues=counted.issues,
        unestimated=counted.unestimated,
        unestimated_rule=counted.rule,
    )
    outcome = await rt.db.run(repo.record_write, team.workspace_id, team.channel_id, write)
    await rt.db.run(
        status_repo.import_succeeded,
        team.workspace_id,
        team.channel_id,
        spec.tracker,
        tracker.kind,
        rt.clock.now(),
        sprint.name,
        counted.issues,
        counted.unestimated,
        counted.rule,
    )
    log.info(
        "tracker import done",
        extra={"tracker": spec.tracker, "sprint": sprint.name, "recorded": outcome.entry_id is not None},
    )
    debt = await service.team_debt(rt, team)
    return SyncResult(
        True, sprint=sprint.name, recorded=outcome.entry_id is not None, tally=counted, debt=debt
    )


async def _failed(rt: Runtime, team: Team, reason: str) -> SyncResult:
    spec = team.debt.import_
    assert spec is not None
    kind = rt.config.trackers[spec.tracker].kind
    await rt.db.run(
        status_repo.import_failed,
        team.workspace_id,
        team.channel_id,
        spec.tracker,
        kind,
        rt.clock.now(),
        reason,
    )
    log.warning(
        "tracker import failed; the last figure stays, marked stale",
        extra={"tracker": spec.tracker, "reason": reason},
    )
    return SyncResult(False, reason=reason, debt=await service.team_debt(rt, team))


def _wait_key(team: Team) -> str:
    return f"debt-import-wait:{team.workspace_id}:{team.channel_id}"


async def _waiting(rt: Runtime, team: Team) -> tuple[datetime, str] | None:
    """When the team's tracker may be asked again and why, while a rate limit lasts."""
    try:
        raw = await rt.cache.get(_wait_key(team))
    except Exception:
        return None
    if raw is None:
        return None
    stamp, _, reason = raw.decode().partition("|")
    until = datetime.fromisoformat(stamp)
    return (until, reason) if rt.clock.now() < until else None


async def _wait_for_reset(rt: Runtime, team: Team, until: datetime, reason: str) -> None:
    """Remember the reset (shared by replicas) and schedule the import just after it."""
    wait = max(0.0, (until - rt.clock.now()).total_seconds())
    try:
        await rt.cache.set(_wait_key(team), f"{until.isoformat()}|{reason}".encode(), wait + 3600)
    except Exception:
        log.warning("could not remember a tracker's rate limit", exc_info=True)
    scheduler = rt.scheduler
    if scheduler is None:
        return
    when = until + timedelta(seconds=1)

    def plan() -> str:
        return scheduler.schedule(
            RETRY_KIND,
            f"{team.channel_id}@after-rate-limit",
            DateTrigger(when),
            workspace_id=team.workspace_id,
            channel_id=team.channel_id,
        )

    try:
        job = await asyncio.get_running_loop().run_in_executor(None, plan)
        log.info(
            "tech-debt import rescheduled after the rate limit", extra={"job": job, "at": when.isoformat()}
        )
    except Exception:
        log.warning("could not schedule the import after a rate limit", exc_info=True)
