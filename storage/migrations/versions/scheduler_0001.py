"""The scheduler's own job table (`scheduled_jobs`) replaces APScheduler's `apscheduler_jobs`.

Jobs stored by the previous scheduler are copied over: APScheduler's job store pickled each job's state as a
dict whose `trigger`, `kwargs` and `id` are what the new table keeps in columns. A row that cannot be read is
logged and left out (the capabilities recreate their recurring jobs when a scheduler starts).

Downgrading recreates `apscheduler_jobs` empty: the previous scheduler recreates its recurring jobs on start,
but one-off jobs (pre-mortem reminders and deadlines, debt nudge checks) would need their flows to run again.

Revision ID: scheduler_0001
Revises: 0001_foundation
Create Date: 2026-12-06
"""

from __future__ import annotations

import json
import logging
import pickle
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "scheduler_0001"
down_revision = "0001_foundation"
branch_labels = ("scheduler",)
depends_on = None

log = logging.getLogger(__name__)


def upgrade() -> None:
    jobs = op.create_table(
        "scheduled_jobs",
        sa.Column("id", sa.String(191), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("workspace_id", sa.String(32)),
        sa.Column("kwargs", sa.Text, nullable=False),
        sa.Column("trigger", sa.LargeBinary, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("next_run_time", sa.Float, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_scheduled_jobs_workspace_id", "scheduled_jobs", ["workspace_id"])
    op.create_index("ix_scheduled_jobs_next_run_time", "scheduled_jobs", ["next_run_time"])
    old = sa.table(
        "apscheduler_jobs",
        sa.column("id", sa.Unicode),
        sa.column("next_run_time", sa.Float),
        sa.column("job_state", sa.LargeBinary),
    )
    rows = []
    for old_row in op.get_bind().execute(sa.select(old.c.id, old.c.next_run_time, old.c.job_state)):
        copied = _copied(old_row.id, old_row.next_run_time, old_row.job_state)
        if copied is not None:
            rows.append(copied)
    if rows:
        op.bulk_insert(jobs, rows)
    op.drop_table("apscheduler_jobs")


def _copied(job_id: str, next_run_time: float | None, state: bytes) -> dict[str, Any] | None:
    if next_run_time is None:
        return None  # paused: the previous scheduler never paused a job
    try:
        job = pickle.loads(state)  # noqa: S301 (our own job store's rows)
        kwargs = dict(job["kwargs"])
        trigger = job["trigger"]
        # The zone the trigger fires in: that of a fire time it gives (the stored one may be in another).
        probe = trigger.get_next_fire_time(None, job["next_run_time"]) or job["next_run_time"]
        zone = getattr(probe.tzinfo, "key", None) or "UTC"
        kind = kwargs.pop("kind")
        workspace_id = kwargs.pop("workspace_id", None)
        return {
            "id": job_id,
            "kind": kind,
            "workspace_id": workspace_id,
            "kwargs": json.dumps(kwargs),
            "trigger": pickle.dumps(trigger),
            "description": str(trigger),
            "zone": zone,
            "next_run_time": next_run_time,
            "revision": 1,
        }
    except Exception:
        log.warning("a stored job could not be read; left out", extra={"job": job_id}, exc_info=True)
        return None


def downgrade() -> None:
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25), index=True),
        sa.Column("job_state", sa.LargeBinary, nullable=False),
    )
    op.drop_index("ix_scheduled_jobs_next_run_time", "scheduled_jobs")
    op.drop_index("ix_scheduled_jobs_workspace_id", "scheduled_jobs")
    op.drop_table("scheduled_jobs")
