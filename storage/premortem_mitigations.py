"""Pre-mortem mitigations: one per top risk, with its owner, due date, verification and status history.

`open_for_team` and `team_summary` are what the weekly digest and the App Home read.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, func, select

from storage.premortem import PremortemRow, pm_fk, take
from storage.types import AwareDateTime

OPEN = ("open", "in_progress")


class MitigationRow(SQLModel, table=True):
    __tablename__ = "premortem_mitigations"
    __table_args__ = (
        UniqueConstraint("premortem_id", "group_id", name="uq_premortem_mitigations_group"),
        Index("ix_premortem_mitigations_team", "workspace_id", "channel_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)
    premortem_id: int = Field(sa_column=pm_fk())
    group_id: str = Field(max_length=16)
    title: str
    plan: str = Field(sa_column=Column(Text, nullable=False))
    owner: str = Field(max_length=32)
    owner_tz: str | None = Field(default=None, max_length=64)  # their Slack zone when it was saved
    due: date = Field(sa_column=Column(Date, nullable=False))
    verification: str = Field(max_length=16)  # metric | load_test
    metric: str | None = Field(default=None, max_length=80)
    target_op: str | None = Field(default=None, max_length=2)
    target_value: float | None = None
    target_text: str | None = Field(default=None, max_length=40)
    status: str = Field(default="open", max_length=16)
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=AwareDateTime)
    updated_by: str = Field(max_length=32)
    updated_at: datetime = Field(sa_type=AwareDateTime)
    view_id: str | None = Field(default=None, max_length=32)  # the modal that last saved it
    dm_channel: str | None = Field(default=None, max_length=32)
    dm_ts: str | None = Field(default=None, max_length=32)
    override_reason: str | None = Field(default=None, sa_column=Column(Text))
    override_by: str | None = Field(default=None, max_length=32)
    override_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class MitigationEventRow(SQLModel, table=True):
    """Every status a mitigation went through, with who, when and why (a metric read, an override)."""

    __tablename__ = "premortem_mitigation_events"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    mitigation_id: int = Field(
        sa_column=Column(Integer, ForeignKey("premortem_mitigations.id", ondelete="CASCADE"), nullable=False)
    )
    status: str = Field(max_length=16)
    by: str = Field(max_length=32)
    at: datetime = Field(sa_type=AwareDateTime)
    note: str | None = Field(default=None, sa_column=Column(Text))


@dataclass(frozen=True)
class MitigationInput:
    """What the mitigation modal saves."""

    group_id: str
    title: str
    plan: str
    owner: str
    due: date
    verification: str
    metric: str | None
    target_op: str | None
    target_value: float | None
    target_text: str | None
    owner_tz: str | None = None


@dataclass(frozen=True)
class Saved:
    row: MitigationRow
    created: bool
    duplicate: bool  # the same modal submitted again: nothing changed
    previous_owner: str | None


def _find(session: Session, workspace_id: str, premortem_id: int, group_id: str) -> MitigationRow | None:
    return session.exec(
        select(MitigationRow).where(
            MitigationRow.workspace_id == workspace_id,
            MitigationRow.premortem_id == premortem_id,
            MitigationRow.group_id == group_id,
        )
    ).first()


def get(session: Session, workspace_id: str, mitigation_id: int) -> MitigationRow | None:
    return session.exec(
        select(MitigationRow).where(
            MitigationRow.workspace_id == workspace_id, MitigationRow.id == mitigation_id
        )
    ).first()


def for_premortem(session: Session, workspace_id: str, premortem_id: int) -> list[MitigationRow]:
    return list(
        session.exec(
            select(MitigationRow)
            .where(MitigationRow.workspace_id == workspace_id, MitigationRow.premortem_id == premortem_id)
            .order_by(col(MitigationRow.id))
        )
    )


def save(
    session: Session,
    workspace_id: str,
    premortem_id: int,
    data: MitigationInput,
    by: str,
    view_id: str | None,
    now: datetime,
) -> Saved:
    """Create the risk's mitigation, or update it (a later modal); the same modal twice changes nothing."""
    pm = take(session, workspace_id, premortem_id, ["planning"], now)
    row = _find(session, workspace_id, premortem_id, data.group_id)
    if row is not None and view_id is not None and row.view_id == view_id:
        return Saved(row, created=False, duplicate=True, previous_owner=row.owner)
    if row is None:
        row = MitigationRow(
            workspace_id=workspace_id,
            channel_id=pm.channel_id,
            premortem_id=premortem_id,
            group_id=data.group_id,
            title=data.title,
            plan=data.plan,
            owner=data.owner,
            due=data.due,
            verification=data.verification,
            created_by=by,
            created_at=now,
            updated_by=by,
            updated_at=now,
            status="open",
        )
        _fill(row, data, by, view_id, now)
        session.add(row)
        session.flush()
        assert row.id is not None
        session.add(
            MitigationEventRow(workspace_id=workspace_id, mitigation_id=row.id, status="open", by=by, at=now)
        )
        return Saved(row, created=True, duplicate=False, previous_owner=None)
    previous = row.owner
    _fill(row, data, by, view_id, now)
    session.add(row)
    return Saved(row, created=False, duplicate=False, previous_owner=previous)


