"""Tech-debt storage on SQLite and PostgreSQL: corrections keep every value, imports record once even
when two replicas import at the same moment, a run is nudged once, workspaces never mix."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from storage import debt as repo
from storage import debt_status as status_repo
from storage import migrate
from storage.db import Database

T0 = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        f"sqlite:///{tmp_path}/debt.sqlite3"
        if request.param == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    database = Database(url)
    migrate.upgrade(database)
    yield database
    database.close()


def typed(sprint: str, debt: int, capacity: int, author: str, minutes: int = 0) -> repo.SprintWrite:
    return repo.SprintWrite(
        sprint, Decimal(capacity), Decimal(debt), "points", "slack", author, T0 + timedelta(minutes=minutes)
    )


def imported(sprint: str, debt: int, capacity: int, minutes: int = 0) -> repo.SprintWrite:
    return repo.SprintWrite(
        sprint,
        Decimal(capacity),
        Decimal(debt),
        "points",
        "jira_cloud",
        "jira",
        T0 + timedelta(minutes=minutes),
        starts=date(2026, 3, 2),
        ends=date(2026, 3, 13),
        issues=9,
        unestimated=1,
        unestimated_rule="skipped",
    )


def test_a_sprint_name_written_again_is_a_correction_that_keeps_both_values(db: Database) -> None:
    first = db.call(repo.record_write, "T0001", "C0PAY", typed("Sprint 42", 10, 50, "U0LEAD1"))
    second = db.call(repo.record_write, "T0001", "C0PAY", typed("  sprint   42 ", 12, 50, "U0LEAD2", 5))
    assert (first.created, first.replaced, second.created, second.replaced) == (True, 0, False, 1)
    [(sprint, writes)] = db.call(repo.sprints, "T0001", "C0PAY")
    assert sprint.name == "Sprint 42"
    assert [(w.debt, w.author) for w in writes] == [(10.0, "U0LEAD1"), (12.0, "U0LEAD2")]
    assert db.call(repo.sprints, "T0002", "C0PAY") == []  # another workspace sees nothing


def test_an_unchanged_import_records_nothing_even_from_two_replicas_at_once(db: Database) -> None:
    outcomes: list[repo.WriteOutcome] = []
    errors: list[BaseException] = []

    def replica() -> None:
        try:
            outcomes.append(db.call(repo.record_write, "T0001", "C0PAY", imported("PAY Sprint 12", 5, 18)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    [(sprint, writes)] = db.call(repo.sprints, "T0001", "C0PAY")
    assert len(writes) == 1
    assert sum(1 for o in outcomes if o.entry_id is not None) == 1
    assert (sprint.starts, sprint.ends) == (date(2026, 3, 2), date(2026, 3, 13))
    # Later, the same figure again: nothing. A changed one: a new write.
    assert db.call(repo.record_write, "T0001", "C0PAY", imported("PAY Sprint 12", 5, 18, 60)).entry_id is None
    assert (
        db.call(repo.record_write, "T0001", "C0PAY", imported("PAY Sprint 12", 6, 18, 90)).entry_id
        is not None
    )


def test_a_run_is_claimed_for_one_nudge_and_its_buttons_set_state_once(db: Database) -> None:
    claim = db.call(status_repo.claim_nudge, "T0001", "C0PAY", 7, "S1 10%, S2 15%", 2, "under", T0)
    assert claim is not None and claim.id is not None
    assert db.call(status_repo.claim_nudge, "T0001", "C0PAY", 7, "S1 10%, S2 15%", 2, "under", T0) is None
    _, changed = db.call(status_repo.acknowledge, "T0001", claim.id, "U0LEAD1", T0)
    again, changed_again = db.call(status_repo.acknowledge, "T0001", claim.id, "U0LEAD2", T0)
    assert (changed, changed_again, again.acknowledged_by) == (True, False, "U0LEAD1")
    assert db.call(status_repo.acknowledge, "T0002", claim.id, "U0LEAD1", T0) == (
        None,
        False,
    )  # not that workspace's
