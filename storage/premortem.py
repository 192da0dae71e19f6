"""Pre-mortems: the pre-mortem, its leads, their risks, votes, splits, reminders and mitigations.

Every row carries `workspace_id` and every function filters by it. A write that depends on the
pre-mortem's status first takes its row with an UPDATE guarded by that status (`take`), so an answer
never lands after the reveal, a vote never after voting closed, and the reveal happens once, on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint, update
from sqlmodel import Field, Session, SQLModel, col, delete, select

from storage.types import AwareDateTime


def pm_fk() -> Column:
    return Column(Integer, ForeignKey("premortems.id", ondelete="CASCADE"), nullable=False)


class PremortemRow(SQLModel, table=True):
    __tablename__ = "premortems"
    __table_args__ = (Index("ix_premortems_channel", "workspace_id", "channel_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)
    team_name: str
    status: str = Field(default="collecting", max_length=16)  # collecting | voting | planning | cancelled
    started_by: str = Field(max_length=32)
    started_at: datetime = Field(sa_type=AwareDateTime)
    deadline: datetime = Field(sa_type=AwareDateTime)
    updated_at: datetime = Field(sa_type=AwareDateTime)
    origin_check: int | None = None  # the signal check whose summary started it
    root_ts: str | None = Field(default=None, max_length=32)
    prompt_ts: str | None = Field(default=None, max_length=32)
    reveal_ts_json: str | None = Field(default=None, sa_column=Column(Text))
    data_ts: str | None = Field(default=None, max_length=32)
    top_ts: str | None = Field(default=None, max_length=32)
    permalink: str | None = None
    revealed_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    reveal_reason: str | None = Field(default=None, max_length=16)
    data_json: str | None = Field(default=None, sa_column=Column(Text))
    top_json: str | None = Field(default=None, sa_column=Column(Text))
    closed_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    closed_by: str | None = Field(default=None, max_length=32)
    cancelled_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    cancelled_by: str | None = Field(default=None, max_length=32)

    @property
    def reveal_ts(self) -> list[str]:
        return list(json.loads(self.reveal_ts_json)) if self.reveal_ts_json else []

    @property
    def top(self) -> list[str]:
        return list(json.loads(self.top_json)) if self.top_json else []


class LeadRow(SQLModel, table=True):
    __tablename__ = "premortem_leads"
    __table_args__ = (UniqueConstraint("premortem_id", "user_id", name="uq_premortem_leads_user"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    premortem_id: int = Field(sa_column=pm_fk())
    user_id: str = Field(max_length=32)
    position: int
    added_by: str = Field(max_length=32)
    added_at: datetime = Field(sa_type=AwareDateTime)
    in_channel: bool = True
    tz: str | None = Field(default=None, max_length=64)
    answered_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    answer_updated_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    snoozed_until: datetime | None = Field(default=None, sa_type=AwareDateTime)
    replaced_by: str | None = Field(default=None, max_length=32)
    replaced_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class RiskRow(SQLModel, table=True):
    __tablename__ = "premortem_risks"
    __table_args__ = (UniqueConstraint("premortem_id", "lead", "rank", name="uq_premortem_risks_rank"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    premortem_id: int = Field(sa_column=pm_fk())
    lead: str = Field(max_length=32)
    rank: int
    component: str
    why: str = Field(default="", sa_column=Column(Text, nullable=False))
    evidence_kind: str | None = Field(default=None, max_length=16)
    evidence: str = Field(default="", sa_column=Column(Text, nullable=False))
    likelihood: float | None = None  # the lead's stated probability that it breaks (calibration)
    recorded_at: datetime = Field(sa_type=AwareDateTime)


class VoteRow(SQLModel, table=True):
    __tablename__ = "premortem_votes"
    __table_args__ = (UniqueConstraint("premortem_id", "group_id", "user_id", name="uq_premortem_votes"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    premortem_id: int = Field(sa_column=pm_fk())
    group_id: str = Field(max_length=16)
    user_id: str = Field(max_length=32)
    voted_at: datetime = Field(sa_type=AwareDateTime)


class SplitRow(SQLModel, table=True):
    __tablename__ = "premortem_splits"
    __table_args__ = (UniqueConstraint("premortem_id", "group_key", name="uq_premortem_splits"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    premortem_id: int = Field(sa_column=pm_fk())
    group_key: str
    split_by: str = Field(max_length=32)
    split_at: datetime = Field(sa_type=AwareDateTime)


class ReminderRow(SQLModel, table=True):
    __tablename__ = "premortem_reminders"
    __table_args__ = (
        UniqueConstraint("premortem_id", "user_id", "step", name="uq_premortem_reminders_step"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    premortem_id: int = Field(sa_column=pm_fk())
    user_id: str = Field(max_length=32)
    step: str = Field(max_length=64)
    sent_at: datetime = Field(sa_type=AwareDateTime)
    dm_channel: str | None = Field(default=None, max_length=32)
    dm_ts: str | None = Field(default=None, max_length=32)


class Closed(Exception):
    """The pre-mortem is not in a status that allows this write."""

    def __init__(self, row: PremortemRow | None) -> None:
        super().__init__(row.status if row else "missing")
        self.row = row


@dataclass(frozen=True)
class Loaded:
    premortem: PremortemRow
    leads: list[LeadRow]  # every lead ever named (replaced ones too), in position order
    risks: list[RiskRow]
    votes: list[VoteRow]
    splits: list[SplitRow]


@dataclass(frozen=True)
class NewLead:
    user_id: str
    in_channel: bool
    tz: str | None


# --- pre-mortems ------------------------------------------------------------------------------------


def get(session: Session, workspace_id: str, premortem_id: int) -> PremortemRow | None:
    return session.exec(
        select(PremortemRow).where(PremortemRow.workspace_id == workspace_id, PremortemRow.id == premortem_id)
    ).first()


def take(
    session: Session, workspace_id: str, premortem_id: int, statuses: Sequence[str], now: datetime
) -> PremortemRow:
    """Lock the pre-mortem's row if it is in one of `statuses`; raise `Closed` otherwise."""
    result = session.execute(
        update(PremortemRow)
        .where(
            col(PremortemRow.workspace_id) == workspace_id,
            col(PremortemRow.id) == premortem_id,
            col(PremortemRow.status).in_(list(statuses)),
        )
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    row = get(session, workspace_id, premortem_id)
    if result.rowcount == 0 or row is None:  # type: ignore[attr-defined]
        raise Closed(row)
    session.refresh(row)
    return row


def create(
    session: Session,
    workspace_id: str,
    channel_id: str,
    team_name: str,
    started_by: str,
    now: datetime,
    deadline: datetime,
    leads: Sequence[NewLead],
    origin_check: int | None = None,
) -> PremortemRow:
    row = PremortemRow(
        workspace_id=workspace_id,
        channel_id=channel_id,
        team_name=team_name,
        started_by=started_by,
        started_at=now,
        deadline=deadline,
        updated_at=now,
        origin_check=origin_check,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    for position, lead in enumerate(leads):
        session.add(
            LeadRow(
                workspace_id=workspace_id,
                premortem_id=row.id,
                user_id=lead.user_id,
                position=position,
                added_by=started_by,
                added_at=now,
                in_channel=lead.in_channel,
                tz=lead.tz,
            )
        )
    session.flush()
    return row


def discard(session: Session, workspace_id: str, premortem_id: int) -> None:
    """Remove a pre-mortem whose root message could not be posted (nothing else refers to it yet)."""
    session.execute(
        delete(PremortemRow).where(
            col(PremortemRow.workspace_id) == workspace_id, col(PremortemRow.id) == premortem_id
        )
    )


def set_messages(
    session: Session, workspace_id: str, premortem_id: int, **ts: str | list[str] | None
) -> None:
    """Remember where the pre-mortem's messages are (root_ts, prompt_ts, reveal_ts, data_ts, top_ts…)."""
    row = get(session, workspace_id, premortem_id)
    if row is None:
        return
    for name, value in ts.items():
        if name == "reveal_ts":
            row.reveal_ts_json = json.dumps(value)
        else:
            setattr(row, name, value)
    session.add(row)


def load(session: Session, workspace_id: str, premortem_id: int) -> Loaded | None:
    row = get(session, workspace_id, premortem_id)
    if row is None:
        return None

    def rows(model: type[SQLModel], *order: object) -> list:
        query = select(model).where(
            model.workspace_id == workspace_id,  # type: ignore[attr-defined]
            model.premortem_id == premortem_id,  # type: ignore[attr-defined]
        )
        return list(session.exec(query.order_by(*order)))  # type: ignore[arg-type]

    return Loaded(
        premortem=row,
        leads=rows(LeadRow, col(LeadRow.position)),
        risks=rows(RiskRow, col(RiskRow.lead), col(RiskRow.rank)),
        votes=rows(VoteRow, col(VoteRow.id)),
        splits=rows(SplitRow, col(SplitRow.id)),
    )


def active_in_channel(session: Session, workspace_id: str, channel_id: str) -> list[PremortemRow]:
    return list(
        session.exec(
            select(PremortemRow)
            .where(
                PremortemRow.workspace_id == workspace_id,
                PremortemRow.channel_id == channel_id,
                col(PremortemRow.status).in_(["collecting", "voting"]),
            )
            .order_by(col(PremortemRow.id).desc())
        )
    )


def in_channel(session: Session, workspace_id: str, channel_id: str, limit: int = 20) -> list[PremortemRow]:
    """The channel's pre-mortems, newest first."""
    return list(
        session.exec(
            select(PremortemRow)
            .where(PremortemRow.workspace_id == workspace_id, PremortemRow.channel_id == channel_id)
            .order_by(col(PremortemRow.id).desc())
            .limit(limit)
        )
    )


def known_components(session: Session, workspace_id: str, channel_id: str) -> list[str]:
    """Components named in the team's revealed pre-mortems, most often named first.

    Answers of a pre-mortem that is still collecting (or was cancelled before its reveal) stay
    hidden: offering them as suggestions would show one lead what another wrote.
    """
    rows = session.exec(
        select(RiskRow.component)
        .join(PremortemRow, col(PremortemRow.id) == col(RiskRow.premortem_id))
        .where(
            RiskRow.workspace_id == workspace_id,
            PremortemRow.workspace_id == workspace_id,
            PremortemRow.channel_id == channel_id,
            col(PremortemRow.revealed_at).is_not(None),
        )
    )
    counts: dict[str, int] = {}
    for name in rows:
        counts[name] = counts.get(name, 0) + 1
    return sorted(counts, key=lambda n: (-counts[n], n.casefold()))


# --- lifecycle --------------------------------------------------------------------------------------


def reveal(session: Session, workspace_id: str, premortem_id: int, reason: str, now: datetime) -> bool:
    """Collecting → voting, once; False when another caller revealed it (or it was cancelled)."""
    try:
        row = take(session, workspace_id, premortem_id, ["collecting"], now)
    except Closed:
        return False
    row.status, row.revealed_at, row.reveal_reason = "voting", now, reason
    session.add(row)
    return True


def extend(session: Session, workspace_id: str, premortem_id: int, deadline: datetime, now: datetime) -> bool:
    """Set a later deadline while answers are collected; False when it is already that late."""
    row = take(session, workspace_id, premortem_id, ["collecting"], now)
    if row.deadline >= deadline:
        return False
    row.deadline = deadline
    session.add(row)
    return True


def cancel(session: Session, workspace_id: str, premortem_id: int, by: str, now: datetime) -> PremortemRow:
    """Collecting or voting → cancelled by a person (the starter, a manager or an admin)."""
    row = take(session, workspace_id, premortem_id, ["collecting", "voting"], now)
    row.status, row.cancelled_by, row.cancelled_at = "cancelled", by, now
    session.add(row)
    return row


def close_unanswered(session: Session, workspace_id: str, premortem_id: int, now: datetime) -> bool:
    """Collecting → cancelled (by nobody: the deadline) if no lead has answered, under the row's lock
    that answers take too; False when an answer got in first (then it is revealed instead)."""
    row = take(session, workspace_id, premortem_id, ["collecting"], now)
    answered = session.exec(
        select(RiskRow.id)
        .where(col(RiskRow.workspace_id) == workspace_id, col(RiskRow.premortem_id) == premortem_id)
        .limit(1)
    ).first()
    if answered is not None:
        return False
    row.status, row.cancelled_by, row.cancelled_at = "cancelled", None, now
    session.add(row)
    return True


def close_voting(
    session: Session, workspace_id: str, premortem_id: int, top: list[str], by: str, now: datetime
) -> bool:
    """Voting → planning with the chosen top risks; False if voting was already closed."""
    try:
        row = take(session, workspace_id, premortem_id, ["voting"], now)
    except Closed as exc:
        if exc.row is not None and exc.row.status == "planning":
            return False
        raise
    row.status, row.closed_by, row.closed_at, row.top_json = "planning", by, now, json.dumps(top)
    session.add(row)
    return True


def set_data(session: Session, workspace_id: str, premortem_id: int, data_json: str) -> None:
    row = get(session, workspace_id, premortem_id)
    if row is not None:
        row.data_json = data_json
        session.add(row)
