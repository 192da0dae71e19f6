"""Signal checks: the check (with the playbook it was asked from), its answers, its thread messages.

Every write to an open check first takes the check's row (an UPDATE guarded by `status = 'open'`), so
answers, cancelling and finishing are serialised per check on SQLite and PostgreSQL alike: an answer
never lands on a finished check, and the finisher sees every answer committed before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint, func, update
from sqlmodel import Field, Session, SQLModel, col, delete, select

from storage.types import AwareDateTime


class CheckRow(SQLModel, table=True):
    __tablename__ = "checklist_checks"
    __table_args__ = (Index("ix_checklist_checks_channel", "workspace_id", "channel_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)
    team_name: str
    playbook_ref: str
    playbook_digest: str = Field(max_length=32)
    playbook_json: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", max_length=16)  # open | done | cancelled
    started_by: str = Field(max_length=32)
    started_at: datetime = Field(sa_type=AwareDateTime)
    updated_at: datetime = Field(sa_type=AwareDateTime)
    root_ts: str | None = Field(default=None, max_length=32)
    root_digest: str | None = Field(default=None, max_length=64)
    permalink: str | None = None
    finished_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    cancelled_by: str | None = Field(default=None, max_length=32)
    cancelled_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    verdict: str | None = Field(default=None, max_length=32)
    score: float | None = None
    band: str | None = Field(default=None, max_length=8)
    verdict_ts: str | None = Field(default=None, max_length=32)
    shared_by: str | None = Field(default=None, max_length=32)
    shared_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class AnswerRow(SQLModel, table=True):
    __tablename__ = "checklist_answers"
    __table_args__ = (UniqueConstraint("check_id", "question_id", name="uq_checklist_answers_question"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    check_id: int = Field(
        sa_column=Column(Integer, ForeignKey("checklist_checks.id", ondelete="CASCADE"), nullable=False)
    )
    question_id: str = Field(max_length=40)
    value: str = Field(sa_column=Column(Text, nullable=False))
    answered_by: str = Field(max_length=32)
    answered_at: datetime = Field(sa_type=AwareDateTime)


class MessageRow(SQLModel, table=True):
    """One message of a check's thread, and a digest of what it last showed (to skip no-op updates)."""

    __tablename__ = "checklist_messages"
    __table_args__ = (UniqueConstraint("check_id", "seq", name="uq_checklist_messages_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    check_id: int = Field(
        sa_column=Column(Integer, ForeignKey("checklist_checks.id", ondelete="CASCADE"), nullable=False)
    )
    seq: int
    ts: str = Field(max_length=32)
    digest: str = Field(max_length=64)


@dataclass(frozen=True)
class Loaded:
    check: CheckRow
    answers: list[AnswerRow]
    messages: list[MessageRow]


RecordOutcome = Literal["recorded", "unchanged", "closed", "unknown"]
Decide = Callable[[CheckRow, dict[str, str]], tuple[str | None, float | None, str | None] | None]


def _take_open(session: Session, workspace_id: str, check_id: int, now: datetime) -> bool:
    """Lock an open check's row for this transaction; False when it is not open (or not ours)."""
    result = session.exec(
        update(CheckRow)
        .where(
            col(CheckRow.id) == check_id,
            col(CheckRow.workspace_id) == workspace_id,
            col(CheckRow.status) == "open",
        )
        .values(updated_at=now)
    )
    return bool(result.rowcount == 1)


def create_check(
    session: Session,
    workspace_id: str,
    channel_id: str,
    team_name: str,
    playbook_ref: str,
    playbook_json: str,
    playbook_digest: str,
    user_id: str,
    now: datetime,
) -> CheckRow:
    row = CheckRow(
        workspace_id=workspace_id,
        channel_id=channel_id,
        team_name=team_name,
        playbook_ref=playbook_ref,
        playbook_json=playbook_json,
        playbook_digest=playbook_digest,
        started_by=user_id,
        started_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def discard_check(session: Session, workspace_id: str, check_id: int) -> None:
    """Forget a check whose root message could not be posted."""
    session.exec(
        delete(CheckRow).where(col(CheckRow.id) == check_id, col(CheckRow.workspace_id) == workspace_id)
    )


def set_root(
    session: Session, workspace_id: str, check_id: int, ts: str, digest: str, permalink: str | None
) -> None:
    session.exec(
        update(CheckRow)
        .where(col(CheckRow.id) == check_id, col(CheckRow.workspace_id) == workspace_id)
        .values(root_ts=ts, root_digest=digest, permalink=permalink)
    )


def get_check(session: Session, workspace_id: str, check_id: int) -> CheckRow | None:
    return session.exec(
        select(CheckRow).where(col(CheckRow.id) == check_id, col(CheckRow.workspace_id) == workspace_id)
    ).first()


def load(session: Session, workspace_id: str, check_id: int) -> Loaded | None:
    """A check with its answers and thread messages, read in one transaction."""
    check = get_check(session, workspace_id, check_id)
    if check is None:
        return None
    answers = session.exec(
        select(AnswerRow).where(
            col(AnswerRow.check_id) == check_id, col(AnswerRow.workspace_id) == workspace_id
        )
    ).all()
    messages = session.exec(
        select(MessageRow)
        .where(col(MessageRow.check_id) == check_id, col(MessageRow.workspace_id) == workspace_id)
        .order_by(col(MessageRow.seq))
    ).all()
    return Loaded(check, list(answers), list(messages))


def open_checks(session: Session, workspace_id: str, channel_id: str) -> list[CheckRow]:
    """The channel's open checks, newest first."""
    return list(
        session.exec(
            select(CheckRow)
            .where(
                col(CheckRow.workspace_id) == workspace_id,
                col(CheckRow.channel_id) == channel_id,
                col(CheckRow.status) == "open",
            )
            .order_by(col(CheckRow.started_at).desc(), col(CheckRow.id).desc())
        )
    )


def record_answer(
    session: Session,
    workspace_id: str,
    check_id: int,
    question_id: str,
    value: str,
    user_id: str,
    now: datetime,
) -> RecordOutcome:
    """Set an answer (the last write wins, with who and when); the same answer twice changes nothing."""
    if not _take_open(session, workspace_id, check_id, now):
        return "unknown" if get_check(session, workspace_id, check_id) is None else "closed"
    row = session.exec(
        select(AnswerRow).where(
            col(AnswerRow.workspace_id) == workspace_id,
            col(AnswerRow.check_id) == check_id,
            col(AnswerRow.question_id) == question_id,
        )
    ).first()
    if row is None:
        row = AnswerRow(
            workspace_id=workspace_id,
            check_id=check_id,
            question_id=question_id,
            value=value,
            answered_by=user_id,
            answered_at=now,
        )
    elif row.value == value and row.answered_by == user_id:
        return "unchanged"
    else:
        row.value, row.answered_by, row.answered_at = value, user_id, now
    session.add(row)
    return "recorded"


def finish_if_complete(
    session: Session, workspace_id: str, check_id: int, decide: Decide, now: datetime
) -> CheckRow | None:
    """Close the check when `decide(check, answers)` says it is complete: (verdict, score, band) or None.

    Exactly one caller finishes a check, however many answers arrive together.
    """
    if not _take_open(session, workspace_id, check_id, now):
        return None
    check = get_check(session, workspace_id, check_id)
    if check is None:
        return None
    answers = session.exec(
        select(AnswerRow).where(
            col(AnswerRow.check_id) == check_id, col(AnswerRow.workspace_id) == workspace_id
        )
    ).all()
    decided = decide(check, {a.question_id: a.value for a in answers})
    if decided is None:
        return None
    check.verdict, check.score, check.band = decided
    check.status, check.finished_at = "done", now
    session.add(check)
    return check


def cancel(session: Session, workspace_id: str, check_id: int, user_id: str, now: datetime) -> bool:
    """Cancel an open check; False when it was not open."""
    if not _take_open(session, workspace_id, check_id, now):
        return False
    session.exec(
        update(CheckRow)
        .where(col(CheckRow.id) == check_id, col(CheckRow.workspace_id) == workspace_id)
        .values(status="cancelled", cancelled_by=user_id, cancelled_at=now)
    )
    return True


def upgrade_playbook(
    session: Session,
    workspace_id: str,
    check_id: int,
    old_digest: str,
    ref: str,
    playbook_json: str,
    digest: str,
    drop_answers: Iterable[str],
    now: datetime,
) -> bool:
    """Move an open check to a changed playbook, dropping answers that no longer fit; once per change."""
    if not _take_open(session, workspace_id, check_id, now):
        return False
    check = get_check(session, workspace_id, check_id)
    if check is None or check.playbook_digest != old_digest:
        return False
    check.playbook_ref, check.playbook_json, check.playbook_digest = ref, playbook_json, digest
    session.add(check)
    dropped = list(drop_answers)
    if dropped:
        session.exec(
            delete(AnswerRow).where(
                col(AnswerRow.workspace_id) == workspace_id,
                col(AnswerRow.check_id) == check_id,
                col(AnswerRow.question_id).in_(dropped),
            )
        )
    return True


def save_message(session: Session, workspace_id: str, check_id: int, seq: int, ts: str, digest: str) -> None:
    row = session.exec(
        select(MessageRow).where(
            col(MessageRow.workspace_id) == workspace_id,
            col(MessageRow.check_id) == check_id,
            col(MessageRow.seq) == seq,
        )
    ).first()
    if row is None:
        row = MessageRow(workspace_id=workspace_id, check_id=check_id, seq=seq, ts=ts, digest=digest)
    row.ts, row.digest = ts, digest
    session.add(row)


def drop_message(session: Session, workspace_id: str, check_id: int, seq: int) -> None:
    session.exec(
        delete(MessageRow).where(
            col(MessageRow.check_id) == check_id,
            col(MessageRow.workspace_id) == workspace_id,
            col(MessageRow.seq) == seq,
        )
    )


def set_root_digest(session: Session, workspace_id: str, check_id: int, digest: str) -> None:
    session.exec(
        update(CheckRow)
        .where(col(CheckRow.id) == check_id, col(CheckRow.workspace_id) == workspace_id)
        .values(root_digest=digest)
    )


def set_verdict_ts(session: Session, workspace_id: str, check_id: int, ts: str) -> None:
    session.exec(
        update(CheckRow)
        .where(col(CheckRow.id) == check_id, col(CheckRow.workspace_id) == workspace_id)
        .values(verdict_ts=ts)
    )


def mark_shared(session: Session, workspace_id: str, check_id: int, user_id: str, now: datetime) -> bool:
    """Record who shared the summary; False when it was already shared (or the check is not done)."""
    result = session.exec(
        update(CheckRow)
        .where(
            col(CheckRow.id) == check_id,
            col(CheckRow.workspace_id) == workspace_id,
            col(CheckRow.status) == "done",
            col(CheckRow.shared_by).is_(None),
        )
        .values(shared_by=user_id, shared_at=now)
    )
    return bool(result.rowcount == 1)


def unmark_shared(session: Session, workspace_id: str, check_id: int) -> None:
    """Undo `mark_shared` when posting the summary failed, so the button works again."""
    session.exec(
        update(CheckRow)
        .where(col(CheckRow.id) == check_id, col(CheckRow.workspace_id) == workspace_id)
        .values(shared_by=None, shared_at=None)
    )


def history(
    session: Session, workspace_id: str, channel_id: str, limit: int
) -> list[tuple[CheckRow, frozenset[str]]]:
    """The channel's checks, newest first, each with the ids of the questions it has answers to.

    Ids, not a count: a check moved to a changed playbook keeps the answers to questions the playbook
    dropped, and only its playbook (stored as JSON on the check) says which ids still count.
    """
    checks = list(
        session.exec(
            select(CheckRow)
            .where(col(CheckRow.workspace_id) == workspace_id, col(CheckRow.channel_id) == channel_id)
            .where(col(CheckRow.root_ts).is_not(None))
            .order_by(col(CheckRow.started_at).desc(), col(CheckRow.id).desc())
            .limit(limit)
        )
    )
    answered: dict[int, set[str]] = {}
    ids = [c.id for c in checks if c.id is not None]
    if ids:
        for check_id, question_id in session.exec(
            select(AnswerRow.check_id, AnswerRow.question_id).where(
                col(AnswerRow.workspace_id) == workspace_id, col(AnswerRow.check_id).in_(ids)
            )
        ):
            answered.setdefault(check_id, set()).add(question_id)
    return [(c, frozenset(answered.get(c.id or 0, ()))) for c in checks]


def count_checks(session: Session, workspace_id: str, channel_id: str) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(CheckRow)
            .where(
                col(CheckRow.workspace_id) == workspace_id,
                col(CheckRow.channel_id) == channel_id,
                col(CheckRow.root_ts).is_not(None),
            )
        ).one()
    )
