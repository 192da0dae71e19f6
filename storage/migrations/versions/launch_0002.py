"""Launch times are stored with their zone (`timestamp with time zone`), like every other table's, so they
read back as the same UTC moment whatever the database session's zone.

On PostgreSQL the columns were `timestamp without time zone` holding UTC: each is converted in place
(`AT TIME ZONE 'UTC'`). SQLite keeps no zone either way, so nothing changes there.

Revision ID: launch_0002
Revises: launch_0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "launch_0002"
down_revision = "launch_0001"
branch_labels = None
depends_on = None

COLUMNS = {
    "launches": (("created_at", False), ("updated_at", False)),
    "launch_steps": (("ran_at", True),),
    "launch_trigger_notices": (("breached_since", True), ("posted_at", True)),
}


def _convert(to_zone: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        for column, nullable in columns:
            op.alter_column(
                table,
                column,
                type_=sa.DateTime(timezone=to_zone),
                existing_type=sa.DateTime(timezone=not to_zone),
                existing_nullable=nullable,
                postgresql_using=f"{column} AT TIME ZONE 'UTC'",
            )


def upgrade() -> None:
    _convert(to_zone=True)


def downgrade() -> None:
    _convert(to_zone=False)
