"""Scheduled jobs: fire times from APScheduler's triggers, a job table in the database, and a claim per run.

Jobs live in `scheduled_jobs` (storage/scheduled_jobs.py): a trigger (an APScheduler 3 trigger, pickled),
the job's kind and arguments, and its next fire time. `Scheduler.start()` runs one small loop in a thread:
it reads the jobs that are due, works out each one's latest fire time with the trigger's public
`get_next_fire_time` (several missed fire times coalesce into the latest), hands that run to the event loop
and moves the job to its following fire time (compare-and-set, so a reschedule written meanwhile wins).

Every run is claimed first — a row keyed by (job, scheduled time) plus a Redis lock when configured — so
however many schedulers share the database, a scheduled time runs once. A run missed while every
scheduler was down runs once when one returns within the job's grace time; a run whose scheduler died
mid-way is taken over by another when its lease runs out (jobs are written to be idempotent). A run that
comes due while the job's previous run is still going in this process waits for it, then runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import pickle
import threading
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from bot.errors import new_error_id
from bot.jobkinds import JOB_KINDS, JobFunc, JobKind, job_kind, load_job_kinds
from storage import installations
from storage import jobs as claims
from storage import scheduled_jobs as store

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

__all__ = [
    "JOB_KINDS",
    "JobFunc",
    "JobInfo",
    "JobKind",
    "Scheduler",
    "fire_times",
    "job_kind",
    "load_job_kinds",
]


@dataclass
class JobInfo:
    id: str
    kind: str
    workspace_id: str | None
    next_run: datetime | None
    trigger: str
    kwargs: dict[str, Any]


def fire_times(trigger: BaseTrigger, first: datetime, now: datetime) -> tuple[datetime, datetime | None]:
    """The latest fire time due by `now`, counting on from `first` (itself due), and the one after it.

    Fire times missed together coalesce into the latest: a job runs once when its scheduler returns."""
    latest = first
    while True:
        following = trigger.get_next_fire_time(latest, now)
        if following is None or following > now:
            return latest, following
        latest = following


def _zone(value: datetime) -> str:
    return getattr(value.tzinfo, "key", None) or "UTC"


def _next_run(row: store.ScheduledJobRow) -> datetime:
    """The job's next fire time in its trigger's zone (as the trigger itself gives it)."""
    return datetime.fromtimestamp(row.next_run_time, UTC).astimezone(ZoneInfo(row.zone))


def _info(row: store.ScheduledJobRow) -> JobInfo:
    return JobInfo(
        id=row.id,
        kind=row.kind,
        workspace_id=row.workspace_id,
        next_run=_next_run(row),
        trigger=row.description,
        kwargs=json.loads(row.kwargs),
    )


class Scheduler:
    """The bot's scheduler. Without `start()` it still writes jobs to the table (web replicas)."""

    def __init__(
        self,
        rt: Runtime,
        loop: asyncio.AbstractEventLoop,
        *,
        lease: timedelta = timedelta(seconds=60),
        max_wait: float = 10.0,
        sweep_every: float = 15.0,
        max_attempts: int = 3,
        retry_after: timedelta = timedelta(minutes=5),
    ) -> None:
        load_job_kinds()
        self.rt, self.loop = rt, loop
        self.lease, self.max_wait, self.sweep_every = lease, max_wait, sweep_every
        self.max_attempts, self.retry_after = max_attempts, retry_after
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        # The runs this process has handed to the event loop and not seen finish, by job id.
        self._busy: dict[str, concurrent.futures.Future[str]] = {}
        self._busy_lock = threading.Lock()

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def start(self) -> None:
        """Start the loop and the sweep (call it off the event loop: it touches the database)."""
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._loop, name="scheduler", daemon=True),
            threading.Thread(target=self._sweep_loop, name="job-sweeper", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self.ensure_recurring()
        log.info("scheduler started", extra={"owner": self.rt.owner})

    def ensure_recurring(self) -> None:
        """Let each capability create the recurring jobs its config asks for (daily imports…): an
        `ensure_jobs(scheduler)` function in its `bot/<capability>/jobs.py`."""
        for module in load_job_kinds():
            ensure = getattr(module, "ensure_jobs", None)
            if ensure is None:
                continue
            try:
                ensure(self)
            except Exception:
                log.error("could not set up recurring jobs", extra={"module": module.__name__}, exc_info=True)

    def shutdown(self) -> None:
        """Stop looking for due jobs and wait for the runs under way (off the event loop, which runs them)."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        with self._busy_lock:
            under_way = list(self._busy.values())
        concurrent.futures.wait(under_way, timeout=self.lease.total_seconds())

    def wakeup(self) -> None:
        """Look at the jobs now (after the clock moved or a job was written)."""
        self._wake.set()

    # --- the loop --------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                wait = self.tick()
            except Exception:
                log.warning("cannot read due jobs", exc_info=True)
                wait = self.max_wait
            self._wake.wait(wait)

    def tick(self) -> float:
        """Hand out every due run; returns how long to sleep before looking again (at most `max_wait`)."""
        now = self.rt.clock.now()
        waiting: set[str] = set()
        for row in self.rt.db.call(store.due, now.timestamp()):
            with self._busy_lock:
                busy = row.id in self._busy
            if busy:
                # Its previous run is still finishing here: leave this one due (nothing has claimed it yet);
                # that run's end wakes the loop.
                waiting.add(row.id)
                continue
            try:
                trigger: BaseTrigger = pickle.loads(row.trigger)  # noqa: S301 (rows this module wrote)
            except Exception:
                log.error("a stored job's trigger cannot be read", extra={"job": row.id}, exc_info=True)
                waiting.add(row.id)
                continue
            run_time, following = fire_times(trigger, _next_run(row), now)
            self._submit(row, run_time)
            # Whether or not this write wins (another scheduler may have advanced the job, or a web process
            # rescheduled it), the run is handed out: its claim decides who runs it.
            self.rt.db.call(store.advance, row, following.timestamp() if following else None)
        upcoming = self.rt.db.call(store.next_run_time, waiting)
        if upcoming is None:
            return self.max_wait
        return min(max(upcoming - self.rt.clock.now().timestamp(), 0.0), self.max_wait)

    def _submit(self, row: store.ScheduledJobRow, run_time: datetime) -> None:
        kwargs = dict(json.loads(row.kwargs), workspace_id=row.workspace_id)
        with self._busy_lock:
            future = asyncio.run_coroutine_threadsafe(
                self.run_claimed(row.id, row.kind, kwargs, run_time), self.loop
            )
            self._busy[row.id] = future
        future.add_done_callback(lambda done: self._finished(row.id, done))

    def _finished(self, job_id: str, future: concurrent.futures.Future[str]) -> None:
        with self._busy_lock:
            self._busy.pop(job_id, None)
        if not future.cancelled() and future.exception() is not None:
            log.error(
                "a scheduled run could not be handled", extra={"job": job_id}, exc_info=future.exception()
            )
        self._wake.set()  # a run of this job may be waiting for this one to finish

    # --- jobs ------------------------------------------------------------------------------------

    def schedule(
        self,
        kind: str,
        key: str,
        trigger: BaseTrigger,
        *,
        workspace_id: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Create or replace the job `kind/workspace/key` (arguments must be JSON); returns its id.

        A trigger with no fire time left removes the job."""
        if kind not in JOB_KINDS:
            raise KeyError(f"unknown job kind {kind!r}")
        job_id = f"{kind}/{workspace_id or '-'}/{key}"
        next_run = trigger.get_next_fire_time(None, self.rt.clock.now())
        if next_run is None:
            self.unschedule(job_id)
            return job_id
        row = store.ScheduledJobRow(
            id=job_id,
            kind=kind,
            workspace_id=workspace_id,
            kwargs=json.dumps(kwargs),
            trigger=pickle.dumps(trigger),
            description=str(trigger),
            zone=_zone(next_run),
            next_run_time=next_run.timestamp(),
        )
        self.rt.db.call(store.save, row)
        self.wakeup()
        return job_id

    def unschedule(self, job_id: str) -> bool:
        return self.rt.db.call(store.remove, job_id)

    def jobs(self, prefix: str = "") -> list[JobInfo]:
        """Every job by id, or those whose id starts with `prefix` (`kind/workspace/`…)."""
        return [_info(row) for row in self.rt.db.call(store.listing, prefix)]

    def job(self, job_id: str) -> JobInfo | None:
        row = self.rt.db.call(store.get, job_id)
        return _info(row) if row is not None else None

    async def remove_workspace_jobs(self, workspace_id: str) -> int:
        """Stop every job of a workspace (uninstalled or token revoked)."""
        removed = await self.rt.db.run(store.remove_workspace, workspace_id)
        if removed:
            log.info("workspace jobs removed", extra={"workspace": workspace_id, "count": removed})
        return removed

    async def run_now(self, job_id: str) -> str:
        """Run a stored job once, now, outside its schedule (`scalebot jobs --run`)."""
        info = await asyncio.get_running_loop().run_in_executor(None, self.job, job_id)
        if info is None:
            raise KeyError(job_id)
        kwargs = dict(info.kwargs, workspace_id=info.workspace_id)
        return await self.run_claimed(job_id, info.kind, kwargs, self.rt.clock.now())

    # --- running ---------------------------------------------------------------------------------

    async def run_claimed(
        self, job_id: str, kind_name: str, kwargs: dict[str, Any], run_time: datetime
    ) -> str:
        """Claim (job, run_time) and run it; returns the outcome: done, failed, skipped or missed."""
        rt = self.rt
        kind = JOB_KINDS.get(kind_name)
        if kind is None:
            log.error("stored job of an unknown kind", extra={"job": job_id, "kind": kind_name})
            return self._count(kind_name, "failed")
        run_time = run_time.astimezone(UTC)
        now = rt.clock.now()
        if now - run_time > kind.grace:
            if await rt.db.run(claims.record_missed, job_id, run_time, rt.owner, now):
                log.warning(
                    "scheduled run missed its grace time; skipped",
                    extra={"job": job_id, "run_time": run_time.isoformat(), "grace": str(kind.grace)},
                )
            return self._count(kind_name, "missed")
        workspace_id = kwargs.get("workspace_id")
        if workspace_id and await rt.db.run(installations.find_installation, workspace_id) is None:
            return self._count(kind_name, "skipped")  # uninstalled or token revoked
        payload = json.dumps(kwargs, default=str)
        claimed = await rt.db.run(
            claims.claim, job_id, run_time, rt.owner, now, self.lease, workspace_id, kind_name, payload
        )
        if not claimed:
            return self._count(kind_name, "skipped")
        lock_key, lock_owner = f"job:{job_id}:{run_time.isoformat()}", f"{rt.owner}:{uuid.uuid4().hex[:8]}"
        ttl = self.lease.total_seconds()
        if not await rt.cache.acquire(lock_key, lock_owner, ttl):
            return self._count(kind_name, "skipped")  # an earlier owner is alive after all; let it finish
        heartbeat = asyncio.create_task(self._heartbeat(job_id, run_time, lock_key, lock_owner))
        try:
            await kind.func(rt, run_time=run_time, **kwargs)
        except Exception as exc:
            error_id = new_error_id()
            log.error(
                "scheduled job failed",
                extra={"job": job_id, "error_id": error_id, "run_time": run_time.isoformat()},
                exc_info=True,
            )
            message = f"{error_id}: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
            await rt.db.run(
                claims.finish,
                job_id,
                run_time,
                rt.owner,
                rt.clock.now(),
                message,
                retry_after=self.retry_after,
            )
            return self._count(kind_name, "failed")
        finally:
            heartbeat.cancel()
            await rt.cache.release(lock_key, lock_owner)
        await rt.db.run(claims.finish, job_id, run_time, rt.owner, rt.clock.now())
        return self._count(kind_name, "done")

    async def _heartbeat(self, job_id: str, run_time: datetime, lock_key: str, lock_owner: str) -> None:
        """Keep the claim's lease and the lock alive while a long run works."""
        interval = max(self.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            await self.rt.db.run(
                claims.extend, job_id, run_time, self.rt.owner, self.rt.clock.now() + self.lease
            )
            await self.rt.cache.acquire(lock_key, lock_owner, self.lease.total_seconds())

    def _count(self, kind: str, outcome: str) -> str:
        self.rt.telemetry.job_runs.labels(job=kind, outcome=outcome).inc()
        return outcome

    # --- orphaned runs ---------------------------------------------------------------------------

    async def sweep(self) -> int:
        """Re-run claims whose owner died or that failed, while still within their grace time."""
        now = self.rt.clock.now()
        longest = max((k.grace for k in JOB_KINDS.values()), default=timedelta(hours=1))
        rows = await self.rt.db.run(claims.orphaned, now, now - longest, self.max_attempts)
        count = 0
        for row in rows:
            kind = JOB_KINDS.get(row.kind)
            if kind is None or now - row.run_time > kind.grace:
                continue
            log.info("taking over an unfinished run", extra={"job": row.job_id, "previous_owner": row.owner})
            outcome = await self.run_claimed(row.job_id, row.kind, json.loads(row.payload), row.run_time)
            count += outcome == "done"
        return count

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self.sweep_every):
            try:
                asyncio.run_coroutine_threadsafe(self.sweep(), self.loop).result()
            except Exception:
                log.warning("claim sweep failed", exc_info=True)
