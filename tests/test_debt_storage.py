"""Tech-debt storage on SQLite and PostgreSQL: corrections keep every value, imports record once even
when two replicas import at the same moment, a run is nudged once (however it grows or which replica
claims it), workspaces never mix, and the nudges of a database made before debt_0002 carry over."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

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


UNDER_7_8 = [(7, "under"), (8, "under")]


def test_a_run_is_claimed_for_one_nudge_and_its_buttons_set_state_once(db: Database) -> None:
    claim = db.call(status_repo.claim_nudge, "T0001", "C0PAY", UNDER_7_8, "S1 10%, S2 15%", "under", T0)
    assert claim is not None and claim.id is not None
    assert (claim.run_start_sprint_id, claim.run_length) == (7, 2)
    assert (
        db.call(status_repo.claim_nudge, "T0001", "C0PAY", UNDER_7_8, "S1 10%, S2 15%", "under", T0) is None
    )
    _, changed = db.call(status_repo.acknowledge, "T0001", claim.id, "U0LEAD1", T0)
    again, changed_again = db.call(status_repo.acknowledge, "T0001", claim.id, "U0LEAD2", T0)
    assert (changed, changed_again, again.acknowledged_by) == (True, False, "U0LEAD1")
    assert db.call(status_repo.acknowledge, "T0002", claim.id, "U0LEAD1", T0) == (
        None,
        False,
    )  # not that workspace's


def test_a_run_overlapping_a_nudged_one_in_the_same_direction_cannot_be_claimed_again(db: Database) -> None:
    first = db.call(status_repo.claim_nudge, "T0001", "C0PAY", UNDER_7_8, "S7, S8", "under", T0)
    assert first is not None
    # Sprint 6 back-filled under the band: the run starts earlier but holds 7 and 8.
    backfilled = [(6, "under"), *UNDER_7_8]
    assert db.call(status_repo.claim_nudge, "T0001", "C0PAY", backfilled, "S6, S7, S8", "under", T0) is None
    assert [r.sprint_id for r in db.call(status_repo.nudged_sprints, "T0001", "C0PAY")] == [7, 8]
    # The same sprints corrected over the band: a different run, and it may start at the same sprint.
    over = db.call(
        status_repo.claim_nudge, "T0001", "C0PAY", [(7, "over"), (8, "over")], "S7, S8", "over", T0
    )
    assert over is not None and over.run_start_sprint_id == 7
    # Another team's sprint ids are its own.
    assert db.call(status_repo.claim_nudge, "T0001", "C0OTHER", UNDER_7_8, "S7, S8", "under", T0) is not None


def test_two_replicas_claiming_overlapping_runs_at_once_post_one_nudge(db: Database) -> None:
    runs = [UNDER_7_8, [(6, "under"), *UNDER_7_8], UNDER_7_8, [(6, "under"), *UNDER_7_8]]
    claimed: list[status_repo.DebtNudgeRow | None] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(runs))

    def replica(run: list[tuple[int, str]]) -> None:
        start.wait()
        try:
            claimed.append(db.call(status_repo.claim_nudge, "T0001", "C0PAY", run, "", "under", T0))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(run,)) for run in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(1 for c in claimed if c is not None) == 1
    assert len(db.call(status_repo.nudges, "T0001", "C0PAY")) == 1


def test_a_nudge_whose_message_failed_gives_its_sprints_back(db: Database) -> None:
    claim = db.call(status_repo.claim_nudge, "T0001", "C0PAY", UNDER_7_8, "", "under", T0)
    assert claim is not None and claim.id is not None
    db.call(status_repo.drop_nudge, "T0001", claim.id)
    assert db.call(status_repo.nudged_sprints, "T0001", "C0PAY") == []
    assert db.call(status_repo.claim_nudge, "T0001", "C0PAY", UNDER_7_8, "", "under", T0) is not None


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_migration_carries_nudges_of_a_database_made_before_it_over(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    url = (
        f"sqlite:///{tmp_path}/old.sqlite3" if backend == "sqlite" else str(request.getfixturevalue("pg_url"))
    )
    database = Database(url)
    try:
        with database.engine.begin() as conn:
            command.upgrade(migrate._config(conn), "debt_0001")  # the schema as first shipped
            for start, direction in ((7, "under"), (20, "outside")):
                conn.execute(
                    text(
                        "INSERT INTO debt_nudges (workspace_id, channel_id, run_start_sprint_id, run_names, "
                        "run_length, direction, created_at, message_ts) "
                        "VALUES ('T0001', 'C0PAY', :start, 'S', 2, :direction, :at, '1.0')"
                    ),
                    {"start": start, "direction": direction, "at": T0},
                )
        assert "debt_0002" in migrate.upgrade(database)
        marks = {
            (r.nudge_id, r.sprint_id, r.status)
            for r in database.call(status_repo.nudged_sprints, "T0001", "C0PAY")
        }
        ids = {n.run_start_sprint_id: n.id for n in database.call(status_repo.nudges, "T0001", "C0PAY")}
        assert marks == {(ids[7], 7, "under"), (ids[20], 20, "under"), (ids[20], 20, "over")}
        # The run nudged before, now seen from an earlier first sprint, is still the same run.
        assert (
            database.call(
                status_repo.claim_nudge, "T0001", "C0PAY", [(6, "under"), (7, "under")], "", "under", T0
            )
            is None
        )
        # The old one-nudge-per-first-sprint key is gone.
        assert (
            database.call(status_repo.claim_nudge, "T0001", "C0PAY", [(7, "over")], "", "over", T0)
            is not None
        )
    finally:
        database.close()
