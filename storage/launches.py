"""Launches, their steps, and the metric triggers' memory (when one breached, when it last posted).

A step row is the truth about a step: its time (`due_ts`, seconds since the epoch, UTC), whether it started
late, and what became of it. The scheduled job only wakes it: a run whose time is not the step's current
time (the launch moved) or whose step is no longer pending (it ran, was skipped, or the launch was
cancelled) does nothing, and `claim_step` lets exactly one run start it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Integer, Text, UniqueConstraint, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from storage.types import AwareDateTime

PENDING, RUNNING, DONE, SKIPPED, CANCELLED = "pending", "running", "done", "skipped", "cancelled"


class LaunchRow(SQLModel, table=True):
    __tablename__ = "launches"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    channel_id: str = Field(max_length=32)
    team_name: str
    title: str = Field(max_length=200)
    launch_date: date
    zone: str = Field(max_length=64)  # the creator's Slack zone: steps come at 10:00 there
    multiple: float = 10.0
    leads_json: str = "[]"
    status: str = Field(default="active", max_length=16)  # active | cancelled
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=AwareDateTime)
    updated_by: str = Field(max_length=32)
    updated_at: datetime = Field(sa_type=AwareDateTime)
    root_ts: str | None = Field(default=None, max_length=32)
    permalink: str | None = None

    @property
    def leads(self) -> list[str]:
        return list(json.loads(self.leads_json))


class LaunchStepRow(SQLModel, table=True):
    __tablename__ = "launch_steps"
    __table_args__ = (UniqueConstraint("launch_id", "step", name="uq_launch_steps_step"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    launch_id: int = Field(
        sa_column=Column(Integer, ForeignKey("launches.id", ondelete="CASCADE"), nullable=False)
    )
    step: str = Field(max_length=16)
    due_ts: int
    late: bool = False
    status: str = Field(default=PENDING, max_length=16)
    ran_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    note: str | None = Field(default=None, sa_column=Column(Text))
    premortem_id: int | None = None  # the pre-mortem this step started (its predictions resolve at T+30)


class TriggerNoticeRow(SQLModel, table=True):
    """One metric trigger of one team: since when it is breached, and when the bot last posted about it."""

    __tablename__ = "launch_trigger_notices"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id", "key", name="uq_launch_trigger_notices_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)
    key: str = Field(max_length=160)
    breached_since: datetime | None = Field(default=None, sa_type=AwareDateTime)
    posted_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


def _detach(session: Session, rows: Sequence[SQLModel]) -> None:
    for row in rows:
        session.expunge(row)


# --- launches --------------------------------------------------------------------------------------


def create(session: Session, row: LaunchRow, steps: Sequence[tuple[str, int, bool]]) -> LaunchRow:
    """Store a launch and its steps (step, due_ts, late)."""
    session.add(row)
    session.flush()
    assert row.id is not None
    for step, due_ts, late in steps:
        session.add(
            LaunchStepRow(
                workspace_id=row.workspace_id, launch_id=row.id, step=step, due_ts=due_ts, late=late
            )
        )
    session.flush()
    session.refresh(row)
    session.expunge(row)
    return row


def get(session: Session, workspace_id: str, launch_id: int) -> LaunchRow | None:
    row = session.exec(
        select(LaunchRow).where(LaunchRow.workspace_id == workspace_id, LaunchRow.id == launch_id)
    ).first()
    if row is not None:
        session.expunge(row)
    return row


def steps(session: Session, workspace_id: str, launch_id: int) -> list[LaunchStepRow]:
    rows = list(
        session.exec(
            select(LaunchStepRow)
            .where(LaunchStepRow.workspace_id == workspace_id, LaunchStepRow.launch_id == launch_id)
            .order_by(col(LaunchStepRow.due_ts), col(LaunchStepRow.id))
        )
    )
    _detach(session, rows)
    return rows


def upcoming(
    session: Session, workspace_id: str, first: date, last: date, channel_id: str | None = None
) -> list[LaunchRow]:
    """Active launches dated `first`..`last`, soonest first (of one channel, or of the workspace)."""
    query = select(LaunchRow).where(
        LaunchRow.workspace_id == workspace_id,
        LaunchRow.status == "active",
        col(LaunchRow.launch_date) >= first,
        col(LaunchRow.launch_date) <= last,
    )
    if channel_id is not None:
        query = query.where(LaunchRow.channel_id == channel_id)
    rows = list(session.exec(query.order_by(col(LaunchRow.launch_date), col(LaunchRow.id))))
    _detach(session, rows)
    return rows


def upcoming_with_steps(
    session: Session, workspace_id: str, first: date, last: date, channel_id: str | None = None
) -> list[tuple[LaunchRow, list[LaunchStepRow]]]:
    """`upcoming`, each launch with its steps (in two queries, however many launches)."""
    rows = upcoming(session, workspace_id, first, last, channel_id)
    ids = [row.id for row in rows if row.id is not None]
    by_launch: dict[int, list[LaunchStepRow]] = {launch_id: [] for launch_id in ids}
    if ids:
        found = list(
            session.exec(
                select(LaunchStepRow)
                .where(LaunchStepRow.workspace_id == workspace_id, col(LaunchStepRow.launch_id).in_(ids))
                .order_by(col(LaunchStepRow.due_ts), col(LaunchStepRow.id))
            )
        )
        _detach(session, found)
        for step in found:
            by_launch[step.launch_id].append(step)
    return [(row, by_launch.get(row.id, []) if row.id is not None else []) for row in rows]


def set_root(session: Session, workspace_id: str, launch_id: int, ts: str, permalink: str | None) -> None:
    session.execute(
        update(LaunchRow)
        .where(col(LaunchRow.workspace_id) == workspace_id, col(LaunchRow.id) == launch_id)
        .values(root_ts=ts, permalink=permalink)
    )


def discard(session: Session, workspace_id: str, launch_id: int) -> None:
    """Forget a launch whose message could not be posted."""
    row = session.get(LaunchRow, launch_id)
    if row is not None and row.workspace_id == workspace_id:
        for step in session.exec(select(LaunchStepRow).where(LaunchStepRow.launch_id == launch_id)):
            session.delete(step)
        session.delete(row)


def move(
    session: Session,
    workspace_id: str,
    launch_id: int,
    new_date: date,
    planned: Sequence[tuple[str, int, bool]],
    by: str,
    now: datetime,
) -> bool:
    """Give the launch a new date and its pending steps their new times; False when it is not active."""
    moved = session.execute(
        update(LaunchRow)
        .where(
            col(LaunchRow.workspace_id) == workspace_id,
            col(LaunchRow.id) == launch_id,
            col(LaunchRow.status) == "active",
        )
        .values(launch_date=new_date, updated_by=by, updated_at=now)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    for step, due_ts, late in planned:
        session.execute(
            update(LaunchStepRow)
            .where(
                col(LaunchStepRow.launch_id) == launch_id,
                col(LaunchStepRow.step) == step,
                col(LaunchStepRow.status) == PENDING,
            )
            .values(due_ts=due_ts, late=late)
        )
    return True


def cancel(session: Session, workspace_id: str, launch_id: int, by: str, now: datetime) -> bool:
    """Cancel the launch and every step still pending; False when it was not active."""
    cancelled = session.execute(
        update(LaunchRow)
        .where(
            col(LaunchRow.workspace_id) == workspace_id,
            col(LaunchRow.id) == launch_id,
            col(LaunchRow.status) == "active",
        )
        .values(status="cancelled", updated_by=by, updated_at=now)
    )
    if cancelled.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.execute(
        update(LaunchStepRow)
        .where(col(LaunchStepRow.launch_id) == launch_id, col(LaunchStepRow.status) == PENDING)
        .values(status=CANCELLED)
    )
    return True


# --- steps -----------------------------------------------------------------------------------------


def claim_step(session: Session, workspace_id: str, launch_id: int, step: str, due_ts: int) -> bool:
    """Start the step if it is still pending at this time and its launch is active: exactly one caller
    gets True."""
    active = session.exec(
        select(LaunchRow.id).where(
            LaunchRow.workspace_id == workspace_id, LaunchRow.id == launch_id, LaunchRow.status == "active"
        )
    ).first()
    if active is None:
        return False
    claimed = session.execute(
        update(LaunchStepRow)
        .where(
            col(LaunchStepRow.workspace_id) == workspace_id,
            col(LaunchStepRow.launch_id) == launch_id,
            col(LaunchStepRow.step) == step,
            col(LaunchStepRow.due_ts) == due_ts,
            col(LaunchStepRow.status) == PENDING,
        )
        .values(status=RUNNING)
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def finish_step(
    session: Session,
    workspace_id: str,
    launch_id: int,
    step: str,
    status: str,
    note: str | None,
    now: datetime,
) -> None:
    session.execute(
        update(LaunchStepRow)
        .where(
            col(LaunchStepRow.workspace_id) == workspace_id,
            col(LaunchStepRow.launch_id) == launch_id,
            col(LaunchStepRow.step) == step,
        )
        .values(status=status, note=note, ran_at=now)
    )


def link_premortem(session: Session, workspace_id: str, launch_id: int, step: str, premortem_id: int) -> None:
    """Remember the pre-mortem a step started."""
    session.execute(
        update(LaunchStepRow)
        .where(
            col(LaunchStepRow.workspace_id) == workspace_id,
            col(LaunchStepRow.launch_id) == launch_id,
            col(LaunchStepRow.step) == step,
        )
        .values(premortem_id=premortem_id)
    )


def launch_of_premortem(session: Session, workspace_id: str, premortem_id: int) -> LaunchRow | None:
    """The active launch whose step started the pre-mortem, if any."""
    row = session.exec(
        select(LaunchRow)
        .join(LaunchStepRow, col(LaunchStepRow.launch_id) == col(LaunchRow.id))
        .where(
            LaunchStepRow.workspace_id == workspace_id,
            LaunchStepRow.premortem_id == premortem_id,
            LaunchRow.status == "active",
        )
    ).first()
    if row is not None:
        session.expunge(row)
    return row


def premortems_of(session: Session, workspace_id: str, launch_id: int) -> list[int]:
    """The pre-mortems the launch's steps started."""
    found = session.exec(
        select(LaunchStepRow.premortem_id).where(
            LaunchStepRow.workspace_id == workspace_id,
            LaunchStepRow.launch_id == launch_id,
            col(LaunchStepRow.premortem_id).is_not(None),
        )
    )
    return [pm for pm in found if pm is not None]


