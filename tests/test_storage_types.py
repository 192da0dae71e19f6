"""The one datetime column type: UTC-aware values back from SQLite and PostgreSQL, no migration needed."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, select

import storage
from storage import jobs as claims
from storage import migrate
from storage.db import Database
from storage.localslack import LocalSlackStateRow, save_state
from storage.types import AwareDateTime

NEW_YORK = ZoneInfo("America/New_York")
T0 = datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/scalebot.sqlite3"
    else:
        url = str(request.getfixturevalue("pg_url"))
    database = Database(url)
    migrate.upgrade(database)
    yield database
    database.close()


def test_a_moment_in_another_zone_comes_back_as_the_same_moment_in_utc(db: Database) -> None:
    in_new_york = T0.astimezone(NEW_YORK)
    with db.session() as session:
        save_state(session, "T1", "{}", in_new_york)
    with db.session() as session:
        row = session.exec(select(LocalSlackStateRow)).one()
    assert row.updated_at == T0
    assert row.updated_at.tzinfo == UTC
    assert row.updated_at.microsecond == 123456


def test_a_naive_moment_is_taken_as_utc(db: Database) -> None:
    with db.session() as session:
        save_state(session, "T1", "{}", T0.replace(tzinfo=None))
    with db.session() as session:
        row = session.exec(select(LocalSlackStateRow)).one()
    assert row.updated_at == T0 and row.updated_at.tzinfo == UTC


def test_comparisons_in_queries_use_the_same_moment_whatever_the_zone(db: Database) -> None:
    """The claim key (job, run time) is one moment: a run claimed in UTC is taken in New York time."""
    lease = timedelta(minutes=5)
    with db.session() as session:
        assert claims.claim(session, "digest:T1", T0, "a", T0, lease)
    with db.session() as session:
        assert not claims.claim(session, "digest:T1", T0.astimezone(NEW_YORK), "b", T0, lease)
    with db.session() as session:
        claims.finish(session, "digest:T1", T0.astimezone(NEW_YORK), "a", T0 + lease)
    with db.session() as session:
        row = session.exec(select(claims.JobRunRow)).one()
    assert row.run_time == T0 and row.run_time.tzinfo == UTC
    assert row.status == "done" and row.finished_at == T0 + lease
    assert row.finished_at is not None and row.finished_at.tzinfo == UTC


def _aware_columns() -> list[tuple[str, str]]:
    for module in pkgutil.iter_modules(storage.__path__):
        if not module.name.startswith("_") and module.name != "migrations":
            importlib.import_module(f"storage.{module.name}")
    return [
        (table.name, column.name)
        for table in SQLModel.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, AwareDateTime)
    ]


def test_every_datetime_column_of_the_models_matches_the_migrations(db: Database) -> None:
    aware = _aware_columns()
    assert ("checklist_checks", "started_at") in aware and ("job_runs", "run_time") in aware
    plain = [
        (table.name, column.name)
        for table in SQLModel.metadata.tables.values()
        for column in table.columns
        if column.type.python_type is datetime and not isinstance(column.type, AwareDateTime)
    ]
    assert plain == []  # every datetime column of every table is the aware type
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs: list[Any] = compare_metadata(context, SQLModel.metadata)
    flat = [d for group in diffs for d in (group if isinstance(group, list) else [group])]
    type_changes = [(d[2], d[3]) for d in flat if d[0] == "modify_type"]
    assert [c for c in type_changes if c in aware] == []
