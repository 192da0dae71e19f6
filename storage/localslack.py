"""The embedded workspace of local mode, kept in the bot's own database so a restart loses nothing.

One row per embedded workspace: the local Slack's whole state (channels, users, messages, threads,
views…) as the JSON `localslack.Store.snapshot()` produces.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, Session, SQLModel

from storage.types import AwareDateTime


class LocalSlackStateRow(SQLModel, table=True):
    __tablename__ = "localslack_state"

    workspace_id: str = Field(primary_key=True, max_length=32)
    data: str = Field(sa_column=Column(Text, nullable=False))  # JSON: localslack.Store.snapshot()
    updated_at: datetime = Field(sa_type=AwareDateTime)


def load_state(session: Session, workspace_id: str) -> str | None:
    """The saved state of the embedded workspace, or None before its first start."""
    row = session.get(LocalSlackStateRow, workspace_id)
    return row.data if row is not None else None


def save_state(session: Session, workspace_id: str, data: str, when: datetime) -> None:
    row = session.get(LocalSlackStateRow, workspace_id)
    if row is None:
        row = LocalSlackStateRow(workspace_id=workspace_id, data=data, updated_at=when)
    else:
        row.data, row.updated_at = data, when
    session.add(row)
