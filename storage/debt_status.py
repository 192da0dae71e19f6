"""Tech-debt follow-up: the nudge of each out-of-band run (with the Fix-It plan it led to) and each
team's import status (fine, or stale with the reason). Every function takes the workspace id.

A nudge keeps the sprints of its run, each with the direction it was out of band in; one row per (team,
sprint, direction) at most, so two replicas nudging the same run, or overlapping runs, post once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, delete, select

from storage.types import AwareDateTime


class DebtNudgeRow(SQLModel, table=True):
    __tablename__ = "debt_nudges"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    channel_id: str = Field(max_length=32)
    run_start_sprint_id: int  # the run's first sprint when it was nudged (its sprints: DebtNudgeSprintRow)
    run_names: str = ""
    run_length: int = 0
    direction: str = Field(default="outside", max_length=8)  # under, over or outside (both)
    created_at: datetime = Field(sa_type=AwareDateTime)
    message_ts: str | None = Field(default=None, max_length=32)
    acknowledged_by: str | None = Field(default=None, max_length=32)
    acknowledged_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    fixit_by: str | None = Field(default=None, max_length=32)
    fixit_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    fixit_starts: date | None = None
    fixit_ends: date | None = None
    fixit_after: str | None = Field(default=None, max_length=120)


class DebtNudgeSprintRow(SQLModel, table=True):
    """A sprint of a nudged run and the direction (under, over) it was out of band in then."""

    __tablename__ = "debt_nudge_sprints"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id", "channel_id", "sprint_id", "status", name="uq_debt_nudge_sprints_sprint"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    nudge_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("debt_nudges.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    workspace_id: str = Field(index=True, max_length=32)
    channel_id: str = Field(max_length=32)
    sprint_id: int
    status: str = Field(max_length=8)


class DebtImportRow(SQLModel, table=True):
    __tablename__ = "debt_imports"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id", name="uq_debt_imports_team"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    channel_id: str = Field(max_length=32)
    tracker: str = Field(max_length=80)
    kind: str = Field(max_length=16)
    stale: bool = False
    reason: str | None = None
    last_attempt_at: datetime = Field(sa_type=AwareDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    sprint_name: str | None = Field(default=None, max_length=120)
    issues: int | None = None
    unestimated: int | None = None
    unestimated_rule: str | None = Field(default=None, max_length=60)


# --- nudges and Fix-It plans ---------------------------------------------------------------------------


def nudges(session: Session, workspace_id: str, channel_id: str) -> list[DebtNudgeRow]:
    return list(
        session.exec(
            select(DebtNudgeRow)
            .where(DebtNudgeRow.workspace_id == workspace_id, DebtNudgeRow.channel_id == channel_id)
            .order_by(col(DebtNudgeRow.id))
        )
    )


def nudged_sprints(session: Session, workspace_id: str, channel_id: str) -> list[DebtNudgeSprintRow]:
    return list(
        session.exec(
            select(DebtNudgeSprintRow)
            .where(
                DebtNudgeSprintRow.workspace_id == workspace_id,
                DebtNudgeSprintRow.channel_id == channel_id,
            )
            .order_by(col(DebtNudgeSprintRow.id))
        )
    )


def claim_nudge(
    session: Session,
    workspace_id: str,
    channel_id: str,
    sprints: Sequence[tuple[int, str]],
    run_names: str,
    direction: str,
    now: datetime,
) -> DebtNudgeRow | None:
    """The right to post the nudge of a run, given as its (sprint id, under|over) pairs, first sprint
    first; None when one of them was nudged already in that direction (here or on another replica)."""
    assert sprints, "a run has at least one sprint"
    row = DebtNudgeRow(
        workspace_id=workspace_id,
        channel_id=channel_id,
        run_start_sprint_id=sprints[0][0],
        run_names=run_names,
        run_length=len(sprints),
        direction=direction,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            assert row.id is not None
            for sprint_id, status in sprints:
                session.add(
                    DebtNudgeSprintRow(
                        nudge_id=row.id,
                        workspace_id=workspace_id,
                        channel_id=channel_id,
                        sprint_id=sprint_id,
                        status=status,
                    )
                )
    except IntegrityError:
        return None
    return row


def get_nudge(session: Session, workspace_id: str, nudge_id: int) -> DebtNudgeRow | None:
    return session.exec(
        select(DebtNudgeRow)
        .where(DebtNudgeRow.workspace_id == workspace_id, DebtNudgeRow.id == nudge_id)
        .with_for_update()
    ).first()


def set_nudge_message(session: Session, workspace_id: str, nudge_id: int, ts: str) -> None:
    row = get_nudge(session, workspace_id, nudge_id)
    if row is not None:
        row.message_ts = ts
        session.add(row)


def drop_nudge(session: Session, workspace_id: str, nudge_id: int) -> None:
    """Give the claim back (posting failed), so the next write tries again."""
    row = get_nudge(session, workspace_id, nudge_id)
    if row is not None and row.message_ts is None:
        session.exec(
            delete(DebtNudgeSprintRow).where(
                col(DebtNudgeSprintRow.workspace_id) == workspace_id,
                col(DebtNudgeSprintRow.nudge_id) == nudge_id,
            )
        )
        session.delete(row)


def acknowledge(
    session: Session, workspace_id: str, nudge_id: int, user_id: str, now: datetime
) -> tuple[DebtNudgeRow | None, bool]:
    """Record who acknowledged the nudge; a second click changes nothing. (row, changed)."""
    row = get_nudge(session, workspace_id, nudge_id)
    if row is None or row.acknowledged_at is not None:
        return row, False
    row.acknowledged_by, row.acknowledged_at = user_id, now
    session.add(row)
    return row, True


def plan_fixit(
    session: Session,
    workspace_id: str,
    nudge_id: int,
    user_id: str,
    now: datetime,
    starts: date | None,
    ends: date | None,
    after: str,
) -> tuple[DebtNudgeRow | None, bool]:
    """Record a planned Fix-It sprint for the sprint after `after`; a second click changes nothing."""
    row = get_nudge(session, workspace_id, nudge_id)
    if row is None or row.fixit_at is not None:
        return row, False
    row.fixit_by, row.fixit_at = user_id, now
    row.fixit_starts, row.fixit_ends, row.fixit_after = starts, ends, after
    session.add(row)
    return row, True


# --- imports -------------------------------------------------------------------------------------------


def import_status(session: Session, workspace_id: str, channel_id: str) -> DebtImportRow | None:
    return session.exec(
        select(DebtImportRow).where(
            DebtImportRow.workspace_id == workspace_id, DebtImportRow.channel_id == channel_id
        )
    ).first()


def _import_row(
    session: Session, workspace_id: str, channel_id: str, tracker: str, kind: str, now: datetime
) -> DebtImportRow:
    row = import_status(session, workspace_id, channel_id)
    if row is None:
        row = DebtImportRow(
            workspace_id=workspace_id, channel_id=channel_id, tracker=tracker, kind=kind, last_attempt_at=now
        )
    row.tracker, row.kind, row.last_attempt_at = tracker, kind, now
    return row


def import_succeeded(
    session: Session,
    workspace_id: str,
    channel_id: str,
    tracker: str,
    kind: str,
    now: datetime,
    sprint_name: str,
    issues: int,
    unestimated: int,
    unestimated_rule: str,
) -> None:
    row = _import_row(session, workspace_id, channel_id, tracker, kind, now)
    row.stale, row.reason, row.last_success_at = False, None, now
    row.sprint_name, row.issues = sprint_name, issues
    row.unestimated, row.unestimated_rule = unestimated, unestimated_rule
    session.add(row)


def import_failed(
    session: Session, workspace_id: str, channel_id: str, tracker: str, kind: str, now: datetime, reason: str
) -> None:
    """Mark the team's imported figure stale with the reason; the last good figure stays as it was."""
    row = _import_row(session, workspace_id, channel_id, tracker, kind, now)
    row.stale, row.reason = True, reason[:500]
    session.add(row)
