"""Schema migrations: `upgrade()` under a lock so replicas starting together migrate once."""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from storage.db import Database

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant works; it names "the scalebot migration lock" among PostgreSQL advisory locks.
ADVISORY_LOCK_KEY = 0x5CA1EB07


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def script_heads() -> set[str]:
    return set(ScriptDirectory.from_config(_config()).get_heads())


def current_heads(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def pending(db: Database) -> set[str]:
    """Heads the database has not reached yet (empty when migrations are at head)."""
    return script_heads() - current_heads(db)


@contextlib.contextmanager
def _sqlite_file_lock(db: Database) -> Iterator[None]:
    database = db.engine.url.database
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _upgrade_locked(conn: Connection) -> list[str]:
    cfg = _config(conn)
    applied: list[str] = []
    cfg.attributes["applied"] = applied
    command.upgrade(cfg, "heads")
    return applied


def upgrade(db: Database) -> list[str]:
    """Bring the schema to every head; returns the revisions applied (none if already there)."""
    if db.is_sqlite:
        with _sqlite_file_lock(db), db.engine.begin() as conn:
            applied = _upgrade_locked(conn)
    else:
        with db.engine.begin() as conn:
            # Transaction-level advisory lock: a second replica waits here until the first commits,
            # then finds nothing left to do.
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
            applied = _upgrade_locked(conn)
    if applied:
        log.info("database migrated", extra={"revisions": ",".join(applied)})
    return applied
