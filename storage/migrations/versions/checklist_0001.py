"""Signal checklist: checks (with their playbook), answers, and the thread's messages.

Revision ID: checklist_0001
Revises: 0002_teams
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "checklist_0001"
down_revision = "0002_teams"
branch_labels = ("checklist",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checklist_checks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("team_name", sa.String, nullable=False),
        sa.Column("playbook_ref", sa.String, nullable=False),
        sa.Column("playbook_digest", sa.String(32), nullable=False),
        sa.Column("playbook_json", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("started_by", sa.String(32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("root_ts", sa.String(32)),
        sa.Column("root_digest", sa.String(64)),
        sa.Column("permalink", sa.String),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("cancelled_by", sa.String(32)),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("verdict", sa.String(32)),
        sa.Column("score", sa.Float),
        sa.Column("band", sa.String(8)),
        sa.Column("verdict_ts", sa.String(32)),
        sa.Column("shared_by", sa.String(32)),
        sa.Column("shared_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_checklist_checks_channel", "checklist_checks", ["workspace_id", "channel_id", "status"]
    )

    op.create_table(
        "checklist_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column(
            "check_id", sa.Integer, sa.ForeignKey("checklist_checks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("question_id", sa.String(40), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("answered_by", sa.String(32), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("check_id", "question_id", name="uq_checklist_answers_question"),
    )

    op.create_table(
        "checklist_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column(
            "check_id", sa.Integer, sa.ForeignKey("checklist_checks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.UniqueConstraint("check_id", "seq", name="uq_checklist_messages_seq"),
    )


def downgrade() -> None:
    op.drop_table("checklist_messages")
    op.drop_table("checklist_answers")
    op.drop_index("ix_checklist_checks_channel", "checklist_checks")
    op.drop_table("checklist_checks")
