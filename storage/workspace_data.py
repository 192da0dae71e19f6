"""Everything stored about one workspace: exported as JSON (never its tokens) and deleted.

`WORKSPACE_TABLES` names every table that holds workspace data, in the order rows are deleted
(children before the rows they refer to). tests/test_workspace_data.py reads the migrated schema and
fails when a table with a `workspace_id` column is missing here, so a capability that adds a table
must add it (docs/operations.md, "Data kept and deleted").
"""

from __future__ import annotations

import base64
import importlib
import pkgutil
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session, SQLModel

WORKSPACE_COLUMN = "workspace_id"

WORKSPACE_TABLES: tuple[str, ...] = (
    "calibration_outcomes",
    "calibration_predictions",
    "premortem_mitigation_events",
    "premortem_mitigations",
    "premortem_votes",
    "premortem_splits",
    "premortem_risks",
    "premortem_reminders",
    "premortem_leads",
    "premortems",
    "launch_steps",
    "launches",
    "launch_trigger_notices",
    "away_offers",
    "away_holds",
    "checklist_answers",
    "checklist_messages",
    "checklist_checks",
    "debt_entries",
    "debt_nudge_sprints",
    "debt_nudges",
    "debt_sprints",
    "debt_imports",
    "digest_posts",
    "digest_runs",
    "digest_schedules",
    "digest_canvases",
    "digest_manager_channels",
    "metrics_snapshots",
    "teams",
    "scheduled_jobs",
    "job_runs",
    "localslack_state",
    "installations",
)

# Columns never exported: credentials, whatever their table.
SECRET_MARKERS = ("token", "secret", "password")


def _tables() -> dict[str, Table]:
    for module in pkgutil.iter_modules(importlib.import_module("storage").__path__):
        if not module.ispkg and module.name not in {"migrate", "workspace_data"}:
            importlib.import_module(f"storage.{module.name}")
    return dict(SQLModel.metadata.tables)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def export_workspace(session: Session, workspace_id: str) -> dict[str, list[dict[str, Any]]]:
    """{table: [row, …]} for every table with workspace data, without credential columns."""
    tables = _tables()
    out: dict[str, list[dict[str, Any]]] = {}
    for name in reversed(WORKSPACE_TABLES):
        table = tables[name]
        columns = [c for c in table.columns if not any(m in c.name.lower() for m in SECRET_MARKERS)]
        query = table.select().with_only_columns(*columns).where(table.c[WORKSPACE_COLUMN] == workspace_id)
        out[name] = [{k: _plain(v) for k, v in row._mapping.items()} for row in session.execute(query)]
    return out


def delete_workspace(session: Session, workspace_id: str) -> dict[str, int]:
    """Delete every row of the workspace; {table: rows deleted}. Idempotent."""
    tables = _tables()
    deleted: dict[str, int] = {}
    for name in WORKSPACE_TABLES:
        table = tables[name]
        result = session.execute(table.delete().where(table.c[WORKSPACE_COLUMN] == workspace_id))
        deleted[name] = int(getattr(result, "rowcount", 0) or 0)
    return deleted
