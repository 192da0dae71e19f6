"""The weekly digest's records: per-workspace schedule overrides, and what each week's digest posted.

One `digest_runs` row per workspace and ISO week holds the parent message; one `digest_posts` row per
thing posted for that week (a team's thread message, a chart, a manager's DM copy) holds its ts. A row is
written *before* its message is posted (the intent) and completed after, so a run that died between the
two can find its message again instead of posting it twice. Every function takes the workspace id.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from storage.types import AwareDateTime


class DigestScheduleRow(SQLModel, table=True):
    """What `/scale-check setup` stored for a workspace's digest; wins over the config file."""

    __tablename__ = "digest_schedules"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, unique=True, max_length=32)
    channel_id: str | None = Field(default=None, max_length=32)
    day: str = Field(default="monday", max_length=12)
    time: str = Field(default="09:00", max_length=5)
    timezone: str = Field(default="UTC", max_length=64)
    managers_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    updated_by: str = Field(max_length=32)
    updated_at: datetime = Field(sa_type=AwareDateTime)

    @property
    def managers(self) -> list[str]:
        loaded: list[str] = json.loads(self.managers_json)
        return loaded

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel_id,
            "day": self.day,
            "time": self.time,
            "timezone": self.timezone,
            "managers": self.managers,
        }


