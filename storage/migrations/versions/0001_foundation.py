"""Foundation: installations, OAuth state, scheduled-run claims, the scheduler's job store.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = ("foundation",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "installations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("enterprise_id", sa.String(32)),
        sa.Column("workspace_name", sa.String),
        sa.Column("app_id", sa.String(32)),
        sa.Column("bot_token", sa.String, nullable=False),
        sa.Column("bot_id", sa.String(32)),
        sa.Column("bot_user_id", sa.String(32)),
        sa.Column("bot_scopes", sa.String, nullable=False, server_default=""),
        sa.Column("installer_user_id", sa.String(32)),
        sa.Column("source", sa.String(16), nullable=False, server_default="oauth"),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("deactivated_at", sa.DateTime(timezone=True)),
        sa.Column("deactivated_reason", sa.String),
    )
    op.create_index("ix_installations_workspace_id", "installations", ["workspace_id"], unique=True)

    op.create_table(
        "oauth_states",
        sa.Column("state", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job_id", sa.String(191), nullable=False),
        sa.Column("run_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.String(32)),
        sa.Column("kind", sa.String(64), nullable=False, server_default=""),
        sa.Column("payload", sa.Text, nullable=False, server_default="{}"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(191), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.String),
        sa.UniqueConstraint("job_id", "run_time", name="uq_job_runs_job_time"),
    )
    op.create_index("ix_job_runs_job_id", "job_runs", ["job_id"])
    op.create_index("ix_job_runs_workspace_id", "job_runs", ["workspace_id"])

    # APScheduler's SQLAlchemyJobStore table, created here so replicas never race to create it.
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25), index=True),
        sa.Column("job_state", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("apscheduler_jobs")
    op.drop_index("ix_job_runs_workspace_id", "job_runs")
    op.drop_index("ix_job_runs_job_id", "job_runs")
    op.drop_table("job_runs")
    op.drop_table("oauth_states")
    op.drop_index("ix_installations_workspace_id", "installations")
    op.drop_table("installations")
