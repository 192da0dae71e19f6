"""Pre-mortems: the pre-mortem, leads, risks, votes, splits, reminders, mitigations and their history.

Revision ID: premortem_0001
Revises: 0002_teams
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "premortem_0001"
down_revision = "0002_teams"
branch_labels = ("premortem",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def _pm_fk() -> sa.Column[int]:
    return sa.Column(
        "premortem_id", sa.Integer, sa.ForeignKey("premortems.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "premortems",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("team_name", sa.String, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="collecting"),
        sa.Column("started_by", sa.String(32), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("deadline", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("origin_check", sa.Integer),
        sa.Column("root_ts", sa.String(32)),
        sa.Column("prompt_ts", sa.String(32)),
        sa.Column("reveal_ts_json", sa.Text),
        sa.Column("data_ts", sa.String(32)),
        sa.Column("top_ts", sa.String(32)),
        sa.Column("permalink", sa.String),
        sa.Column("revealed_at", TZ),
        sa.Column("reveal_reason", sa.String(16)),
        sa.Column("data_json", sa.Text),
        sa.Column("top_json", sa.Text),
        sa.Column("closed_at", TZ),
        sa.Column("closed_by", sa.String(32)),
        sa.Column("cancelled_at", TZ),
        sa.Column("cancelled_by", sa.String(32)),
    )
    op.create_index("ix_premortems_channel", "premortems", ["workspace_id", "channel_id", "status"])

    op.create_table(
        "premortem_leads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        _pm_fk(),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("added_by", sa.String(32), nullable=False),
        sa.Column("added_at", TZ, nullable=False),
        sa.Column("in_channel", sa.Boolean, nullable=False),
        sa.Column("tz", sa.String(64)),
        sa.Column("answered_at", TZ),
        sa.Column("answer_updated_at", TZ),
        sa.Column("snoozed_until", TZ),
        sa.Column("replaced_by", sa.String(32)),
        sa.Column("replaced_at", TZ),
        sa.UniqueConstraint("premortem_id", "user_id", name="uq_premortem_leads_user"),
    )

    op.create_table(
        "premortem_risks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        _pm_fk(),
        sa.Column("lead", sa.String(32), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("component", sa.String, nullable=False),
        sa.Column("why", sa.Text, nullable=False),
        sa.Column("evidence_kind", sa.String(16)),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.UniqueConstraint("premortem_id", "lead", "rank", name="uq_premortem_risks_rank"),
    )

    op.create_table(
        "premortem_votes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        _pm_fk(),
        sa.Column("group_id", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("voted_at", TZ, nullable=False),
        sa.UniqueConstraint("premortem_id", "group_id", "user_id", name="uq_premortem_votes"),
    )

    op.create_table(
        "premortem_splits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        _pm_fk(),
        sa.Column("group_key", sa.String, nullable=False),
        sa.Column("split_by", sa.String(32), nullable=False),
        sa.Column("split_at", TZ, nullable=False),
        sa.UniqueConstraint("premortem_id", "group_key", name="uq_premortem_splits"),
    )

    op.create_table(
        "premortem_reminders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        _pm_fk(),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("sent_at", TZ, nullable=False),
        sa.Column("dm_channel", sa.String(32)),
        sa.Column("dm_ts", sa.String(32)),
        sa.UniqueConstraint("premortem_id", "user_id", "step", name="uq_premortem_reminders_step"),
    )

    op.create_table(
        "premortem_mitigations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        _pm_fk(),
        sa.Column("group_id", sa.String(16), nullable=False),
        sa.Column("title", sa.String, nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("owner", sa.String(32), nullable=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("verification", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(80)),
        sa.Column("target_op", sa.String(2)),
        sa.Column("target_value", sa.Float),
        sa.Column("target_text", sa.String(40)),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("view_id", sa.String(32)),
        sa.Column("dm_channel", sa.String(32)),
        sa.Column("dm_ts", sa.String(32)),
        sa.Column("override_reason", sa.Text),
        sa.Column("override_by", sa.String(32)),
        sa.Column("override_at", TZ),
        sa.UniqueConstraint("premortem_id", "group_id", name="uq_premortem_mitigations_group"),
    )
    op.create_index(
        "ix_premortem_mitigations_team", "premortem_mitigations", ["workspace_id", "channel_id", "status"]
    )

    op.create_table(
        "premortem_mitigation_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column(
            "mitigation_id",
            sa.Integer,
            sa.ForeignKey("premortem_mitigations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("by", sa.String(32), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("note", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("premortem_mitigation_events")
    op.drop_index("ix_premortem_mitigations_team", "premortem_mitigations")
    op.drop_table("premortem_mitigations")
    op.drop_table("premortem_reminders")
    op.drop_table("premortem_splits")
    op.drop_table("premortem_votes")
    op.drop_table("premortem_risks")
    op.drop_table("premortem_leads")
    op.drop_index("ix_premortems_channel", "premortems")
    op.drop_table("premortems")
