"""Column types shared by every table module."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class AwareDateTime(TypeDecorator[datetime]):
    """A moment in UTC: stored as `TIMESTAMP WITH TIME ZONE`, always read back zone-aware.

    SQLite keeps no zone (SQLAlchemy writes the wall-clock digits), so a value is turned to UTC before
    it is written and read back as UTC; PostgreSQL's answer, in the session's zone, is turned to UTC
    too. A naive value is taken to be UTC already (every clock in the app is UTC). The column is the
    `sa.DateTime(timezone=True)` the migrations create, so switching a model to it needs no migration.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - the driver always parses it
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        return as_utc(value)


def as_utc(value: datetime) -> datetime:
    """The same moment in UTC; a naive value is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
