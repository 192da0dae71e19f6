"""The scheduler's own loop: fire times from the triggers, missed runs, one-offs, reschedules, two schedulers.

(tests/test_scheduler.py has the runs-once, waits-for-the-previous-run and multi-process tests.)
"""

from __future__ import annotations

import ast
import asyncio
import pickle
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import inspect

import tests.helpers.jobkinds  # noqa: F401
from bot.runtime import Runtime, build_runtime
from bot.scheduler import Scheduler, fire_times
from bot.settings import Settings
from common.clock import ManualClock
from storage import jobs as claims
from storage import migrate
from storage import scheduled_jobs as store
from tests.test_scheduler import T0, eventually, runs

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite3")  # type: ignore[call-arg]
    runtime = build_runtime(settings, clock=ManualClock(T0))
    migrate.upgrade(runtime.db)
    yield runtime
    if runtime.scheduler is not None:
        await asyncio.get_running_loop().run_in_executor(None, runtime.scheduler.shutdown)
    await runtime.close()


def test_missed_fire_times_coalesce_into_the_latest_and_the_next_follows_it() -> None:
    trigger = CronTrigger(hour=9, minute=0, timezone=BERLIN)
    first = datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)  # Monday
    now = datetime(2026, 11, 25, 10, 30, tzinfo=BERLIN)  # Wednesday, after that day's 09:00
    latest, following = fire_times(trigger, first, now)
    assert latest == datetime(2026, 11, 25, 9, 0, tzinfo=BERLIN)
    assert following == datetime(2026, 11, 26, 9, 0, tzinfo=BERLIN)
    # A one-off has nothing after it.
    assert fire_times(DateTrigger(T0, timezone=UTC), T0, T0 + timedelta(hours=1)) == (T0, None)


async def test_a_run_missed_during_downtime_runs_once_when_the_scheduler_returns_within_grace(
    rt: Runtime, tmp_path: Path
) -> None:
    out = tmp_path / "runs.txt"
    writer = Scheduler(rt, asyncio.get_running_loop())  # a web process writing the job; no scheduler runs
    trigger = IntervalTrigger(hours=1, start_date=T0 + timedelta(hours=1), timezone=UTC)
    writer.schedule("test.record", "hourly", trigger, out=str(out))
    rt.clock.set(T0 + timedelta(hours=3, minutes=30))  # type: ignore[attr-defined]  # down over 10, 11, 12:00
    rt.scheduler = Scheduler(rt, asyncio.get_running_loop(), max_wait=0.05, sweep_every=3600)
    rt.scheduler.start()
    await eventually(lambda: len(runs(out)) == 1)
    await asyncio.sleep(0.3)  # room for a second run, were there one
    assert runs(out) == {(T0 + timedelta(hours=3)).isoformat(): 1}  # 12:00 once; 10 and 11 coalesced into it
    assert rt.scheduler.job("test.record/-/hourly").next_run == T0 + timedelta(hours=4)  # type: ignore[union-attr]


async def test_a_run_missed_beyond_its_grace_is_recorded_as_missed_and_the_job_moves_on(
    rt: Runtime, tmp_path: Path
) -> None:
    out = tmp_path / "runs.txt"
    rt.scheduler = Scheduler(rt, asyncio.get_running_loop(), max_wait=0.05, sweep_every=3600)
    trigger = IntervalTrigger(days=1, start_date=T0 + timedelta(hours=1), timezone=UTC)
    rt.scheduler.schedule("test.record", "daily", trigger, out=str(out))  # grace: one hour
    rt.clock.set(T0 + timedelta(hours=3))  # type: ignore[attr-defined]  # two hours late
    rt.scheduler.start()
    await eventually(lambda: rt.db.call(claims.runs_of, "test.record/-/daily") != [])
    (row,) = await rt.db.run(claims.runs_of, "test.record/-/daily")
    assert row.status == "missed" and not out.exists()
    assert rt.scheduler.job("test.record/-/daily").next_run == T0 + timedelta(days=1, hours=1)  # type: ignore[union-attr]


async def test_a_one_off_job_runs_once_and_leaves_the_list(rt: Runtime, tmp_path: Path) -> None:
    out = tmp_path / "runs.txt"
    rt.scheduler = Scheduler(rt, asyncio.get_running_loop(), max_wait=0.05, sweep_every=3600)
    at = T0 + timedelta(minutes=5)
    rt.scheduler.schedule(
        "test.record", "once", DateTrigger(at, timezone=UTC), workspace_id=None, out=str(out)
    )
    rt.scheduler.start()
    assert [job.id for job in rt.scheduler.jobs("test.record/")] == ["test.record/-/once"]
    rt.clock.set(at)  # type: ignore[attr-defined]
    rt.scheduler.wakeup()
    await eventually(lambda: len(runs(out)) == 1)
    await eventually(lambda: rt.scheduler is not None and rt.scheduler.jobs("test.record/") == [])
    # A one-off whose time has passed already (within its grace) runs at once.
    rt.scheduler.schedule("test.record", "late", DateTrigger(T0, timezone=UTC), out=str(out))
    await eventually(lambda: runs(out) == {at.isoformat(): 1, T0.isoformat(): 1})
    await eventually(lambda: rt.scheduler is not None and rt.scheduler.jobs("test.record/") == [])


