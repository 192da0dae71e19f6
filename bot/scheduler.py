"""Scheduled jobs: APScheduler 3 with its job store in the database, driven by the runtime's clock.

Every run is claimed first — a row keyed by (job, scheduled time) plus a Redis lock when configured — so
however many schedulers share the database, a scheduled time runs once. A run missed while every
scheduler was down runs once when one returns within the job's grace time; a run whose scheduler died
mid-way is taken over by another when its lease runs out (jobs are written to be idempotent).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import pkgutil
import threading
import traceback
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.executors.base import BaseExecutor, MaxInstancesReachedError
from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger

import bot
from bot.errors import new_error_id
from storage import installations
from storage import jobs as claims

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

JobFunc = Callable[..., Awaitable[None]]

# How soon to look again at a run that came due while its job's previous run was still finishing.
DEFERRED_RETRY_SECONDS = 0.1


@dataclass(frozen=True)
class JobKind:
    """A kind of job: `func(rt, run_time=…, **kwargs)`, and how late a run may still start."""

    name: str
    func: JobFunc
    grace: timedelta
    summary: str


JOB_KINDS: dict[str, JobKind] = {}


def job_kind(
    name: str, *, grace: timedelta = timedelta(hours=1), summary: str = ""
) -> Callable[[JobFunc], JobFunc]:
    """Register an async job function under a stable name (stored job rows refer to it by name)."""

    def register(func: JobFunc) -> JobFunc:
        JOB_KINDS[name] = JobKind(
            name, func, grace, summary or (func.__doc__ or name).strip().splitlines()[0]
        )
        return func

    return register


def load_job_kinds() -> list[Any]:
    """Import every `bot.<capability>.jobs` module so its job kinds register; returns the modules."""
    loaded = []
    for module in pkgutil.iter_modules(bot.__path__):
        if module.ispkg:
            try:
                loaded.append(importlib.import_module(f"bot.{module.name}.jobs"))
            except ModuleNotFoundError as exc:
                if exc.name != f"bot.{module.name}.jobs":
                    raise
    return loaded


def dispatch(kind: str, **kwargs: Any) -> None:
    """What the job store records as every job's function; the executor runs the kind instead."""
    raise RuntimeError("scheduled jobs run through ClaimingExecutor")  # pragma: no cover


@dataclass
class JobInfo:
    id: str
    kind: str
    workspace_id: str | None
    next_run: datetime | None
    trigger: str
    kwargs: dict[str, Any]


class _ClockScheduler(BackgroundScheduler):
    """APScheduler's background scheduler, asking the runtime's clock for "now"."""

    def __init__(self, clock_now: Callable[[], datetime], max_wait: float, **options: Any) -> None:
        self._clock_now = clock_now
        self._max_wait = max_wait
        super().__init__(**options)

    def _process_jobs(self) -> float | None:
        # The same steps as BaseScheduler._process_jobs (coalescing every job), with the clock's now and
        # a bounded wait: other processes add jobs to the shared store, and this one must notice.
        if self.state == STATE_PAUSED:
            return None
        now = self._clock_now()
        next_wakeup: datetime | None = None
        deferred = False
        with self._jobstores_lock:
            for alias, store in self._jobstores.items():
                try:
                    due = store.get_due_jobs(now)
                except Exception as exc:
                    log.warning("cannot read due jobs", extra={"error": str(exc)})
                    continue
                for job in due:
                    run_times = job._get_run_times(now)[-1:]
                    if not run_times:
                        continue
                    try:
                        self._lookup_executor(job.executor).submit_job(job, run_times)
                    except MaxInstancesReachedError:
                        # The previous run is still finishing: leave this one due and look again
                        # shortly (advancing next_run_time here would lose it: nothing claimed it yet).
                        deferred = True
                        continue
                    following = job.trigger.get_next_fire_time(run_times[-1], now)
                    try:
                        if following:
                            job._modify(next_run_time=following)
                            store.update_job(job)
                        else:
                            self.remove_job(job.id, alias)
                    except JobLookupError:
                        pass  # another scheduler sharing the store handled this (one-shot) job first
                candidate = store.get_next_run_time()
                if candidate and (next_wakeup is None or candidate < next_wakeup):
                    next_wakeup = candidate
        if next_wakeup is None:
            return self._max_wait
        floor = min(DEFERRED_RETRY_SECONDS, self._max_wait) if deferred else 0.0
        return min(max((next_wakeup - now).total_seconds(), floor), self._max_wait)


