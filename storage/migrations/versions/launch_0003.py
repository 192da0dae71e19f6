"""A launch step remembers the pre-mortem it started, so that pre-mortem's predictions resolve at the
launch's T+30 (and move when the launch moves).

Revision ID: launch_0003
Revises: launch_0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "launch_0003"
down_revision = "launch_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("launch_steps") as batch:
        batch.add_column(sa.Column("premortem_id", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("launch_steps") as batch:
        batch.drop_column("premortem_id")
