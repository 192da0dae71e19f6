"""Checks in the database, on SQLite and PostgreSQL: one workspace never sees another's, answers racing
each other leave one row, and a check is finished exactly once, never with an answer after it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import checklist as repo
from storage import migrate
from storage.db import Database

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        f"sqlite:///{tmp_path}/c.sqlite3"
        if request.param == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    database = Database(url)
    migrate.upgrade(database)
    yield database
    database.close()


def new_check(db: Database, workspace: str = "T0001") -> int:
    row = db.call(
        repo.create_check, workspace, "C0PAYMENTS", "Payments", "default", "{}", "d1", "U0LEAD1", T0
    )
    db.call(repo.set_root, workspace, row.id, "1.0", "r", None)
    assert row.id is not None
    return row.id


def test_another_workspace_cannot_read_or_answer_a_check(db: Database) -> None:
    check = new_check(db, "T0001")
    assert db.call(repo.load, "T0002", check) is None
    assert db.call(repo.record_answer, "T0002", check, "b2c", "yes", "U0X", T0) == "unknown"
    assert db.call(repo.cancel, "T0002", check, "U0X", T0) is False
    assert db.call(repo.open_checks, "T0002", "C0PAYMENTS") == []
    assert db.call(repo.history, "T0002", "C0PAYMENTS", 10) == []
    assert db.call(repo.load, "T0001", check).answers == []


def test_answers_racing_on_one_question_leave_one_row_with_the_last_write(db: Database) -> None:
    check = new_check(db)
    barrier = threading.Barrier(8)
    results: list[str] = []

    def answer(n: int) -> None:
        barrier.wait()
        results.append(
            db.call(
                repo.record_answer,
                "T0001",
                check,
                "b2c",
                ["yes", "no"][n % 2],
                f"U0P{n}",
                T0 + timedelta(seconds=n),
            )
        )

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["recorded"] * 8
    answers = db.call(repo.load, "T0001", check).answers
    assert len(answers) == 1
    assert answers[0].answered_by in {f"U0P{n}" for n in range(8)}


def test_a_check_is_finished_once_and_no_answer_lands_after_it(db: Database) -> None:
    check = new_check(db)
    db.call(repo.record_answer, "T0001", check, "b2c", "yes", "U0LEAD1", T0)
    finishers: list[object] = []
    barrier = threading.Barrier(4)

    def finish() -> None:
        barrier.wait()
        decided = db.call(
            repo.finish_if_complete, "T0001", check, lambda row, answers: ("relax", 0.0, "1K"), T0
        )
        finishers.append(decided)

    threads = [threading.Thread(target=finish) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for f in finishers if f is not None) == 1
    assert db.call(repo.record_answer, "T0001", check, "b2c", "no", "U0LATE1", T0) == "closed"
    loaded = db.call(repo.load, "T0001", check)
    assert (loaded.check.status, loaded.check.verdict, loaded.check.band) == ("done", "relax", "1K")
    assert [(a.value, a.answered_by) for a in loaded.answers] == [("yes", "U0LEAD1")]
    assert db.call(repo.history, "T0001", "C0PAYMENTS", 10)[0][1] == {"b2c"}
