"""Weekly snapshots of a team's signal values, kept for the digest's "change since last week"."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from storage import metrics as repo
from storage import migrate
from storage.db import Database

MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        f"sqlite:///{tmp_path}/metrics.sqlite3"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    database = Database(url)
    assert "metrics_0001" in migrate.upgrade(database)
    yield database
    database.close()


def save(db: Database, when: datetime, value: float, workspace: str = "T0001") -> repo.MetricsSnapshotRow:
    values = {
        "db_connections": {"value": value, "status": "ok"},
        "error_rate": {"value": math.nan, "status": "n/a"},
    }
    return db.call(repo.save_snapshot, workspace, "C0PAYMENTS", "Payments", "prom", when, values)


def test_a_week_keeps_its_latest_reading(db: Database) -> None:
    save(db, MONDAY, 0.4)
    save(db, MONDAY + timedelta(days=3), 0.5)
    save(db, MONDAY + timedelta(days=1), 0.45)  # read earlier, stored later: does not win
    row = db.call(repo.snapshot_for_week, "T0001", "C0PAYMENTS", date(2026, 11, 16))
    assert row is not None
    assert row.values == {
        "db_connections": {"value": 0.5, "status": "ok"},
        "error_rate": {"value": None, "status": "n/a"},
    }
    assert row.read_at == MONDAY + timedelta(days=3)


def test_snapshots_belong_to_their_workspace(db: Database) -> None:
    save(db, MONDAY, 0.4, workspace="T0002")
    assert db.call(repo.snapshot_for_week, "T0001", "C0PAYMENTS", date(2026, 11, 16)) is None


def test_the_week_starts_on_monday_in_utc() -> None:
    assert repo.week_start(datetime(2026, 11, 22, 23, 30, tzinfo=UTC)) == date(2026, 11, 16)  # Sunday
    assert repo.week_start(datetime(2026, 11, 23, 0, 30, tzinfo=UTC)) == date(2026, 11, 23)


def test_two_replicas_saving_the_same_week_at_once_end_with_one_row(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    save(db, MONDAY, 0.4)  # the other replica's row, committed after our first look
    real = repo.snapshot_for_week
    looks: list[int] = []

    def first_look_misses(*args: object) -> repo.MetricsSnapshotRow | None:
        looks.append(1)
        return None if len(looks) == 1 else real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(repo, "snapshot_for_week", first_look_misses)
    save(db, MONDAY + timedelta(hours=1), 0.6)
    monkeypatch.setattr(repo, "snapshot_for_week", real)
    row = db.call(repo.snapshot_for_week, "T0001", "C0PAYMENTS", date(2026, 11, 16))
    assert row is not None and row.values["db_connections"]["value"] == 0.6
