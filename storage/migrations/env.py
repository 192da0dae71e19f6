"""Alembic environment: runs on the connection `storage.migrate` hands it (never at import time)."""

from __future__ import annotations

import importlib
import pkgutil

from alembic import context
from sqlmodel import SQLModel

import storage

# Every table module in storage/ registers its tables on SQLModel.metadata (for autogenerate).
for module in pkgutil.iter_modules(storage.__path__):
    if not module.name.startswith("_") and module.name != "migrations":
        importlib.import_module(f"storage.{module.name}")

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `scalebot migrate` (storage.migrate.upgrade)")
    applied = context.config.attributes.get("applied")
    context.configure(
        connection=connection,
        on_version_apply=(lambda *, step, **_: applied.append(step.up_revision_id))
        if applied is not None
        else None,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
