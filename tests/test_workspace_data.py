"""Uninstall deletes a workspace's data after the grace period, exactly once; export writes it first,
never its tokens; every table with a workspace column is covered (issue 13, class 7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import text

from bot.settings import parse_duration
from bot.uninstall.jobs import DELETE
from localslack import FakeSlack
from storage import installations, migrate
from storage.db import Database
from storage.workspace_data import WORKSPACE_COLUMN, WORKSPACE_TABLES
from tests.harness import Seeded, wait_until
from tests.premortem_driver import Driver, pace_quickly

ROOT = Path(__file__).resolve().parent.parent


def test_every_table_with_a_workspace_column_is_exported_and_deleted(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/schema.db")
    try:
        migrate.upgrade(db)
        inspector = sqlalchemy.inspect(db.engine)
        with_workspace = {
            name
            for name in inspector.get_table_names()
            if any(c["name"] in (WORKSPACE_COLUMN, "team_id") for c in inspector.get_columns(name))
        }
    finally:
        db.close()
    assert with_workspace, "the schema has no workspace tables?"
    missing = with_workspace - set(WORKSPACE_TABLES)
    assert not missing, f"add these tables to storage/workspace_data.py WORKSPACE_TABLES: {sorted(missing)}"
    assert set(WORKSPACE_TABLES) <= with_workspace


def test_durations() -> None:
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("0") == timedelta(0)
    with pytest.raises(ValueError, match=r"e\.g\. 7d"):
        parse_duration("a week")


def _rows(driver: Driver, workspace_id: str) -> dict[str, int]:
    def count(session: Any) -> dict[str, int]:
        return {
            name: session.execute(
                text(f"SELECT COUNT(*) FROM {name} WHERE {WORKSPACE_COLUMN} = :w"),  # noqa: S608 (fixed names)
                {"w": workspace_id},
            ).scalar_one()
            for name in WORKSPACE_TABLES
        }

    return driver.bot.db(count)  # type: ignore[no-any-return]


@pytest.fixture(params=["sqlite", "postgres"])
def driver(
    request: pytest.FixtureRequest,
    make_bot: Any,
    fake: FakeSlack,
    seeded: Seeded,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Driver:
    pace_quickly(monkeypatch)
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else f"sqlite:///{tmp_path}/w.db"
    return Driver(fake, seeded, make_bot(database_url=url, scalebot_uninstall_grace="7d"), fake.actor())


def test_uninstall_forgets_the_token_at_once_and_deletes_the_rest_after_the_grace_period(
    driver: Driver, fake: FakeSlack
) -> None:
    d, s = driver, driver.seeded
    d.start(s.manager, s.lead)
    d.answer(s.lead, [{"other": "Queue", "why": "one consumer"}])
    before = _rows(d, s.team_id)
    assert before["premortems"] == 1 and before["premortem_risks"] == 1 and before["teams"] >= 1

    assert d.actor.event(s.team_id, {"type": "app_uninstalled"}).status_code == 200
    job_id = f"{DELETE}/-/{s.team_id}"
    scheduler = d.bot.rt.scheduler
    assert scheduler is not None
    wait_until(lambda: scheduler.job(job_id) is not None, message="the deletion job")
    row = wait_until(
        lambda: (
            (r := d.bot.db(installations.find_installation, s.team_id, active_only=False))
            and not r.active
            and r
        ),
    )
    assert s.bot_token not in row.bot_token  # tokens at once
    kept = _rows(d, s.team_id)
    assert kept["premortems"] == 1 and kept["premortem_risks"] == 1  # the rest waits for the grace period

    job = scheduler.job(job_id)
    assert job is not None and job.next_run is not None
    assert abs((job.next_run - d.bot.rt.clock.now()) - timedelta(days=7)) < timedelta(minutes=1)

    assert d.bot.call(scheduler.run_now(job_id)) == "done"
    assert sum(_rows(d, s.team_id).values()) == 0
    assert d.bot.call(scheduler.run_now(job_id)) in ("done", "skipped")  # idempotent
    assert sum(_rows(d, s.team_id).values()) == 0


def test_a_reinstall_within_the_grace_period_keeps_everything(driver: Driver) -> None:
    d, s = driver, driver.seeded
    d.start(s.manager, s.lead)
    d.actor.event(s.team_id, {"type": "app_uninstalled"})
    scheduler = d.bot.rt.scheduler
    assert scheduler is not None
    wait_until(lambda: scheduler.job(f"{DELETE}/-/{s.team_id}") is not None, message="the deletion job")

    def reinstall(session: Any) -> None:
        row = installations.find_installation(session, s.team_id, active_only=False)
        assert row is not None
        row.bot_token, row.active = s.bot_token, True
        session.add(row)

    d.bot.db(reinstall)
    d.bot.call(scheduler.run_now(f"{DELETE}/-/{s.team_id}"))
    assert _rows(d, s.team_id)["premortems"] == 1


def test_export_writes_the_workspace_data_without_its_tokens(driver: Driver, tmp_path: Path) -> None:
    d, s = driver, driver.seeded
    d.start(s.manager, s.lead)
    d.answer(s.lead, [{"other": "Queue", "why": "one consumer"}])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SCALEBOT_", "DATABASE_URL"))}
    env.update(DATABASE_URL=d.bot.settings.database_url, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "export", "--workspace", s.team_id],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert s.bot_token not in result.stdout and "bot_token" not in result.stdout
    document = json.loads(result.stdout)
    assert document["workspace_id"] == s.team_id
    assert set(document["tables"]) == set(WORKSPACE_TABLES)
    assert [r["component"] for r in document["tables"]["premortem_risks"]] == ["Queue"]
    assert document["tables"]["installations"][0]["workspace_id"] == s.team_id
