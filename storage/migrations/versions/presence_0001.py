"""Who is away: a hold per person a message waits for (until when, the next try, how many tries), and
the one offer to move a pre-mortem's deadline when most of its leads are away.

Revision ID: presence_0001
Revises: 0002_teams
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "presence_0001"
down_revision = "0002_teams"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "away_holds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("why", sa.String(16), nullable=False),
        sa.Column("until", TZ),
        sa.Column("retry_at", TZ),
        sa.Column("tries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("workspace_id", "subject", "user_id", name="uq_away_holds_user"),
    )
    op.create_table(
        "away_offers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("offered_to", sa.String(32), nullable=False),
        sa.Column("offered_at", TZ, nullable=False),
        sa.UniqueConstraint("workspace_id", "subject", name="uq_away_offers_subject"),
    )


def downgrade() -> None:
    op.drop_table("away_offers")
    op.drop_table("away_holds")