class DigestRunRow(SQLModel, table=True):
    """One workspace's digest for one ISO week: the parent message, or why there is none."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("workspace_id", "week", name="uq_digest_runs_workspace_week"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    week: str = Field(max_length=8)  # ISO week in the workspace's zone, "2026-W48"
    channel_id: str | None = Field(default=None, max_length=32)
    status: str = Field(default="sending", max_length=16)  # sending, sent, missed
    reason: str = Field(default="schedule", max_length=16)  # schedule, now
    requested_by: str | None = Field(default=None, max_length=32)
    scheduled_for: datetime | None = Field(default=None, sa_type=AwareDateTime)
    started_at: datetime = Field(sa_type=AwareDateTime)
    parent_intent_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    parent_ts: str | None = Field(default=None, max_length=32)
    parent_hash: str | None = Field(default=None, max_length=64)
    sent_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    runs: int = 0
    # Who is sending it now, until when (renewed while it works): one sender at a time per week.
    owner: str | None = Field(default=None, max_length=191)
    lease_until: datetime | None = Field(default=None, sa_type=AwareDateTime)
    # Each team's state this week (what "changed since last week" compares), written when it is sent.
    state_json: str | None = Field(default=None, sa_column=Column(Text))


class DigestPostRow(SQLModel, table=True):
    """One message (or file) a week's digest posted: a team's thread message, a chart, a DM copy."""

    __tablename__ = "digest_posts"
    __table_args__ = (UniqueConstraint("workspace_id", "week", "kind", "key", name="uq_digest_posts_item"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    week: str = Field(max_length=8)
    kind: str = Field(max_length=8)  # team, chart, dm (org-wide copy), manager (their own), table
    key: str = Field(max_length=64)  # the team's channel, the chart's name, the manager's user id
    channel_id: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    file_id: str | None = Field(default=None, max_length=32)
    content_hash: str | None = Field(default=None, max_length=64)
    intent_at: datetime = Field(sa_type=AwareDateTime)
    posted_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    error: str | None = Field(default=None, sa_column=Column(Text))


# --- schedules -------------------------------------------------------------------------------------


def get_schedule(session: Session, workspace_id: str) -> DigestScheduleRow | None:
    return session.exec(
        select(DigestScheduleRow).where(DigestScheduleRow.workspace_id == workspace_id)
    ).first()


def save_schedule(
    session: Session,
    workspace_id: str,
    channel_id: str | None,
    day: str,
    time: str,
    timezone: str,
    managers: list[str],
    user_id: str,
    now: datetime,
) -> DigestScheduleRow:
    row = get_schedule(session, workspace_id)
    if row is None:
        row = DigestScheduleRow(workspace_id=workspace_id, updated_by=user_id, updated_at=now)
    row.channel_id, row.day, row.time, row.timezone = channel_id, day, time, timezone
    row.managers_json = json.dumps(sorted(set(managers)))
    row.updated_by, row.updated_at = user_id, now
    session.add(row)
    session.flush()
    return row


def all_schedules(session: Session) -> dict[str, dict[str, Any]]:
    return {row.workspace_id: row.as_dict() for row in session.exec(select(DigestScheduleRow))}


# --- runs ------------------------------------------------------------------------------------------


def _detach(session: Session, row: Any) -> Any:
    session.flush()
    session.expunge(row)
    return row


def get_run(session: Session, workspace_id: str, week: str) -> DigestRunRow | None:
    row = session.exec(
        select(DigestRunRow).where(DigestRunRow.workspace_id == workspace_id, DigestRunRow.week == week)
    ).first()
    return _detach(session, row) if row is not None else None


def claim_run(
    session: Session,
    workspace_id: str,
    week: str,
    channel_id: str,
    reason: str,
    requested_by: str | None,
    scheduled_for: datetime | None,
    owner: str,
    now: datetime,
    lease: timedelta,
) -> DigestRunRow | None:
    """The week's run, created on first use and taken for `owner` until `now + lease`; None while another
    sender holds it (two schedulers, or a scheduler and `/scale-check digest now`, never interleave)."""
    try:
        with session.begin_nested():
            session.add(DigestRunRow(workspace_id=workspace_id, week=week, started_at=now))
    except IntegrityError:
        pass  # it exists: an earlier run, a missed week, or a sender starting at this moment
    taken = session.execute(
        update(DigestRunRow)
        .where(
            col(DigestRunRow.workspace_id) == workspace_id,
            col(DigestRunRow.week) == week,
            or_(
                col(DigestRunRow.owner).is_(None),
                col(DigestRunRow.owner) == owner,
                col(DigestRunRow.lease_until) < now,
            ),
        )
        .values(owner=owner, lease_until=now + lease, runs=DigestRunRow.runs + 1)
    )
    if not taken.rowcount:  # type: ignore[attr-defined]
        return None
    row = session.exec(
        select(DigestRunRow).where(DigestRunRow.workspace_id == workspace_id, DigestRunRow.week == week)
    ).one()
    if row.status == "missed" or row.parent_ts is None:
        # Nothing posted yet: this sender decides the channel and why it was sent.
        row.status, row.reason, row.requested_by = "sending", reason, requested_by
        row.channel_id = channel_id
        row.scheduled_for = row.scheduled_for or scheduled_for
    session.add(row)
    return _detach(session, row)


def renew_run(session: Session, workspace_id: str, week: str, owner: str, until: datetime) -> bool:
    result = session.execute(
        update(DigestRunRow)
        .where(
            col(DigestRunRow.workspace_id) == workspace_id,
            col(DigestRunRow.week) == week,
            col(DigestRunRow.owner) == owner,
        )
        .values(lease_until=until)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_run(session: Session, workspace_id: str, week: str, owner: str) -> None:
    session.execute(
        update(DigestRunRow)
        .where(
            col(DigestRunRow.workspace_id) == workspace_id,
            col(DigestRunRow.week) == week,
            col(DigestRunRow.owner) == owner,
        )
        .values(owner=None, lease_until=None)
    )


def record_missed(
    session: Session, workspace_id: str, week: str, scheduled_for: datetime, now: datetime
) -> bool:
    """Note a week whose digest came back after its grace; False when the week already has a run."""
    try:
        with session.begin_nested():
            session.add(
                DigestRunRow(
                    workspace_id=workspace_id,
                    week=week,
                    status="missed",
                    scheduled_for=scheduled_for,
                    started_at=now,
                )
            )
        return True
    except IntegrityError:
        return False


def parent_intent(session: Session, workspace_id: str, week: str, now: datetime) -> None:
    row = session.exec(
        select(DigestRunRow).where(DigestRunRow.workspace_id == workspace_id, DigestRunRow.week == week)
    ).one()
    if row.parent_intent_at is None:
        row.parent_intent_at = now
        session.add(row)


def parent_posted(
    session: Session, workspace_id: str, week: str, ts: str, content_hash: str, now: datetime
) -> None:
    row = session.exec(
        select(DigestRunRow).where(DigestRunRow.workspace_id == workspace_id, DigestRunRow.week == week)
    ).one()
    row.parent_ts, row.parent_hash = ts, content_hash
    if row.sent_at is None:
        row.sent_at = now
    session.add(row)


def finish_run(session: Session, workspace_id: str, week: str, now: datetime) -> None:
    row = session.exec(
        select(DigestRunRow).where(DigestRunRow.workspace_id == workspace_id, DigestRunRow.week == week)
    ).one()
    row.status = "sent"
    row.sent_at = row.sent_at or now
    session.add(row)


def runs_of(session: Session, workspace_id: str) -> list[DigestRunRow]:
    rows = list(
        session.exec(
            select(DigestRunRow)
            .where(DigestRunRow.workspace_id == workspace_id)
            .order_by(col(DigestRunRow.week))
        )
    )
    for row in rows:
        session.expunge(row)
    return rows


# --- posts -----------------------------------------------------------------------------------------


def posts(session: Session, workspace_id: str, week: str) -> list[DigestPostRow]:
    rows = list(
        session.exec(
            select(DigestPostRow).where(
                DigestPostRow.workspace_id == workspace_id, DigestPostRow.week == week
            )
        )
    )
    for row in rows:
        session.expunge(row)
    return rows


def _post(session: Session, workspace_id: str, week: str, kind: str, key: str) -> DigestPostRow | None:
    return session.exec(
        select(DigestPostRow).where(
            DigestPostRow.workspace_id == workspace_id,
            DigestPostRow.week == week,
            DigestPostRow.kind == kind,
            DigestPostRow.key == key,
        )
    ).first()


def post_intent(
    session: Session, workspace_id: str, week: str, kind: str, key: str, channel_id: str, now: datetime
) -> None:
    """Note that a message is about to be posted (before the call, so a crash leaves a trace)."""
    row = _post(session, workspace_id, week, kind, key)
    if row is None:
        session.add(
            DigestPostRow(
                workspace_id=workspace_id, week=week, kind=kind, key=key, channel_id=channel_id, intent_at=now
            )
        )
    elif row.ts is None and row.file_id is None:
        row.channel_id, row.intent_at, row.error = channel_id, now, None
        session.add(row)


def post_done(
    session: Session,
    workspace_id: str,
    week: str,
    kind: str,
    key: str,
    now: datetime,
    *,
    ts: str | None = None,
    file_id: str | None = None,
    content_hash: str | None = None,
    channel_id: str | None = None,
) -> None:
    row = _post(session, workspace_id, week, kind, key)
    if row is None:
        row = DigestPostRow(workspace_id=workspace_id, week=week, kind=kind, key=key, intent_at=now)
    row.ts = ts or row.ts
    row.file_id = file_id or row.file_id
    row.content_hash = content_hash or row.content_hash
    row.channel_id = channel_id or row.channel_id
    row.posted_at, row.error = row.posted_at or now, None
    session.add(row)


def post_failed(session: Session, workspace_id: str, week: str, kind: str, key: str, error: str) -> None:
    """A post that failed for sure (Slack answered an error): nothing to find again on a re-run."""
    row = _post(session, workspace_id, week, kind, key)
    if row is not None and row.ts is None and row.file_id is None:
        row.error = error[:500]
        session.add(row)
