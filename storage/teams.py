"""Channels the bot has met in each workspace (any command in a channel, with the channel's name then), and
what setup stored for them. Only some are teams for the digest and the App Home (`bot/digest/roster.py`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from storage.types import AwareDateTime


class TeamRow(SQLModel, table=True):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id", name="uq_teams_workspace_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    channel_id: str = Field(max_length=32)
    name: str
    first_seen: datetime = Field(sa_type=AwareDateTime)
    # What the setup modal stored (JSON), which wins over the config file for this channel.
    setup_json: str | None = None
    setup_by: str | None = Field(default=None, max_length=32)
    setup_at: datetime | None = Field(default=None, sa_type=AwareDateTime)

    @property
    def setup(self) -> dict[str, Any] | None:
        return json.loads(self.setup_json) if self.setup_json else None


def find(session: Session, workspace_id: str, channel_id: str) -> TeamRow | None:
    return session.exec(
        select(TeamRow).where(TeamRow.workspace_id == workspace_id, TeamRow.channel_id == channel_id)
    ).first()


def remember(session: Session, workspace_id: str, channel_id: str, name: str, now: datetime) -> TeamRow:
    """Record the channel and its name (idempotent; keeps the first name unless setup renames it)."""
    row = find(session, workspace_id, channel_id)
    if row is not None:
        return row
    try:
        with session.begin_nested():  # the first commands in a new channel race to insert it
            row = TeamRow(workspace_id=workspace_id, channel_id=channel_id, name=name, first_seen=now)
            session.add(row)
        return row
    except IntegrityError:
        existing = find(session, workspace_id, channel_id)
        assert existing is not None
        return existing


def save_setup(
    session: Session, workspace_id: str, channel_id: str, setup: dict[str, Any], user_id: str, now: datetime
) -> TeamRow:
    row = remember(session, workspace_id, channel_id, str(setup.get("name") or channel_id), now)
    row.name = str(setup.get("name") or row.name)
    row.setup_json, row.setup_by, row.setup_at = json.dumps(setup, sort_keys=True), user_id, now
    session.add(row)
    return row


def list_teams(session: Session, workspace_id: str) -> list[TeamRow]:
    return list(
        session.exec(select(TeamRow).where(TeamRow.workspace_id == workspace_id).order_by(col(TeamRow.name)))
    )
