"""The workspace's scale readiness canvas (one per workspace, ever), each week's digest state, and where
each manager wants their own digest (setup's choice; the config file's `digest.manager_channels` too).

The canvas row is written *before* the canvas is created (its intent, with the id of a canvas a person
already made in the channel, if any) and its id stored the moment Slack answers, so a process killed in
between finds the canvas again (the channel's canvas, not the person's) instead of creating a second one.
Every function takes the workspace id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from storage.digest import DigestRunRow
from storage.types import AwareDateTime


class DigestCanvasRow(SQLModel, table=True):
    """The workspace's readiness canvas: which, where, and the content last written to it."""

    __tablename__ = "digest_canvases"
    __table_args__ = (UniqueConstraint("workspace_id", name="uq_digest_canvases_workspace"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)
    kind: str = Field(max_length=16)  # channel (the channel's own canvas), standalone (shared to it)
    canvas_id: str | None = Field(default=None, max_length=32)
    foreign_id: str | None = Field(default=None, max_length=32)  # a person's canvas in the channel
    intent_at: datetime = Field(sa_type=AwareDateTime)
    created_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    week: str | None = Field(default=None, max_length=8)  # the week of the content last written
    content_hash: str | None = Field(default=None, max_length=64)
    edited_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    edits: int = 0
    unavailable: str | None = Field(default=None, max_length=64)  # why the workspace has no canvas


def get_canvas(session: Session, workspace_id: str) -> DigestCanvasRow | None:
    row = session.exec(select(DigestCanvasRow).where(DigestCanvasRow.workspace_id == workspace_id)).first()
    if row is not None:
        session.expunge(row)
    return row


def canvas_intent(
    session: Session, workspace_id: str, channel_id: str, kind: str, foreign_id: str | None, now: datetime
) -> bool:
    """Note that a canvas is about to be created; False when the workspace already has a row."""
    try:
        with session.begin_nested():
            session.add(
                DigestCanvasRow(
                    workspace_id=workspace_id,
                    channel_id=channel_id,
                    kind=kind,
                    foreign_id=foreign_id,
                    intent_at=now,
                )
            )
        return True
    except IntegrityError:
        return False


def retry_intent(
    session: Session, workspace_id: str, channel_id: str, kind: str, foreign_id: str | None, now: datetime
) -> None:
    """A canvas that was never created (the intent failed for sure, or canvases became available)."""
    session.execute(
        update(DigestCanvasRow)
        .where(col(DigestCanvasRow.workspace_id) == workspace_id, col(DigestCanvasRow.canvas_id).is_(None))
        .values(channel_id=channel_id, kind=kind, foreign_id=foreign_id, intent_at=now, unavailable=None)
    )


def canvas_created(session: Session, workspace_id: str, canvas_id: str, now: datetime) -> None:
    session.execute(
        update(DigestCanvasRow)
        .where(col(DigestCanvasRow.workspace_id) == workspace_id)
        .values(canvas_id=canvas_id, created_at=now, unavailable=None)
    )


def canvas_unavailable(session: Session, workspace_id: str, reason: str) -> None:
    session.execute(
        update(DigestCanvasRow)
        .where(col(DigestCanvasRow.workspace_id) == workspace_id, col(DigestCanvasRow.canvas_id).is_(None))
        .values(unavailable=reason[:64])
    )


def canvas_written(session: Session, workspace_id: str, week: str, content_hash: str, now: datetime) -> None:
    session.execute(
        update(DigestCanvasRow)
        .where(col(DigestCanvasRow.workspace_id) == workspace_id)
        .values(week=week, content_hash=content_hash, edited_at=now, edits=DigestCanvasRow.edits + 1)
    )


class DigestManagerChannelRow(SQLModel, table=True):
    """A manager's own digest goes to this channel instead of their DM (chosen in the setup modal)."""

    __tablename__ = "digest_manager_channels"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id", name="uq_digest_manager_channels_user"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)
    updated_at: datetime = Field(sa_type=AwareDateTime)


def manager_channels(session: Session, workspace_id: str) -> dict[str, str]:
    rows = session.exec(
        select(DigestManagerChannelRow).where(DigestManagerChannelRow.workspace_id == workspace_id)
    )
    return {row.user_id: row.channel_id for row in rows}


def save_manager_channel(
    session: Session, workspace_id: str, user_id: str, channel_id: str | None, now: datetime
) -> None:
    """Where `user_id`'s own digest goes; None: back to their DM."""
    row = session.exec(
        select(DigestManagerChannelRow).where(
            DigestManagerChannelRow.workspace_id == workspace_id, DigestManagerChannelRow.user_id == user_id
        )
    ).first()
    if channel_id is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = DigestManagerChannelRow(
            workspace_id=workspace_id, user_id=user_id, channel_id=channel_id, updated_at=now
        )
    row.channel_id, row.updated_at = channel_id, now
    session.add(row)


# --- each week's state -----------------------------------------------------------------------------


def save_state(session: Session, workspace_id: str, week: str, state_json: str) -> None:
    session.execute(
        update(DigestRunRow)
        .where(col(DigestRunRow.workspace_id) == workspace_id, col(DigestRunRow.week) == week)
        .values(state_json=state_json)
    )


def previous_state(session: Session, workspace_id: str, week: str) -> tuple[str, str] | None:
    """(week, state) of the latest digest sent before `week` (ISO week keys sort in time order)."""
    row = session.exec(
        select(DigestRunRow.week, DigestRunRow.state_json)
        .where(
            col(DigestRunRow.workspace_id) == workspace_id,
            col(DigestRunRow.week) < week,
            col(DigestRunRow.state_json).is_not(None),
        )
        .order_by(col(DigestRunRow.week).desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None and row[1] is not None else None
