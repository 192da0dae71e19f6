"""Who was found away when the bot tried to reach them, per thing that waits for them (a pre-mortem's
reminders today, a launch's steps next), and the one offer to move a deadline because most are away.

`subject` names what waits ("premortem:12"); one hold per (workspace, subject, person) says which step is
held, until when they are away (None: no end known), when they are tried again and how often they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, delete, select

from storage.types import AwareDateTime


class AwayHoldRow(SQLModel, table=True):
    __tablename__ = "away_holds"
    __table_args__ = (UniqueConstraint("workspace_id", "subject", "user_id", name="uq_away_holds_user"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    subject: str = Field(max_length=64)
    user_id: str = Field(max_length=32)
    step: str = Field(max_length=32)
    why: str = Field(max_length=16)  # "status" | "dnd"
    until: datetime | None = Field(default=None, sa_type=AwareDateTime)
    retry_at: datetime | None = None  # None: given up (the daily retries ran out, or it is too late)
    tries: int = 0
    updated_at: datetime = Field(sa_type=AwareDateTime)


class AwayOfferRow(SQLModel, table=True):
    __tablename__ = "away_offers"
    __table_args__ = (UniqueConstraint("workspace_id", "subject", name="uq_away_offers_subject"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    subject: str = Field(max_length=64)
    offered_to: str = Field(max_length=32)
    offered_at: datetime = Field(sa_type=AwareDateTime)


@dataclass(frozen=True)
class Hold:
    user_id: str
    step: str
    why: str
    until: datetime | None
    retry_at: datetime | None
    tries: int


def _hold(row: AwayHoldRow) -> Hold:
    return Hold(row.user_id, row.step, row.why, row.until, row.retry_at, row.tries)


def holds(session: Session, workspace_id: str, subject: str) -> dict[str, Hold]:
    rows = session.exec(
        select(AwayHoldRow).where(AwayHoldRow.workspace_id == workspace_id, AwayHoldRow.subject == subject)
    )
    return {row.user_id: _hold(row) for row in rows}


def hold(
    session: Session,
    workspace_id: str,
    subject: str,
    user_id: str,
    step: str,
    why: str,
    until: datetime | None,
    now: datetime,
) -> int:
    """Record that `user_id` was found away for `step`; returns how many times in a row they were."""
    row = session.exec(
        select(AwayHoldRow)
        .where(
            AwayHoldRow.workspace_id == workspace_id,
            AwayHoldRow.subject == subject,
            AwayHoldRow.user_id == user_id,
        )
        .with_for_update()
    ).first()
    if row is None:
        row = AwayHoldRow(
            workspace_id=workspace_id, subject=subject, user_id=user_id, step=step, why=why, updated_at=now
        )
    row.tries = (row.tries if row.step == step else 0) + 1
    row.step, row.why, row.until, row.updated_at = step, why, until, now
    session.add(row)
    session.commit()
    return row.tries


def set_retry(
    session: Session, workspace_id: str, subject: str, user_id: str, retry_at: datetime | None
) -> None:
    row = session.exec(
        select(AwayHoldRow).where(
            AwayHoldRow.workspace_id == workspace_id,
            AwayHoldRow.subject == subject,
            AwayHoldRow.user_id == user_id,
        )
    ).first()
    if row is not None:
        row.retry_at = retry_at
        session.add(row)
        session.commit()


def release(session: Session, workspace_id: str, subject: str, user_id: str) -> bool:
    """They were reached: forget the hold. True when there was one."""
    result = session.execute(
        delete(AwayHoldRow).where(
            col(AwayHoldRow.workspace_id) == workspace_id,
            col(AwayHoldRow.subject) == subject,
            col(AwayHoldRow.user_id) == user_id,
        )
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim_offer(session: Session, workspace_id: str, subject: str, offered_to: str, now: datetime) -> bool:
    """Record the one offer to move `subject`'s deadline; False when it was already made."""
    session.add(
        AwayOfferRow(workspace_id=workspace_id, subject=subject, offered_to=offered_to, offered_at=now)
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def offered(session: Session, workspace_id: str, subject: str) -> bool:
    return (
        session.exec(
            select(AwayOfferRow).where(
                AwayOfferRow.workspace_id == workspace_id, AwayOfferRow.subject == subject
            )
        ).first()
        is not None
    )
