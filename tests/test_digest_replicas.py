"""Three scheduler processes on one PostgreSQL and Redis send the digests of 20 workspaces: one parent
message and one manager's own digest per workspace and week, none lost and none doubled when the process
holding a run is killed,
and a week missed while every scheduler was down is sent once within the grace and never after it.

The processes share a file clock; moving it moves every scheduler's "now"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import col, select

from bot.clock import FileClock
from bot.digest.jobs import KIND
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from localslack import FakeSlack
from storage import digest as digest_repo
from storage import installations, migrate
from storage import teams as teams_repo
from storage.jobs import JobRunRow
from tests.conftest import LOG_DIR_ENV
from tests.digest_scheduler import LEASE
from tests.digest_support import parents

STALL = 4.0  # seconds the first parent post of week 49 hangs in Slack before it is posted
ROOT = Path(__file__).resolve().parent.parent
WORKSPACES = 20
ZONES = ("Europe/Berlin", "UTC", "America/New_York")  # Monday 09:00 is 08:00, 09:00 and 14:00 UTC
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)  # ISO week 48
NINE_UTC = {"Europe/Berlin": 8, "UTC": 9, "America/New_York": 14}


def ws_id(i: int) -> str:
    return f"T9{i:03d}"


def digest_channel(i: int) -> str:
    return f"C9{i:03d}D"


def zone(i: int) -> str:
    return ZONES[i % len(ZONES)]


def week_counts(fake: FakeSlack) -> dict[str, Counter[str]]:
    """Per workspace, how many parent messages each ISO week has."""
    out = {}
    for i in range(WORKSPACES):
        weeks = [m["metadata"]["event_payload"]["week"] for m in parents(fake, digest_channel(i))]
        out[ws_id(i)] = Counter(weeks)
    return out


def wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not in time: {what}")
        time.sleep(0.05)


class Schedulers:
    def __init__(self, env: dict[str, str], clock_file: Path) -> None:
        self.env, self.clock_file = env, clock_file
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, n: int) -> None:
        log_dir = Path(os.environ[LOG_DIR_ENV])
        started = []
        for i in range(n):
            log = open(log_dir / f"digest-scheduler-{len(self.procs) + i}.log", "a")  # noqa: SIM115
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tests.digest_scheduler", str(self.clock_file)],
                    cwd=ROOT,
                    env=self.env,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                )
            )
        for p in started:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        self.procs += started

    def kill(self, pid: int) -> None:
        proc = next(p for p in self.procs if p.pid == pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        self.procs.remove(proc)

    def stop_all(self) -> None:
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs.clear()


@pytest.fixture
def twenty(
    fake: FakeSlack, pg_url: str, tmp_path: Path
) -> Iterator[tuple[Runtime, FileClock, dict[str, str]]]:
    clock = FileClock(tmp_path / "clock")
    clock.set(MONDAY - timedelta(days=1))
    config: dict[str, Any] = {"workspaces": {}, "teams": []}
    rt = build_runtime(Settings(database_url=pg_url), clock=clock)  # type: ignore[call-arg]
    migrate.upgrade(rt.db)
    for i in range(WORKSPACES):
        ws = fake.add_workspace(team_id=ws_id(i), name=f"Company {i}", domain=f"company{i}")
        manager = f"U9{i:03d}M"
        fake.add_user(ws.team_id, manager, f"manager{i}", tz=zone(i))
        fake.add_channel(ws.team_id, digest_channel(i), "scale-digest", members=[manager])
        fake.add_channel(ws.team_id, f"C9{i:03d}P", "payments", members=[manager])
        config["workspaces"][ws.team_id] = {
            "digest": {"channel": digest_channel(i), "timezone": zone(i), "managers": [manager]}
        }
        config["teams"].append({"name": "Payments", "channel": f"C9{i:03d}P", "workspace": ws.team_id})
        rt.db.call(
            installations.save_installation,
            installations.InstallationRow(
                workspace_id=ws.team_id,
                workspace_name=ws.name,
                bot_token=ws.bot_token,
                bot_user_id=ws.bot_user_id,
                installed_at=MONDAY - timedelta(days=30),
            ),
        )
        search = {"name": "search", "leads": [], "managers": [manager]}
        rt.db.call(
            teams_repo.save_setup, ws.team_id, f"C9{i:03d}Q", search, manager, MONDAY - timedelta(days=30)
        )
    config_file = tmp_path / "scalebot.yaml"
    config_file.write_text(yaml.safe_dump(config))
    yield rt, clock, {"SCALEBOT_CONFIG": str(config_file)}
    rt.db.close()


def running_runs(rt: Runtime, run_time: datetime) -> list[JobRunRow]:
    def read(session: Any) -> list[JobRunRow]:
        rows = session.exec(
            select(JobRunRow).where(col(JobRunRow.kind) == KIND, col(JobRunRow.run_time) == run_time)
        ).all()
        for row in rows:
            session.expunge(row)
        return list(rows)

    return rt.db.call(read)


def monday_steps(week: int) -> list[tuple[datetime, list[str]]]:
    """The clock's stops on a Monday: just after 09:00 in each zone, and who is due by then."""
    day = MONDAY + timedelta(weeks=week)
    steps = []
    for z in ZONES:
        due = [ws_id(i) for i in range(WORKSPACES) if NINE_UTC[zone(i)] <= NINE_UTC[z]]
        steps.append((day + timedelta(hours=NINE_UTC[z], seconds=30), due))
    return sorted(steps)


