"""Tech-debt capacity: sprints, their writes, nudges with Fix-It plans, and import status.

Revision ID: debt_0001
Revises: 0002_teams
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "debt_0001"
down_revision = "0002_teams"
branch_labels = ("debt",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "debt_sprints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("name_key", sa.String(120), nullable=False),
        sa.Column("starts", sa.Date),
        sa.Column("ends", sa.Date),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("workspace_id", "channel_id", "name_key", name="uq_debt_sprints_team_name"),
    )
    op.create_index("ix_debt_sprints_workspace_id", "debt_sprints", ["workspace_id"])

    op.create_table(
        "debt_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column(
            "sprint_id", sa.Integer, sa.ForeignKey("debt_sprints.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("capacity", sa.Float, nullable=False),
        sa.Column("debt", sa.Float, nullable=False),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts", sa.Date),
        sa.Column("ends", sa.Date),
        sa.Column("note", sa.Text),
        sa.Column("typed", sa.String(120)),
        sa.Column("issues", sa.Integer),
        sa.Column("unestimated", sa.Integer),
        sa.Column("unestimated_rule", sa.String(60)),
    )
    op.create_index("ix_debt_entries_workspace_id", "debt_entries", ["workspace_id"])
    op.create_index("ix_debt_entries_sprint_id", "debt_entries", ["sprint_id"])

    op.create_table(
        "debt_nudges",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("run_start_sprint_id", sa.Integer, nullable=False),
        sa.Column("run_names", sa.Text, nullable=False, server_default=""),
        sa.Column("run_length", sa.Integer, nullable=False, server_default="0"),
        sa.Column("direction", sa.String(8), nullable=False, server_default="outside"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("acknowledged_by", sa.String(32)),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
        sa.Column("fixit_by", sa.String(32)),
        sa.Column("fixit_at", sa.DateTime(timezone=True)),
        sa.Column("fixit_starts", sa.Date),
        sa.Column("fixit_ends", sa.Date),
        sa.Column("fixit_after", sa.String(120)),
        sa.UniqueConstraint("workspace_id", "channel_id", "run_start_sprint_id", name="uq_debt_nudges_run"),
    )
    op.create_index("ix_debt_nudges_workspace_id", "debt_nudges", ["workspace_id"])

    op.create_table(
        "debt_imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("tracker", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("stale", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reason", sa.Text),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
        sa.Column("sprint_name", sa.String(120)),
        sa.Column("issues", sa.Integer),
        sa.Column("unestimated", sa.Integer),
        sa.Column("unestimated_rule", sa.String(60)),
        sa.UniqueConstraint("workspace_id", "channel_id", name="uq_debt_imports_team"),
    )
    op.create_index("ix_debt_imports_workspace_id", "debt_imports", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_debt_imports_workspace_id", "debt_imports")
    op.drop_table("debt_imports")
    op.drop_index("ix_debt_nudges_workspace_id", "debt_nudges")
    op.drop_table("debt_nudges")
    op.drop_index("ix_debt_entries_sprint_id", "debt_entries")
    op.drop_index("ix_debt_entries_workspace_id", "debt_entries")
    op.drop_table("debt_entries")
    op.drop_index("ix_debt_sprints_workspace_id", "debt_sprints")
    op.drop_table("debt_sprints")
