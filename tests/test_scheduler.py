"""Scheduled jobs fire once per scheduled time however many schedulers run, and missed runs run once."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger

import tests.helpers.jobkinds  # noqa: F401
from bot.runtime import Runtime, build_runtime
from bot.scheduler import Scheduler
from bot.settings import Settings
from common.clock import FileClock, ManualClock
from storage import installations, migrate
from storage import jobs as claims
from tests.conftest import LOG_DIR_ENV

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


def runs(path: Path) -> Counter[str]:
    if not path.exists():
        return Counter()
    return Counter(line.split()[0] for line in path.read_text().splitlines())


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite3")  # type: ignore[call-arg]
    runtime = build_runtime(settings, clock=ManualClock(T0))
    migrate.upgrade(runtime.db)
    yield runtime
    if runtime.scheduler is not None:
        # Off the loop, as the app's lifespan does: a job thread may be waiting on this loop.
        await asyncio.get_running_loop().run_in_executor(None, runtime.scheduler.shutdown)
    await runtime.close()


async def test_a_due_job_runs_once_per_scheduled_time(rt: Runtime, tmp_path: Path) -> None:
    out = tmp_path / "runs.txt"
    clock: ManualClock = rt.clock  # type: ignore[assignment]
    rt.scheduler = Scheduler(rt, asyncio.get_running_loop(), max_wait=0.05, sweep_every=3600)
    rt.scheduler.schedule(
        "test.record",
        "hourly",
        IntervalTrigger(hours=1, start_date=T0 + timedelta(hours=1), timezone=UTC),
        out=str(out),
    )
    rt.scheduler.start()
    for hour in range(1, 4):
        clock.set(T0 + timedelta(hours=hour, seconds=1))
        rt.scheduler.wakeup()
        await eventually(lambda h=hour: len(runs(out)) == h)
    assert runs(out) == {(T0 + timedelta(hours=h)).isoformat(): 1 for h in range(1, 4)}
    # The job moves on to 13:00 once its 12:00 run is done, a moment after the run wrote its line (under
    # a parallel run's load that moment was seen to come after the check): wait for it.
    next_runs = {T0 + timedelta(hours=4)}
    await eventually(lambda: {job.next_run for job in rt.scheduler.jobs("test.record/")} == next_runs)


async def test_a_run_due_while_the_previous_one_is_still_running_is_not_lost(
    rt: Runtime, tmp_path: Path
) -> None:
    out = tmp_path / "runs.txt"
    clock: ManualClock = rt.clock  # type: ignore[assignment]
    rt.scheduler = Scheduler(rt, asyncio.get_running_loop(), max_wait=0.05, sweep_every=3600)
    trigger = IntervalTrigger(hours=1, start_date=T0 + timedelta(hours=1), timezone=UTC)
    rt.scheduler.schedule("test.record", "slow", trigger, out=str(out), sleep=0.4)
    rt.scheduler.start()
    clock.set(T0 + timedelta(hours=1, seconds=1))
    rt.scheduler.wakeup()
    await asyncio.sleep(0.1)  # the 10:00 run has started and takes 0.4 s
    clock.set(T0 + timedelta(hours=2, seconds=1))  # 11:00 comes due while 10:00 is still running
    rt.scheduler.wakeup()
    await eventually(lambda: len(runs(out)) == 2)
    assert runs(out) == {(T0 + timedelta(hours=h)).isoformat(): 1 for h in (1, 2)}


async def test_a_run_after_its_grace_is_recorded_as_missed_not_run(rt: Runtime, tmp_path: Path) -> None:
    out = tmp_path / "runs.txt"
    rt.scheduler = Scheduler(rt, asyncio.get_running_loop())
    rt.clock.set(T0 + timedelta(hours=2))  # type: ignore[attr-defined]
    outcome = await rt.scheduler.run_claimed("test.record/-/x", "test.record", {"out": str(out)}, T0)
    assert outcome == "missed" and not out.exists()
    (row,) = await rt.db.run(claims.runs_of, "test.record/-/x")
    assert row.status == "missed"


async def test_a_failed_run_is_retried_by_the_sweep_until_it_succeeds(rt: Runtime, tmp_path: Path) -> None:
    out, gate = tmp_path / "runs.txt", tmp_path / "gate"
    rt.scheduler = Scheduler(rt, asyncio.get_running_loop(), retry_after=timedelta(minutes=5))
    kwargs = {"out": str(out), "gate": str(gate)}
    assert await rt.scheduler.run_claimed("test.flaky/-/x", "test.flaky", kwargs, T0) == "failed"
    assert await rt.scheduler.sweep() == 0  # not before retry_after
    gate.touch()
    rt.clock.set(T0 + timedelta(minutes=6))  # type: ignore[attr-defined]
    assert await rt.scheduler.sweep() == 1
    assert runs(out) == {T0.isoformat(): 1}
    assert await rt.scheduler.sweep() == 0


async def test_jobs_of_an_inactive_workspace_are_skipped_and_removed(rt: Runtime, tmp_path: Path) -> None:
    out = tmp_path / "runs.txt"
    rt.scheduler = Scheduler(rt, asyncio.get_running_loop())
    await rt.db.run(
        installations.save_installation,
        installations.InstallationRow(workspace_id="T1", bot_token="xoxb-t1", installed_at=T0),
    )
    trigger = IntervalTrigger(hours=1, start_date=T0 + timedelta(hours=1), timezone=UTC)
    rt.scheduler.schedule("test.record", "a", trigger, workspace_id="T1", out=str(out))
    rt.scheduler.schedule("test.record", "b", trigger, workspace_id="T2", out=str(out))
    await rt.deactivate_workspace("T1", "app_uninstalled")
    # Besides the deletion of the uninstalled workspace's data after the grace period.
    assert [j.workspace_id for j in rt.scheduler.jobs() if j.kind != "uninstall.delete"] == ["T2"]
    outcome = await rt.scheduler.run_claimed(
        "test.record/T1/a", "test.record", {"out": str(out), "workspace_id": "T1"}, T0
    )
    assert outcome == "skipped" and not out.exists()


# --- several scheduler processes on one PostgreSQL ----------------------------------------------


def start_schedulers(
    n: int, env: dict[str, str], clock_file: Path, log_dir: Path
) -> list[subprocess.Popen[str]]:
    procs = []
    for i in range(n):
        log = open(log_dir / f"scheduler-{i}.log", "a")  # noqa: SIM115 (closed with the process)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "tests.helpers.scheduler_proc", str(clock_file)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        )
    for p in procs:
        assert p.stdout is not None
        ready, _, _ = select.select([p.stdout], [], [], 60)
        assert ready and p.stdout.readline().strip() == "ready", "a scheduler process did not start"
    return procs


def stop_schedulers(procs: list[subprocess.Popen[str]], kill: bool = False) -> None:
    for p in procs:
        p.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    for p in procs:
        p.wait(timeout=15)


@pytest.mark.slow
async def test_two_scheduler_processes_fire_once_and_a_missed_run_runs_once(
    pg_url: str, tmp_path: Path
) -> None:
    clock_file, out = tmp_path / "clock", tmp_path / "runs.txt"
    clock = FileClock(clock_file)
    clock.set(T0)
    env = {**os.environ, "DATABASE_URL": pg_url, "LOG_LEVEL": "DEBUG"}
    env.pop("REDIS_URL", None)

    settings = Settings(database_url=pg_url)  # type: ignore[call-arg]
    rt = build_runtime(settings, clock=clock)
    migrate.upgrade(rt.db)
    writer = Scheduler(rt, asyncio.get_running_loop())  # not started: writes the job, like a web replica
    writer.schedule(
        "test.record",
        "hourly",
        IntervalTrigger(hours=1, start_date=T0 + timedelta(hours=1), timezone=UTC),
        out=str(out),
    )

    procs = start_schedulers(2, env, clock_file, Path(os.environ[LOG_DIR_ENV]))
    try:
        for hour in range(1, 6):
            clock.set(T0 + timedelta(hours=hour, seconds=1))
            await eventually(lambda h=hour: len(runs(out)) >= h, timeout=10)
        await asyncio.sleep(0.5)  # room for a duplicate to show up, if there were one
    finally:
        stop_schedulers(procs)
    assert runs(out) == {(T0 + timedelta(hours=h)).isoformat(): 1 for h in range(1, 6)}
    owners = {line.split()[1] for line in out.read_text().splitlines()}

    # Both down across three scheduled times; they return 15 minutes after the last one.
    clock.set(T0 + timedelta(hours=8, minutes=15))
    procs = start_schedulers(2, env, clock_file, Path(os.environ[LOG_DIR_ENV]))
    try:
        await eventually(lambda: len(runs(out)) >= 6, timeout=10)
        await asyncio.sleep(1.0)
    finally:
        stop_schedulers(procs)
    counted = runs(out)
    assert counted[(T0 + timedelta(hours=8)).isoformat()] == 1
    assert (T0 + timedelta(hours=6)).isoformat() not in counted  # coalesced into the latest run
    assert sum(counted.values()) == 6
    assert len(owners) >= 1
    await rt.close()


async def test_the_jobs_command_lists_each_job_with_its_next_run(rt: Runtime, tmp_path: Path) -> None:
    rt.scheduler = Scheduler(rt, asyncio.get_running_loop(), sweep_every=3600)
    start = T0 + timedelta(hours=1)
    rt.scheduler.schedule("test.record", "hourly", IntervalTrigger(hours=1, start_date=start, timezone=UTC))
    rt.scheduler.schedule("test.record", "daily", IntervalTrigger(days=1, start_date=start, timezone=UTC))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SCALEBOT_CONFIG"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/db.sqlite3"
    command = [sys.executable, "-m", "bot.cli", "jobs"]
    result = await asyncio.to_thread(
        subprocess.run, command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["JOB", "NEXT", "RUN", "(UTC)", "TRIGGER"]
    assert [row.split()[:3] for row in rows] == [
        ["test.record/-/daily", "2026-11-23", "10:00:00"],
        ["test.record/-/hourly", "2026-11-23", "10:00:00"],
    ]
    assert "interval[1 day, 0:00:00]" in rows[0] and "interval[1:00:00]" in rows[1]
