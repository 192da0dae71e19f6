"""Pre-mortem mitigations keep their owner's Slack time zone, so "overdue" means past the due date where
the owner is, not in UTC. Rows saved before have none and are judged in UTC, as they were.

Revision ID: premortem_0002
Revises: premortem_0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "premortem_0002"
down_revision = "premortem_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("premortem_mitigations", sa.Column("owner_tz", sa.String(64)))


def downgrade() -> None:
    # In place, not in batch mode: on SQLite a batch rebuild drops the table, and with foreign keys on
    # that deletes every mitigation's events (ON DELETE CASCADE). SQLite 3.35+ drops a column in place.
    op.drop_column("premortem_mitigations", "owner_tz")
