"""The scheduled jobs: one row per job, with its trigger and its next fire time.

The trigger is stored as bytes the scheduler writes and reads (an APScheduler trigger, pickled); this module
never looks inside. Everything a listing shows — kind, workspace, arguments, the trigger's description, the
next run — is a plain column, so listing or looking up jobs reads no pickle. `next_run_time` is seconds since
the epoch (UTC) and `zone` the time zone the trigger fires in, for showing the next run in it.
"""

from __future__ import annotations

from sqlalchemy import LargeBinary, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Column, Field, Session, SQLModel, col, select


class ScheduledJobRow(SQLModel, table=True):
    __tablename__ = "scheduled_jobs"

    id: str = Field(primary_key=True, max_length=191)  # kind/workspace-or-dash/key
    kind: str = Field(max_length=64)
    workspace_id: str | None = Field(default=None, index=True, max_length=32)
    kwargs: str = "{}"  # JSON
    trigger: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    description: str  # str(trigger), for `scalebot jobs`
    zone: str = Field(default="UTC", max_length=64)
    next_run_time: float = Field(index=True)
    # Bumped by every write of the job (not by advancing it), so a scheduler that read the job before a
    # reschedule cannot write its old trigger's next fire time over the new one.
    revision: int = 1


def save(session: Session, row: ScheduledJobRow) -> None:
    """Create the job, or replace an existing one with the same id (a reschedule)."""
    try:
        with session.begin_nested():
            session.add(row)
        return
    except IntegrityError:
        pass  # the savepoint's rollback took the new row out of the session again
    session.execute(
        update(ScheduledJobRow)
        .where(col(ScheduledJobRow.id) == row.id)
        .values(
            kind=row.kind,
            workspace_id=row.workspace_id,
            kwargs=row.kwargs,
            trigger=row.trigger,
            description=row.description,
            zone=row.zone,
            next_run_time=row.next_run_time,
            revision=ScheduledJobRow.revision + 1,
        )
    )


def get(session: Session, job_id: str) -> ScheduledJobRow | None:
    row = session.get(ScheduledJobRow, job_id)
    if row is not None:
        session.expunge(row)
    return row


def listing(session: Session, prefix: str = "") -> list[ScheduledJobRow]:
    """Every job, or those whose id starts with `prefix`, by id."""
    query = select(ScheduledJobRow).order_by(col(ScheduledJobRow.id))
    if prefix:
        query = query.where(col(ScheduledJobRow.id).startswith(prefix, autoescape=True))
    return _detached(session, list(session.exec(query)))


def remove(session: Session, job_id: str) -> bool:
    result = session.execute(delete(ScheduledJobRow).where(col(ScheduledJobRow.id) == job_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def remove_workspace(session: Session, workspace_id: str) -> int:
    result = session.execute(delete(ScheduledJobRow).where(col(ScheduledJobRow.workspace_id) == workspace_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def due(session: Session, now: float) -> list[ScheduledJobRow]:
    """Jobs whose next fire time has come, earliest first."""
    query = (
        select(ScheduledJobRow)
        .where(col(ScheduledJobRow.next_run_time) <= now)
        .order_by(col(ScheduledJobRow.next_run_time))
    )
    return _detached(session, list(session.exec(query)))


def next_run_time(session: Session, excluding: set[str] | frozenset[str] = frozenset()) -> float | None:
    """The earliest next fire time of any job but those named."""
    query = select(ScheduledJobRow.next_run_time).order_by(col(ScheduledJobRow.next_run_time)).limit(1)
    if excluding:
        query = query.where(col(ScheduledJobRow.id).not_in(excluding))
    return session.exec(query).first()


def advance(session: Session, row: ScheduledJobRow, following: float | None) -> bool:
    """Move the job past the run just handed out: to `following`, or away when its trigger is done.

    Compare-and-set on the row as read: False (and nothing written) when the job was rescheduled or removed
    meanwhile, or another scheduler advanced it first.
    """
    same = (
        col(ScheduledJobRow.id) == row.id,
        col(ScheduledJobRow.revision) == row.revision,
        col(ScheduledJobRow.next_run_time) == row.next_run_time,
    )
    if following is None:
        result = session.execute(delete(ScheduledJobRow).where(*same))
    else:
        result = session.execute(update(ScheduledJobRow).where(*same).values(next_run_time=following))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _detached(session: Session, rows: list[ScheduledJobRow]) -> list[ScheduledJobRow]:
    for row in rows:
        session.expunge(row)
    return rows