def _fill(row: MitigationRow, data: MitigationInput, by: str, view_id: str | None, now: datetime) -> None:
    row.title, row.plan, row.owner, row.due = data.title, data.plan, data.owner, data.due
    row.owner_tz = data.owner_tz
    row.verification, row.metric = data.verification, data.metric
    row.target_op, row.target_value, row.target_text = data.target_op, data.target_value, data.target_text
    row.updated_by, row.updated_at, row.view_id = by, now, view_id


def set_dm(session: Session, workspace_id: str, mitigation_id: int, channel: str, ts: str) -> None:
    row = get(session, workspace_id, mitigation_id)
    if row is not None:
        row.dm_channel, row.dm_ts = channel, ts
        session.add(row)


def set_status(
    session: Session,
    workspace_id: str,
    mitigation_id: int,
    status: str,
    by: str,
    now: datetime,
    note: str | None = None,
    override_reason: str | None = None,
    only_from: Collection[str] | None = None,
) -> tuple[MitigationRow, bool] | None:
    """Set a status (the same status again changes nothing; with `only_from`, neither does a current
    status outside it); every change is kept as an event."""
    row = session.exec(
        select(MitigationRow)
        .where(MitigationRow.workspace_id == workspace_id, MitigationRow.id == mitigation_id)
        .with_for_update()
    ).first()
    if row is None:
        return None
    if row.status == status or (only_from is not None and row.status not in only_from):
        return row, False
    row.status, row.updated_by, row.updated_at = status, by, now
    if override_reason is not None:
        row.override_reason, row.override_by, row.override_at = override_reason, by, now
    session.add(row)
    assert row.id is not None
    session.add(
        MitigationEventRow(
            workspace_id=workspace_id, mitigation_id=row.id, status=status, by=by, at=now, note=note
        )
    )
    return row, True


def events(session: Session, workspace_id: str, mitigation_id: int) -> list[MitigationEventRow]:
    return list(
        session.exec(
            select(MitigationEventRow)
            .where(
                MitigationEventRow.workspace_id == workspace_id,
                MitigationEventRow.mitigation_id == mitigation_id,
            )
            .order_by(col(MitigationEventRow.id))
        )
    )


def open_for_team(
    session: Session, workspace_id: str, channel_id: str | None = None
) -> list[tuple[MitigationRow, PremortemRow]]:
    """Open and in-progress mitigations of a team (or of the whole workspace), oldest due first."""
    query = (
        select(MitigationRow, PremortemRow)
        .join(PremortemRow, col(PremortemRow.id) == col(MitigationRow.premortem_id))
        .where(MitigationRow.workspace_id == workspace_id, col(MitigationRow.status).in_(OPEN))
    )
    if channel_id is not None:
        query = query.where(MitigationRow.channel_id == channel_id)
    return list(session.exec(query.order_by(col(MitigationRow.due), col(MitigationRow.id))))


def premortem_counts(session: Session, workspace_id: str) -> dict[str, tuple[int, datetime]]:
    """Per channel: how many pre-mortems were run (cancelled ones aside) and when the latest started."""
    rows = session.exec(
        select(PremortemRow.channel_id, func.count(), func.max(PremortemRow.started_at))
        .where(PremortemRow.workspace_id == workspace_id, PremortemRow.status != "cancelled")
        .group_by(col(PremortemRow.channel_id))
    )
    return {channel: (count, latest) for channel, count, latest in rows}


def unmitigated_top(session: Session, workspace_id: str, channel_id: str | None = None) -> dict[str, int]:
    """Per channel: how many top risks of its latest pre-mortem that chose them have no mitigation at all
    (not even a closed one): "0 open mitigations" is not all-clear while these are unplanned."""
    query = select(PremortemRow).where(
        PremortemRow.workspace_id == workspace_id, PremortemRow.status == "planning"
    )
    if channel_id is not None:
        query = query.where(PremortemRow.channel_id == channel_id)
    latest: dict[str, PremortemRow] = {}
    for pm in session.exec(query.order_by(col(PremortemRow.started_at), col(PremortemRow.id))):
        latest[pm.channel_id] = pm
    ids = [pm.id for pm in latest.values() if pm.id is not None]
    if not ids:
        return {}
    planned = set(
        session.exec(
            select(MitigationRow.premortem_id, MitigationRow.group_id).where(
                col(MitigationRow.premortem_id).in_(ids)
            )
        )
    )
    return {
        channel: sum(1 for group in pm.top if (pm.id, group) not in planned) for channel, pm in latest.items()
    }
