"""A modal's ack never waits on a locked database past Slack's 3 s (issue 13, class 3): past about
2 s the modal shows "Saving…", then the result, or the person's own text if it could not be saved."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import AppConfig, TeamConfig
from localslack import FakeSlack
from storage import premortem as repo
from tests.harness import Seeded
from tests.premortem_driver import Driver, all_text, pace_quickly

PAYMENTS = AppConfig(teams=[TeamConfig(name="Payments", channel="C0PAYMENTS", managers=["U0MGR1"])])
LOCKER = (
    "import sqlite3, sys, time\n"
    "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "c.execute('BEGIN IMMEDIATE')\n"
    "print('locked', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
    "c.execute('ROLLBACK')\n"
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "modal.db"


@pytest.fixture
def driver(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Driver:
    pace_quickly(monkeypatch)
    return Driver(fake, seeded, make_bot(config=PAYMENTS, database_url=f"sqlite:///{db_path}"), fake.actor())


@pytest.fixture
def lock_for(db_path: Path) -> Iterator[Any]:
    procs: list[subprocess.Popen[str]] = []

    def lock(seconds: float) -> None:
        proc = subprocess.Popen(
            [sys.executable, "-c", LOCKER, str(db_path), str(seconds)], stdout=subprocess.PIPE, text=True
        )
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"

    yield lock
    for proc in procs:
        proc.wait(timeout=30)


def _answered(d: Driver) -> list[tuple[str, str]]:
    row = d.bot.db(repo.load, d.seeded.team_id, 1)
    return [(r.component, r.why) for r in row.risks]


def test_a_slow_save_acks_saving_then_shows_saved(driver: Driver, fake: FakeSlack, lock_for: Any) -> None:
    d, s = driver, driver.seeded
    d.start(s.manager, s.lead, s.lead2)
    view = d.open_answer(s.lead)
    lock_for(4.0)
    started = time.monotonic()
    submission = d.actor.submit_view(
        s.team_id, s.lead, view, {"risk1_other": {"value": "Queue"}, "risk1_why": {"value": "one consumer"}}
    )
    assert time.monotonic() - started < 3
    assert submission.response_action == "update"
    assert "Saving" in json.dumps(submission.view)
    fake.wait_for(lambda: "Saved" in json.dumps(fake.view(view)), timeout=15, message="the Saved view")
    assert _answered(d) == [("Queue", "one consumer")]
    fake.wait_for(lambda: "1 of 2 leads answered" in all_text(d.root()), timeout=10)


def test_a_save_that_fails_shows_the_persons_own_text(driver: Driver, fake: FakeSlack, lock_for: Any) -> None:
    d, s = driver, driver.seeded
    d.start(s.manager, s.lead, s.lead2)
    d.answer(s.lead, [{"other": "Queue", "why": "one consumer"}])
    view = d.open_answer(s.lead)
    lock_for(9.0)  # longer than the database's own busy timeout: the save fails
    submission = d.actor.submit_view(
        s.team_id, s.lead, view, {"risk1_why": {"value": "the consumer & its <retries> at 10x"}}
    )
    assert submission.response_action == "update"
    shown = fake.wait_for(
        lambda: (v := fake.view(view)) is not None and "could not be saved" in json.dumps(v) and v,
        timeout=20,
        message="the failure view",
    )
    assert "the consumer &amp; its &lt;retries&gt; at 10x" in json.dumps(shown)
    assert "What you submitted could not be saved (error id " in json.dumps(
        shown
    )  # any form, not only answers
    time.sleep(0.5)
    assert _answered(d) == [("Queue", "one consumer")]  # the older answer stays, visibly not replaced