@pytest.mark.slow
def test_three_schedulers_send_each_workspace_one_digest_a_week_through_a_kill_and_downtime(
    twenty: tuple[Runtime, FileClock, dict[str, str]],
    fake: FakeSlack,
    pg_url: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    rt, clock, extra = twenty
    env = {
        **os.environ,
        **extra,
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "SLACK_API_URL": fake.api_url,
        "LOG_LEVEL": "DEBUG",
    }
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        env.pop(name, None)
    schedulers = Schedulers(env, clock.path)
    schedulers.start(3)
    try:
        # Week 48: every workspace at 09:00 in its own zone.
        for when, due in monday_steps(0):
            clock.set(when)
            wait(lambda due=due: all(week_counts(fake)[w]["2026-W48"] == 1 for w in due), 30, f"W48 {when}")
            idle(rt)

        # Week 49: the first parent post stalls; the process running it is killed mid-run, after the
        # post reached Slack but before it was recorded. Another scheduler takes the run over.
        berlin = [ws_id(i) for i in range(WORKSPACES) if zone(i) == "Europe/Berlin"]
        (when, _), *later = monday_steps(1)
        fake.stall_next("chat.postMessage", seconds=STALL)
        clock.set(when)
        run_time = when.replace(second=0)

        def in_parent_post() -> dict[str, JobRunRow]:
            """Runs whose parent post is in flight: its intent is recorded, its ts is not."""
            out = {}
            for row in running_runs(rt, run_time):
                week = [r for r in rt.db.call(digest_repo.runs_of, row.workspace_id) if r.week == "2026-W49"]
                if row.status == "running" and week and week[0].parent_intent_at and not week[0].parent_ts:
                    out[row.workspace_id] = row
            return out

        def stuck_run() -> JobRunRow | None:
            """The one still in its parent post a second later: the stalled one (the others take ms)."""
            first = in_parent_post()
            if not first:
                return None
            time.sleep(1.0)
            still = [row for ws, row in in_parent_post().items() if ws in first]
            return still[0] if len(still) == 1 else None

        stuck = wait(stuck_run, 20, "a run stuck in its stalled parent post")
        victim = int(stuck.owner.split(":")[1])
        schedulers.kill(victim)
        stuck_ws = stuck.workspace_id
        wait(
            lambda: week_counts(fake)[stuck_ws]["2026-W49"] == 1,
            STALL + 10,
            "the stalled post landing after its process died",
        )
        assert not any(r.parent_ts for r in rt.db.call(digest_repo.runs_of, stuck_ws) if r.week == "2026-W49")
        wait(
            lambda: all(
                r.status == "done" or int(r.owner.split(":")[1]) == victim for r in running_runs(rt, run_time)
            ),
            20,
            "the live schedulers' runs finished (before the clock jumps past every lease)",
        )
        time.sleep(LEASE.total_seconds() + 0.5)  # the dead process's Redis lock runs out (real seconds)
        clock.set(when + timedelta(seconds=90))  # its claim's lease and the week's lease run out too
        wait(lambda: all(week_counts(fake)[w]["2026-W49"] == 1 for w in berlin), 30, "the run taken over")
        wait(
            lambda: any(
                r.status == "done" and r.workspace_id == stuck_ws for r in running_runs(rt, run_time)
            ),
            20,
            "the taken-over run finished",
        )
        idle(rt)  # and any other run the killed process had in flight
        for when, due in later:
            clock.set(when)
            wait(lambda due=due: all(week_counts(fake)[w]["2026-W49"] == 1 for w in due), 30, f"W49 {when}")
            idle(rt)

        # Week 50: every scheduler is down over Monday and back at 21:30 UTC: New York's 09:00 (14:00
        # UTC) is 7.5 hours late, within the 12-hour grace, so it is sent once; Berlin's and UTC's are
        # 13.5 and 12.5 hours late, past it, so they are not sent at all (and are recorded as missed).
        schedulers.stop_all()
        clock.set(MONDAY + timedelta(weeks=2, hours=21, minutes=30))
        schedulers.start(3)
        new_york = [ws_id(i) for i in range(WORKSPACES) if zone(i) == "America/New_York"]
        late = [w for w in map(ws_id, range(WORKSPACES)) if w not in new_york]
        wait(lambda: all(week_counts(fake)[w]["2026-W50"] == 1 for w in new_york), 40, "W50 within grace")
        wait(lambda: sorted(missed(rt, "2026-W50")) == sorted(late), 40, "W50 past grace recorded as missed")
        idle(rt)
        time.sleep(1.0)  # room for a late duplicate or a late send, if there were one
    finally:
        schedulers.stop_all()

    counts = week_counts(fake)
    for ws, weeks in counts.items():
        expected = {"2026-W48": 1, "2026-W49": 1, **({"2026-W50": 1} if ws in new_york else {})}
        assert weeks == Counter(expected), (ws, weeks)
        # The manager of the "search" team gets their own digest once a week too, by DM.
        assert own_digest_weeks(fake, f"U9{int(ws[2:]):03d}M") == Counter(expected), ws
    # The killed run found the parent its dead process had posted, and posted the rest once.
    stuck_channel = digest_channel(int(stuck_ws[2:]))
    (parent,) = [
        m for m in parents(fake, stuck_channel) if m["metadata"]["event_payload"]["week"] == "2026-W49"
    ]
    teams = [
        m
        for m in fake.messages(stuck_channel, parent["ts"])
        if m.get("metadata", {}).get("event_payload", {}).get("part") == "team"
    ]
    assert len(teams) == 2
    assert any(c.method == "conversations.history" for c in fake.calls())


def own_digest_weeks(fake: FakeSlack, user: str) -> Counter[str]:
    """How many of their own digests a manager has in their DM with the app, per ISO week."""
    ims = [c["id"] for c in fake.snapshot()["channels"] if c.get("is_im") and c.get("im_user") == user]
    return Counter(
        m["metadata"]["event_payload"]["week"]
        for im in ims
        for m in fake.messages(im)
        if (m.get("metadata") or {}).get("event_payload", {}).get("part") == "manager"
    )


def all_runs(rt: Runtime) -> list[JobRunRow]:
    def read(session: Any) -> list[JobRunRow]:
        rows = session.exec(select(JobRunRow).where(col(JobRunRow.kind) == KIND)).all()
        for row in rows:
            session.expunge(row)
        return list(rows)

    return rt.db.call(read)


def idle(rt: Runtime) -> None:
    """Every run finished: moving the clock hours ahead mid-run would expire a live run's lease (its
    heartbeat renews it within a second, but a sweep may look first), which real clocks never do."""
    wait(lambda: not any(r.status == "running" for r in all_runs(rt)), 30, "every run finished")


def missed(rt: Runtime, week: str) -> list[str]:
    return [
        ws_id(i)
        for i in range(WORKSPACES)
        if any(r.week == week and r.status == "missed" for r in rt.db.call(digest_repo.runs_of, ws_id(i)))
    ]