async def test_two_schedulers_on_one_database_run_each_scheduled_time_once(
    rt: Runtime, tmp_path: Path
) -> None:
    out = tmp_path / "runs.txt"
    loop = asyncio.get_running_loop()
    first = Scheduler(rt, loop, max_wait=0.02, sweep_every=3600)
    second = Scheduler(rt, loop, max_wait=0.02, sweep_every=3600)
    trigger = IntervalTrigger(minutes=10, start_date=T0 + timedelta(minutes=10), timezone=UTC)
    first.schedule("test.record", "ten", trigger, out=str(out))
    first.start()
    second.start()
    try:
        for step in range(1, 4):
            rt.clock.set(T0 + timedelta(minutes=10 * step))  # type: ignore[attr-defined]
            first.wakeup()
            second.wakeup()
            await eventually(lambda s=step: len(runs(out)) >= s)
        await asyncio.sleep(0.3)  # room for a duplicate to show up, were there one
    finally:
        await loop.run_in_executor(None, first.shutdown)
        await loop.run_in_executor(None, second.shutdown)
    assert runs(out) == {(T0 + timedelta(minutes=10 * s)).isoformat(): 1 for s in range(1, 4)}


async def test_a_reschedule_written_while_a_scheduler_hands_out_a_run_is_kept(rt: Runtime) -> None:
    scheduler = Scheduler(rt, asyncio.get_running_loop())
    hourly = IntervalTrigger(hours=1, start_date=T0, timezone=UTC)
    scheduler.schedule("test.record", "job", hourly, out="-")
    (seen,) = rt.db.call(store.due, T0.timestamp())  # a scheduler read the job as due…
    scheduler.schedule(
        "test.record", "job", CronTrigger(hour=17, timezone=BERLIN), out="-"
    )  # …a web process rescheduled it
    assert rt.db.call(store.advance, seen, (T0 + timedelta(hours=1)).timestamp()) is False
    job = scheduler.job("test.record/-/job")
    assert job is not None and job.next_run == datetime(2026, 11, 23, 17, 0, tzinfo=BERLIN)
    assert job.trigger.startswith("cron[") and getattr(job.next_run.tzinfo, "key", None) == "Europe/Berlin"


async def test_jobs_are_looked_up_by_id_and_listed_by_prefix(rt: Runtime) -> None:
    scheduler = Scheduler(rt, asyncio.get_running_loop())
    trigger = DateTrigger(T0 + timedelta(days=1), timezone=UTC)
    for workspace, key in (
        ("T1", "C1@2026-11-24"),
        ("T1", "C1@2026-11-25"),
        ("T1", "C2@2026-11-24"),
        ("T2", "C1@x"),
    ):
        scheduler.schedule("test.record", key, trigger, workspace_id=workspace, out="-")
    assert [j.id for j in scheduler.jobs("test.record/T1/C1@")] == [
        "test.record/T1/C1@2026-11-24",
        "test.record/T1/C1@2026-11-25",
    ]
    assert scheduler.jobs("test.record/T1/C%") == []  # a prefix is literal, not a pattern
    found = scheduler.job("test.record/T2/C1@x")
    assert found is not None and found.workspace_id == "T2" and found.kwargs == {"out": "-"}
    assert scheduler.job("test.record/T2/nope") is None
    assert await scheduler.remove_workspace_jobs("T1") == 3
    assert [j.id for j in scheduler.jobs()] == ["test.record/T2/C1@x"]


def _noop(
    **_: object,
) -> None:  # what the previous scheduler's job store recorded as a job's function (never run)
    pass


async def test_jobs_stored_by_the_previous_apscheduler_job_store_carry_over(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/old.sqlite3")  # type: ignore[call-arg]
    runtime = build_runtime(settings, clock=ManualClock(T0))
    try:
        migrate.upgrade(runtime.db)
        with runtime.db.engine.begin() as conn:
            command.downgrade(migrate._config(conn), "scheduler@0001_foundation")
        # The previous release wrote its jobs through APScheduler's own job store.
        old = BackgroundScheduler(timezone=UTC)
        old.add_jobstore("sqlalchemy", engine=runtime.db.engine, tablename="apscheduler_jobs")
        old.start(paused=True)
        trigger = CronTrigger(day_of_week="mon", hour=9, timezone=BERLIN)
        kwargs = {"kind": "test.record", "workspace_id": "T1", "out": "-"}
        old.add_job(_noop, trigger, id="test.record/T1/weekly", kwargs=kwargs)
        stored = old.get_job("test.record/T1/weekly").next_run_time
        old.shutdown(wait=False)
        migrate.upgrade(runtime.db)
        assert "apscheduler_jobs" not in inspect(runtime.db.engine).get_table_names()
        job = Scheduler(runtime, asyncio.get_running_loop()).job("test.record/T1/weekly")
        assert job is not None
        assert (job.kind, job.workspace_id, job.kwargs, job.next_run) == (
            "test.record",
            "T1",
            {"out": "-"},
            stored,
        )
        assert job.trigger == str(trigger)
        (row,) = runtime.db.call(store.listing)
        assert getattr(job.next_run.tzinfo, "key", None) == "Europe/Berlin"  # the trigger's zone
        restored = pickle.loads(row.trigger)  # noqa: S301 (the row the migration wrote)
        assert restored.get_next_fire_time(None, stored) == stored
    finally:
        await runtime.close()


def test_the_code_uses_only_apschedulers_triggers() -> None:
    """The scheduler leans on no APScheduler internals: only its trigger modules are imported anywhere."""
    root = Path(__file__).resolve().parent.parent
    imported = set()
    for package in ("bot", "handlers", "storage"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("apscheduler"):
                    imported.add(node.module)
                elif isinstance(node, ast.Import):
                    imported.update(a.name for a in node.names if a.name.startswith("apscheduler"))
    assert imported and all(module.startswith("apscheduler.triggers.") for module in imported), imported
