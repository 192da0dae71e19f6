"""Teams met in each workspace and what setup stored for them.

Revision ID: 0002_teams
Revises: 0001_foundation
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_teams"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("setup_json", sa.Text),
        sa.Column("setup_by", sa.String(32)),
        sa.Column("setup_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("workspace_id", "channel_id", name="uq_teams_workspace_channel"),
    )
    op.create_index("ix_teams_workspace_id", "teams", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_teams_workspace_id", "teams")
    op.drop_table("teams")
