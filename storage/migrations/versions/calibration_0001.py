"""Calibration: the predictions a voted pre-mortem makes, the outcomes reported against them, and the
optional likelihood a lead gives each risk.

It follows the pre-mortem's migrations (its tables refer to `premortems` and it adds a column to
`premortem_risks`), as a revision of its own rather than a `depends_on`, which `/readyz` would read as
a head never reached.

Revision ID: calibration_0001
Revises: premortem_0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "calibration_0001"
down_revision = "premortem_0002"
branch_labels = ("calibration",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calibration_predictions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column(
            "premortem_id", sa.Integer, sa.ForeignKey("premortems.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("group_id", sa.String(16), nullable=False),
        sa.Column("component", sa.String, nullable=False),
        sa.Column("place", sa.Integer, nullable=False),
        sa.Column("votes", sa.Integer, nullable=False),
        sa.Column("likelihood", sa.Float),
        sa.Column("signal", sa.String(120)),
        sa.Column("signal_by", sa.String(32)),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("horizon_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("horizon_source", sa.String(16), nullable=False),
        sa.UniqueConstraint("premortem_id", "group_id", name="uq_calibration_predictions_group"),
    )
    op.create_index(
        "ix_calibration_predictions_team", "calibration_predictions", ["workspace_id", "channel_id"]
    )
    op.create_table(
        "calibration_outcomes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("component", sa.String, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("reporter", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("signal", sa.String(120)),
        sa.Column("dedup_key", sa.String(200)),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        sa.Column("withdrawn_by", sa.String(32)),
        sa.UniqueConstraint("workspace_id", "dedup_key", name="uq_calibration_outcomes_dedup"),
    )
    op.create_index("ix_calibration_outcomes_team", "calibration_outcomes", ["workspace_id", "channel_id"])
    op.add_column("premortem_risks", sa.Column("likelihood", sa.Float))


def downgrade() -> None:
    # In place, as premortem_0002 drops its column (SQLite 3.35+).
    op.drop_column("premortem_risks", "likelihood")
    op.drop_index("ix_calibration_outcomes_team", "calibration_outcomes")
    op.drop_table("calibration_outcomes")
    op.drop_index("ix_calibration_predictions_team", "calibration_predictions")
    op.drop_table("calibration_predictions")
