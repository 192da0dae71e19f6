"""Launches (`/scale-check launch`), their scheduled steps, and the metric triggers' memory.

Revision ID: launch_0001
Revises: 0002_teams
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "launch_0001"
down_revision = "0002_teams"
branch_labels = ("launch",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "launches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("team_name", sa.String, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("launch_date", sa.Date, nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("multiple", sa.Float, nullable=False),
        sa.Column("leads_json", sa.String, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("root_ts", sa.String(32)),
        sa.Column("permalink", sa.String),
    )
    op.create_index("ix_launches_workspace_id", "launches", ["workspace_id"])
    op.create_table(
        "launch_steps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("launch_id", sa.Integer, sa.ForeignKey("launches.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("due_ts", sa.Integer, nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ran_at", sa.DateTime),
        sa.Column("note", sa.Text),
        sa.UniqueConstraint("launch_id", "step", name="uq_launch_steps_step"),
    )
    op.create_table(
        "launch_trigger_notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("breached_since", sa.DateTime),
        sa.Column("posted_at", sa.DateTime),
        sa.UniqueConstraint("workspace_id", "channel_id", "key", name="uq_launch_trigger_notices_key"),
    )


def downgrade() -> None:
    op.drop_table("launch_trigger_notices")
    op.drop_table("launch_steps")
    op.drop_index("ix_launches_workspace_id", "launches")
    op.drop_table("launches")
