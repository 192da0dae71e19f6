"""The embedded workspace of local mode (the local console's Slack), stored as one JSON document.

Revision ID: localslack_0001
Revises: 0002_teams
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "localslack_0001"
down_revision = "0002_teams"
branch_labels = ("localslack",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "localslack_state",
        sa.Column("workspace_id", sa.String(32), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("localslack_state")
