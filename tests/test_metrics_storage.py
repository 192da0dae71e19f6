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


def _keep(value: float, when: datetime, team: str = "Payments") -> repo.Keep:
    return (team, "prom", when, {"p95_latency": {"value": value, "status": "ok"}})


def test_a_digest_keeps_every_teams_reading_at_once_and_a_newer_one_stands(db: Database) -> None:
    """`keep_many`: a whole digest's readings in one transaction; a week that already has a row is
    updated (unless its reading is newer), the others are inserted."""
    db.call(repo.save_snapshot, "T0001", "C0SEARCH", "Search", "prom", MONDAY + timedelta(days=2), {})
    keeps = {f"C{i:04d}": _keep(0.1 * i, MONDAY + timedelta(days=1), f"Team {i}") for i in range(50)}
    keeps["C0SEARCH"] = _keep(9.0, MONDAY + timedelta(days=1), "Search")  # older than the stored one
    keeps["C0PAYMENTS"] = _keep(0.3, MONDAY + timedelta(days=1))
    save(db, MONDAY, 0.2)  # older: replaced
    db.call(repo.keep_many, "T0001", keeps)

    week = date(2026, 11, 16)
    rows = db.call(repo.snapshots_since, "T0001", week)
    assert len(rows) == 52 and all(len(found) == 1 for found in rows.values())
    assert rows["C0007"][0].values["p95_latency"]["value"] == pytest.approx(0.7)
    assert rows["C0007"][0].team_name == "Team 7"
    assert rows["C0PAYMENTS"][0].values["p95_latency"]["value"] == 0.3
    assert rows["C0SEARCH"][0].values == {}  # its own reading was newer
    assert db.call(repo.snapshots_since, "T0002", week) == {}


def test_keeping_many_when_another_writer_inserted_one_meanwhile_loses_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk insert meets a row that another replica inserted after the first look: the insert is
    undone and each reading is kept one by one, the newer reading winning in each week."""
    later = MONDAY + timedelta(days=3)
    real_select = repo.select

    def other_replica_writes_first(*args: object) -> object:
        monkeypatch.setattr(repo, "select", real_select)
        db.call(repo.save_snapshot, "T0001", "C0002", "Team 2", "prom", later, {})
        return real_select(*args)  # type: ignore[call-overload]

    monkeypatch.setattr(repo, "select", other_replica_writes_first)
    keeps = {f"C{i:04d}": _keep(float(i), MONDAY + timedelta(days=1)) for i in range(5)}
    db.call(repo.keep_many, "T0001", keeps)
    rows = db.call(repo.snapshots_since, "T0001", date(2026, 11, 16))
    assert sorted(rows) == [f"C{i:04d}" for i in range(5)]
    assert rows["C0002"][0].read_at == later  # the other replica's newer reading stands
    assert rows["C0003"][0].values["p95_latency"]["value"] == 3.0


def test_the_comparison_reads_last_week_and_the_charts_weeks_from_the_rows() -> None:
    def row(days: int, value: float | None) -> repo.MetricsSnapshotRow:
        when = MONDAY + timedelta(days=days)
        return repo.MetricsSnapshotRow(
            workspace_id="T0001",
            channel_id="C0PAYMENTS",
            week_start=repo.week_start(when),
            team_name="Payments",
            source="prom",
            read_at=when,
            values_json=repo._clean({"p95_latency": {"value": value, "status": "ok"}}),
        )

    rows = [row(-21, 0.1), row(-14, None), row(-5, 0.3), row(0, 0.4)]
    last_week = (MONDAY - timedelta(days=7), MONDAY)
    seen = repo.compare(rows, last_week=last_week, since=date(2026, 10, 26), signal="p95_latency")
    assert seen.previous == {"p95_latency": {"value": 0.3, "status": "ok"}} and seen.last_week
    assert seen.history == {
        date(2026, 10, 26): 0.1,
        date(2026, 11, 2): None,
        date(2026, 11, 9): 0.3,
        date(2026, 11, 16): 0.4,
    }
    # nothing last week: the latest earlier reading since the window's start, not flagged as last week's
    earlier = repo.compare(rows[:2], last_week=last_week, since=date(2026, 10, 26), signal="p95_latency")
    assert earlier.previous_read_at == MONDAY - timedelta(days=14) and not earlier.last_week
