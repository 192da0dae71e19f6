"""Storage on SQLite and PostgreSQL: migrations, claims that fire once, data that survives a restart."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import select

from storage import installations, migrate
from storage import jobs as claims
from storage.db import Database

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/scalebot.sqlite3"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    migrate.upgrade(database)
    yield database
    database.close()


def test_sqlite_connections_use_wal_a_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    from sqlalchemy import text

    database = Database(f"sqlite:///{tmp_path}/db.sqlite3")
    try:
        with database.engine.connect() as conn:
            pragma = {
                name: conn.execute(text(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys")
            }
        assert pragma == {"journal_mode": "wal", "busy_timeout": 5000, "foreign_keys": 1}
    finally:
        database.close()


def test_migrate_command_on_an_empty_database(db_url: str) -> None:
    env = {"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}
    first = subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"], env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    every = sorted(rev.revision for rev in ScriptDirectory.from_config(migrate._config()).walk_revisions())
    assert sorted(first.stdout.strip().removeprefix("applied: ").split(", ")) == every
    second = subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"], env=env, capture_output=True, text=True
    )
    assert second.stdout.strip() == "already at head"
    database = Database(db_url)
    assert {"installations", "oauth_states", "job_runs", "scheduled_jobs", "teams"} <= set(
        inspect(database.engine).get_table_names()
    )
    assert migrate.pending(database) == set()
    database.close()


def test_replicas_migrating_together_migrate_once(db_url: str) -> None:
    errors: list[BaseException] = []
    applied: list[list[str]] = []

    def replica() -> None:
        database = Database(db_url)
        try:
            applied.append(migrate.upgrade(database))
        except BaseException as exc:
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(1 for a in applied if a) == 1, applied


def test_installations_survive_a_restart(db_url: str) -> None:
    first = Database(db_url)
    migrate.upgrade(first)
    row = installations.InstallationRow(
        workspace_id="T0001", bot_token="xoxb-test-1", bot_user_id="U0BOT", installed_at=T0
    )
    first.call(installations.save_installation, row)
    first.close()

    second = Database(db_url)
    found = second.call(installations.find_installation, "T0001")
    assert found is not None and found.bot_token == "xoxb-test-1"
    assert second.call(installations.find_installation, "T0002") is None
    second.close()


def test_deactivation_is_idempotent_and_a_reinstall_reactivates(db: Database) -> None:
    db.call(
        installations.save_installation,
        installations.InstallationRow(workspace_id="T1", bot_token="a", installed_at=T0),
    )
    assert db.call(installations.deactivate, "T1", "tokens_revoked", T0) is True
    assert db.call(installations.deactivate, "T1", "app_uninstalled", T0) is False
    assert db.call(installations.find_installation, "T1") is None
    inactive = db.call(installations.find_installation, "T1", active_only=False)
    assert inactive is not None and inactive.deactivated_reason == "tokens_revoked"
    db.call(
        installations.save_installation,
        installations.InstallationRow(workspace_id="T1", bot_token="b", installed_at=T0),
    )
    assert db.call(installations.find_installation, "T1").bot_token == "b"  # type: ignore[union-attr]


def test_oauth_state_works_once_and_expires(db: Database) -> None:
    state = db.call(installations.issue_state, T0, timedelta(minutes=10))
    assert db.call(installations.consume_state, state, T0 + timedelta(minutes=1)) is True
    assert db.call(installations.consume_state, state, T0 + timedelta(minutes=1)) is False
    old = db.call(installations.issue_state, T0, timedelta(minutes=10))
    assert db.call(installations.consume_state, old, T0 + timedelta(minutes=11)) is False
    # States left unused (the install page opened and abandoned) are swept when a new one is issued.
    for _ in range(3):
        db.call(installations.issue_state, T0, timedelta(minutes=10))
    kept = db.call(installations.issue_state, T0 + timedelta(minutes=11), timedelta(minutes=10))
    rows = db.call(lambda s: list(s.exec(select(installations.OAuthStateRow))))
    assert [r.state for r in rows] == [kept]


def test_a_run_is_claimed_once_and_an_expired_lease_is_taken_over_once(db: Database) -> None:
    lease = timedelta(seconds=60)
    assert db.call(claims.claim, "digest/T1/weekly", T0, "a", T0, lease) is True
    assert db.call(claims.claim, "digest/T1/weekly", T0, "b", T0, lease) is False
    # "a" died: after its lease, exactly one of two schedulers takes over.
    later = T0 + timedelta(seconds=61)
    takeovers = [db.call(claims.claim, "digest/T1/weekly", T0, owner, later, lease) for owner in ("b", "c")]
    assert takeovers == [True, False]
    db.call(claims.finish, "digest/T1/weekly", T0, "b", later)
    assert db.call(claims.claim, "digest/T1/weekly", T0, "d", T0 + timedelta(days=1), lease) is False
    (run,) = db.call(claims.runs_of, "digest/T1/weekly")
    assert run.status == "done" and run.owner == "b" and run.attempts == 2 and run.run_time == T0


def test_concurrent_claims_on_one_key_give_one_winner(db: Database) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def contender(i: int) -> None:
        barrier.wait()
        results.append(db.call(claims.claim, "job/-/x", T0, f"o{i}", T0, timedelta(seconds=60)))

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1


def test_the_premortem_zone_migration_downgrades_without_losing_mitigation_events(db: Database) -> None:
    from alembic import command
    from sqlalchemy import text

    at = {"at": T0, "due": T0.date()}
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO premortems (id, workspace_id, channel_id, team_name, status, started_by, "
                "started_at, deadline, updated_at) VALUES (1, 'T1', 'C1', 'Payments', 'planning', 'U1', "
                ":at, :at, :at)"
            ),
            at,
        )
        conn.execute(
            text(
                "INSERT INTO premortem_mitigations (id, workspace_id, channel_id, premortem_id, group_id, "
                "title, plan, owner, due, verification, status, created_by, created_at, updated_by, "
                "updated_at, owner_tz) VALUES (1, 'T1', 'C1', 1, 'g1', 'DB', 'shard', 'U1', :due, 'manual', "
                "'open', 'U1', :at, 'U1', :at, 'Europe/Berlin')"
            ),
            at,
        )
        conn.execute(
            text(
                "INSERT INTO premortem_mitigation_events (workspace_id, mitigation_id, status, by, at) "
                "VALUES ('T1', 1, 'open', 'U1', :at)"
            ),
            at,
        )
        command.downgrade(migrate._config(conn), "premortem_0001")
    with db.engine.connect() as conn:
        assert "owner_tz" not in {c["name"] for c in inspect(conn).get_columns("premortem_mitigations")}
        assert conn.execute(text("SELECT count(*) FROM premortem_mitigation_events")).scalar() == 1
    migrate.upgrade(db)  # and back up again
