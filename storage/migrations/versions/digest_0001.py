"""Weekly digest: per-workspace schedule overrides, each week's parent message and what it posted.

Revision ID: digest_0001
Revises: 0002_teams
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "digest_0001"
down_revision = "0002_teams"
branch_labels = ("digest",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_schedules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32)),
        sa.Column("day", sa.String(12), nullable=False),
        sa.Column("time", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("managers_json", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_digest_schedules_workspace_id", "digest_schedules", ["workspace_id"], unique=True)
    op.create_table(
        "digest_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("channel_id", sa.String(32)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(32)),
        sa.Column("scheduled_for", sa.DateTime(timezone=True)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parent_intent_at", sa.DateTime(timezone=True)),
        sa.Column("parent_ts", sa.String(32)),
        sa.Column("parent_hash", sa.String(64)),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
        sa.Column("owner", sa.String(191)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("workspace_id", "week", name="uq_digest_runs_workspace_week"),
    )
    op.create_index("ix_digest_runs_workspace_id", "digest_runs", ["workspace_id"])
    op.create_table(
        "digest_posts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(32)),
        sa.Column("ts", sa.String(32)),
        sa.Column("file_id", sa.String(32)),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("intent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("workspace_id", "week", "kind", "key", name="uq_digest_posts_item"),
    )
    op.create_index("ix_digest_posts_workspace_id", "digest_posts", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_digest_posts_workspace_id", "digest_posts")
    op.drop_table("digest_posts")
    op.drop_index("ix_digest_runs_workspace_id", "digest_runs")
    op.drop_table("digest_runs")
    op.drop_index("ix_digest_schedules_workspace_id", "digest_schedules")
    op.drop_table("digest_schedules")
