"""A pre-mortem's status changes: reveal, extend, cancel, close unanswered, close voting, and the stored
"data says". Each takes the pre-mortem's row first with an UPDATE guarded by its status (`take`), so each
change happens once, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session, col, select

from storage.premortem import Closed, PremortemRow, RiskRow, get, take


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
