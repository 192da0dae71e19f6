"""Digest at company size: each week's state (for "what changed since last week") and the workspace's
scale readiness canvas, and the channel a manager chose for their own digest.

Revision ID: digest_0002
Revises: digest_0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "digest_0002"
down_revision = "digest_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digest_runs") as batch:
        batch.add_column(sa.Column("state_json", sa.Text))
    op.create_table(
        "digest_canvases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("canvas_id", sa.String(32)),
        sa.Column("foreign_id", sa.String(32)),
        sa.Column("intent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("week", sa.String(8)),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("edited_at", sa.DateTime(timezone=True)),
        sa.Column("edits", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unavailable", sa.String(64)),
        sa.UniqueConstraint("workspace_id", name="uq_digest_canvases_workspace"),
    )
    op.create_table(
        "digest_manager_channels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("workspace_id", "user_id", name="uq_digest_manager_channels_user"),
    )


def downgrade() -> None:
    op.drop_table("digest_manager_channels")
    op.drop_table("digest_canvases")
    with op.batch_alter_table("digest_runs") as batch:
        batch.drop_column("state_json")
