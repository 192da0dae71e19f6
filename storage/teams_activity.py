"""Which channels of a workspace have records of their own: a signal check, a pre-mortem, a tech-debt
sprint or a metrics snapshot. A channel where someone only ran a command (even a refused one) has none,
so it is not a team for the digest and the App Home until it is set up or declared in the config file."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from sqlmodel import Session, col, select

log = logging.getLogger(__name__)

# (module, table class) of each capability's records that name a team's channel. Imported by name so
# that a build without a capability still reads the others.
RECORDS = (
    ("storage.checklist", "CheckRow"),
    ("storage.premortem", "PremortemRow"),
    ("storage.debt", "DebtSprintRow"),
    ("storage.metrics", "MetricsSnapshotRow"),
)


def _tables() -> list[Any]:
    tables = []
    for module, name in RECORDS:
        try:
            tables.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            log.warning("a capability's records cannot be read", extra={"table": f"{module}.{name}"})
    return tables


def channels_with_records(session: Session, workspace_id: str) -> set[str]:
    """Channels of the workspace that any capability has a record for."""
    found: set[str] = set()
    for table in _tables():
        found.update(
            session.exec(
                select(col(table.channel_id)).where(col(table.workspace_id) == workspace_id).distinct()
            )
        )
    return found
