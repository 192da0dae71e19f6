"""Live metrics: a weekly snapshot of each team's signal values.

Revision ID: metrics_0001
Revises: 0002_teams
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "metrics_0001"
down_revision = "0002_teams"
branch_labels = ("metrics",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metrics_snapshots",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("week_start", sa.Date, nullable=False),
        sa.Column("team_name", sa.String(80), nullable=False),
        sa.Column("source", sa.String(80), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("values_json", sa.Text, nullable=False),
        sa.UniqueConstraint(
            "workspace_id", "channel_id", "week_start", name="uq_metrics_snapshots_team_week"
        ),
    )
    op.create_index("ix_metrics_snapshots_workspace_id", "metrics_snapshots", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_metrics_snapshots_workspace_id", "metrics_snapshots")
    op.drop_table("metrics_snapshots")