class ClaimingExecutor(BaseExecutor):
    """Runs each due job on the app's event loop after claiming (job, scheduled time)."""

    def __init__(self, runner: Scheduler) -> None:
        super().__init__()
        self._runner = runner
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="job")

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        def work() -> None:
            try:
                kind = job.kwargs["kind"]
                kwargs = {k: v for k, v in job.kwargs.items() if k != "kind"}
                self._runner.run_sync(job.id, kind, kwargs, run_times[-1])
            except BaseException as exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, [])

        self._pool.submit(work)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)


class Scheduler:
    """The bot's scheduler. Without `start()` it still writes jobs to the store (web replicas)."""

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
        self.lease, self.sweep_every = lease, sweep_every
        self.max_attempts, self.retry_after = max_attempts, retry_after
        self._store = SQLAlchemyJobStore(engine=rt.db.engine, tablename="apscheduler_jobs")
        self._aps = _ClockScheduler(
            rt.clock.now,
            max_wait,
            jobstores={"default": self._store},
            executors={"default": ClaimingExecutor(self)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self._store.start(self._aps, "default")
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._aps.state != STATE_STOPPED

    def start(self) -> None:
        self._aps.start()
        self._stop.clear()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="job-sweeper", daemon=True)
        self._sweeper.start()
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
        self._stop.set()
        if self.running:
            self._aps.shutdown(wait=True)
        if self._sweeper is not None:
            self._sweeper.join(timeout=5)

    def wakeup(self) -> None:
        """Look at the job store now (after the clock moved or another process added jobs)."""
        if self.running:
            self._aps.wakeup()

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
        """Create or replace the job `kind/workspace/key`; returns its id."""
        if kind not in JOB_KINDS:
            raise KeyError(f"unknown job kind {kind!r}")
        job_id = f"{kind}/{workspace_id or '-'}/{key}"
        next_run = trigger.get_next_fire_time(None, self.rt.clock.now())
        job = Job(
            self._aps,
            id=job_id,
            func=dispatch,
            trigger=trigger,
            executor="default",
            args=(),
            kwargs={"kind": kind, "workspace_id": workspace_id, **kwargs},
            name=kind,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
            next_run_time=next_run,
        )
        if next_run is None:
            self.unschedule(job_id)
            return job_id
        with self._aps._jobstores_lock:
            try:
                self._store.add_job(job)
            except ConflictingIdError:
                self._store.update_job(job)
        self.wakeup()
        return job_id

    def unschedule(self, job_id: str) -> bool:
        try:
            self._store.remove_job(job_id)
        except JobLookupError:
            return False
        return True

    def jobs(self) -> list[JobInfo]:
        out = []
        for job in self._store.get_all_jobs():
            kwargs = {k: v for k, v in job.kwargs.items() if k not in {"kind", "workspace_id"}}
            out.append(
                JobInfo(
                    id=job.id,
                    kind=job.kwargs.get("kind", "?"),
                    workspace_id=job.kwargs.get("workspace_id"),
                    next_run=job.next_run_time,
                    trigger=str(job.trigger),
                    kwargs=kwargs,
                )
            )
        return out

    def job(self, job_id: str) -> JobInfo | None:
        return next((j for j in self.jobs() if j.id == job_id), None)

    async def remove_workspace_jobs(self, workspace_id: str) -> int:
        """Stop every job of a workspace (uninstalled or token revoked)."""

        def remove() -> int:
            removed = 0
            for info in self.jobs():
                if info.workspace_id == workspace_id and self.unschedule(info.id):
                    removed += 1
            return removed

        removed = await asyncio.get_running_loop().run_in_executor(None, remove)
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

    def run_sync(self, job_id: str, kind: str, kwargs: dict[str, Any], run_time: datetime) -> str:
        """From a worker thread: run the job on the event loop and wait for it."""
        future = asyncio.run_coroutine_threadsafe(self.run_claimed(job_id, kind, kwargs, run_time), self.loop)
        return future.result()

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
