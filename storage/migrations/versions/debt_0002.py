"""Tech-debt nudges remember every sprint of the run they were for, not only its first one.

A run known by its first sprint looked new when a sprint before it was corrected or back-filled out of
band, and was nudged again. Each nudge now keeps its sprints with the direction each was out of band in
(`debt_nudge_sprints`, unique per team, sprint and direction, which is what makes a claim race-safe), and
the old one-nudge-per-first-sprint key goes: a run whose sprints were all corrected into the other
direction may be nudged again, and may start at the same sprint.

Existing nudges are carried over with their first sprint, in their direction ("outside", a run of some
under and some over, in both, since which one its first sprint was is not stored): a later run holding
that sprint is the same run, as it was before.

Revision ID: debt_0002
Revises: debt_0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "debt_0002"
down_revision = "debt_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # First, while nothing refers to debt_nudges: on SQLite the batch copies the table and drops the
    # old one, which would cascade to rows referring to it.
    with op.batch_alter_table("debt_nudges") as batch:
        batch.drop_constraint("uq_debt_nudges_run", type_="unique")
    op.create_table(
        "debt_nudge_sprints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "nudge_id", sa.Integer, sa.ForeignKey("debt_nudges.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("sprint_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.UniqueConstraint(
            "workspace_id", "channel_id", "sprint_id", "status", name="uq_debt_nudge_sprints_sprint"
        ),
    )
    op.create_index("ix_debt_nudge_sprints_workspace_id", "debt_nudge_sprints", ["workspace_id"])
    op.create_index("ix_debt_nudge_sprints_nudge_id", "debt_nudge_sprints", ["nudge_id"])
    for status in ("under", "over"):
        op.execute(
            sa.text(
                "INSERT INTO debt_nudge_sprints (nudge_id, workspace_id, channel_id, sprint_id, status) "
                "SELECT id, workspace_id, channel_id, run_start_sprint_id, :status FROM debt_nudges "
                "WHERE direction IN (:status, 'outside')"
            ).bindparams(status=status)
        )


def downgrade() -> None:
    op.drop_index("ix_debt_nudge_sprints_nudge_id", "debt_nudge_sprints")
    op.drop_index("ix_debt_nudge_sprints_workspace_id", "debt_nudge_sprints")
    op.drop_table("debt_nudge_sprints")
    # Two nudges may now share a first sprint; keep the earliest of each before restoring the old key.
    op.execute(
        sa.text(
            "DELETE FROM debt_nudges WHERE id NOT IN (SELECT MIN(id) FROM debt_nudges "
            "GROUP BY workspace_id, channel_id, run_start_sprint_id)"
        )
    )
    with op.batch_alter_table("debt_nudges") as batch:
        batch.create_unique_constraint(
            "uq_debt_nudges_run", ["workspace_id", "channel_id", "run_start_sprint_id"]
        )