# --- metric triggers -------------------------------------------------------------------------------


def _notice(session: Session, workspace_id: str, channel_id: str, key: str) -> TriggerNoticeRow:
    query = select(TriggerNoticeRow).where(
        TriggerNoticeRow.workspace_id == workspace_id,
        TriggerNoticeRow.channel_id == channel_id,
        TriggerNoticeRow.key == key,
    )
    row = session.exec(query).first()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = TriggerNoticeRow(workspace_id=workspace_id, channel_id=channel_id, key=key)
            session.add(row)
        return row
    except IntegrityError:
        found = session.exec(query).first()
        assert found is not None
        return found


def observe(
    session: Session, workspace_id: str, channel_id: str, breached: dict[str, bool], now: datetime
) -> dict[str, tuple[datetime | None, datetime | None]]:
    """Record which triggers are breached now; returns each one's (breached_since, posted_at). A trigger
    that is no longer breached forgets since when (a new breach starts its wait again)."""
    out: dict[str, tuple[datetime | None, datetime | None]] = {}
    for key, is_breached in breached.items():
        row = _notice(session, workspace_id, channel_id, key)
        if is_breached and row.breached_since is None:
            row.breached_since = now
        elif not is_breached:
            row.breached_since = None
        session.add(row)
        out[key] = (row.breached_since, row.posted_at)
    return out


def mark_posted(
    session: Session, workspace_id: str, channel_id: str, key: str, now: datetime, not_since: datetime
) -> bool:
    """Record a post about the trigger unless one was made after `not_since`: one caller wins."""
    done = session.execute(
        update(TriggerNoticeRow)
        .where(
            col(TriggerNoticeRow.workspace_id) == workspace_id,
            col(TriggerNoticeRow.channel_id) == channel_id,
            col(TriggerNoticeRow.key) == key,
            (col(TriggerNoticeRow.posted_at).is_(None)) | (col(TriggerNoticeRow.posted_at) < not_since),
        )
        .values(posted_at=now)
    )
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def unmark_posted(
    session: Session, workspace_id: str, channel_id: str, key: str, previous: datetime | None
) -> None:
    """Undo `mark_posted` when Slack refused the post."""
    session.execute(
        update(TriggerNoticeRow)
        .where(
            col(TriggerNoticeRow.workspace_id) == workspace_id,
            col(TriggerNoticeRow.channel_id) == channel_id,
            col(TriggerNoticeRow.key) == key,
        )
        .values(posted_at=previous)
    )
