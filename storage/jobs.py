"""Claims on scheduled runs: one row per (job, scheduled time), so a run happens once across schedulers."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import UniqueConstraint, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from storage.types import AwareDateTime


class JobRunRow(SQLModel, table=True):
    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_id", "run_time", name="uq_job_runs_job_time"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(index=True, max_length=191)
    run_time: datetime = Field(sa_type=AwareDateTime)
    # Whose job it is, for jobs that belong to a workspace (None for process-wide jobs).
    workspace_id: str | None = Field(default=None, index=True, max_length=32)
    # What to run again if the owner dies: the job kind and its arguments (JSON).
    kind: str = Field(default="", max_length=64)
    payload: str = "{}"
    status: str = Field(default="running", max_length=16)  # running, done, failed, missed
    owner: str = Field(max_length=191)
    lease_until: datetime = Field(sa_type=AwareDateTime)
    attempts: int = 1
    started_at: datetime = Field(sa_type=AwareDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    error: str | None = None


def _inserted(session: Session, row: JobRunRow) -> bool:
    """Insert `row`; False when its (job, run time) is already there (another scheduler's, or done)."""
    try:
        with session.begin_nested():
            session.add(row)
        return True
    except IntegrityError:
        return False


def claim(
    session: Session,
    job_id: str,
    run_time: datetime,
    owner: str,
    now: datetime,
    lease: timedelta,
    workspace_id: str | None = None,
    kind: str = "",
    payload: str = "{}",
) -> bool:
    """Take the run (job, run_time). False when another scheduler has it or it is done.

    A claim whose lease ran out without finishing (its process died) can be taken over.
    """
    claimed = JobRunRow(
        job_id=job_id,
        run_time=run_time,
        workspace_id=workspace_id,
        kind=kind,
        payload=payload,
        owner=owner,
        lease_until=now + lease,
        started_at=now,
    )
    if _inserted(session, claimed):
        return True
    # Compare-and-set: only one of several schedulers can take over an expired lease.
    result = session.execute(
        update(JobRunRow)
        .where(
            col(JobRunRow.job_id) == job_id,
            col(JobRunRow.run_time) == run_time,
            col(JobRunRow.status).in_(["running", "failed"]),
            col(JobRunRow.lease_until) < now,
        )
        .values(
            owner=owner,
            status="running",
            lease_until=now + lease,
            attempts=JobRunRow.attempts + 1,
            error=None,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def extend(session: Session, job_id: str, run_time: datetime, owner: str, until: datetime) -> bool:
    """Renew the lease while a long run is still working; False if someone else took it over."""
    result = session.execute(
        update(JobRunRow)
        .where(
            col(JobRunRow.job_id) == job_id,
            col(JobRunRow.run_time) == run_time,
            col(JobRunRow.owner) == owner,
            col(JobRunRow.status) == "running",
        )
        .values(lease_until=until)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(
    session: Session,
    job_id: str,
    run_time: datetime,
    owner: str,
    now: datetime,
    error: str | None = None,
    *,
    retry_after: timedelta | None = None,
) -> None:
    """Mark a claimed run done, or failed; a failed run may be retried by the sweeper after `retry_after`."""
    values: dict[str, object] = {
        "status": "failed" if error else "done",
        "finished_at": now,
        "error": error[:2000] if error else None,
    }
    if error and retry_after is not None:
        values["lease_until"] = now + retry_after
    session.execute(
        update(JobRunRow)
        .where(
            col(JobRunRow.job_id) == job_id,
            col(JobRunRow.run_time) == run_time,
            col(JobRunRow.owner) == owner,
        )
        .values(**values)
    )


def record_missed(session: Session, job_id: str, run_time: datetime, owner: str, now: datetime) -> bool:
    """Record a run that came back after its grace time, so `scalebot jobs` can show it was skipped."""
    missed = JobRunRow(
        job_id=job_id,
        run_time=run_time,
        owner=owner,
        status="missed",
        lease_until=now,
        started_at=now,
        finished_at=now,
    )
    return _inserted(session, missed)


def orphaned(session: Session, now: datetime, not_before: datetime, max_attempts: int) -> list[JobRunRow]:
    """Runs whose owner died (lease over, never finished) or that failed, still within their grace."""
    rows = session.exec(
        select(JobRunRow).where(
            col(JobRunRow.status).in_(["running", "failed"]),
            col(JobRunRow.lease_until) < now,
            col(JobRunRow.run_time) >= not_before,
            col(JobRunRow.attempts) < max_attempts,
        )
    )
    return _detached(session, list(rows))


def runs_of(session: Session, job_id: str) -> list[JobRunRow]:
    rows = session.exec(select(JobRunRow).where(JobRunRow.job_id == job_id).order_by(col(JobRunRow.run_time)))
    return _detached(session, list(rows))


def last_runs(session: Session, limit: int = 200) -> list[JobRunRow]:
    rows = session.exec(select(JobRunRow).order_by(col(JobRunRow.started_at).desc()).limit(limit))
    return _detached(session, list(rows))


def _detached(session: Session, rows: list[JobRunRow]) -> list[JobRunRow]:
    """Rows for reading after the session ends."""
    for row in rows:
        session.expunge(row)
    return rows
