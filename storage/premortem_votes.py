"""Pre-mortem votes (one per person per risk) and splits (a lead's "not the same")."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, delete, select

from storage.premortem import SplitRow, VoteRow, take

# --- votes and splits -------------------------------------------------------------------------------


def set_vote(
    session: Session, workspace_id: str, premortem_id: int, group_id: str, user_id: str, now: datetime
) -> bool:
    """Set a vote (True if it is new; the same click twice counts once)."""
    take(session, workspace_id, premortem_id, ["voting"], now)
    existing = session.exec(
        select(VoteRow).where(
            VoteRow.workspace_id == workspace_id,
            VoteRow.premortem_id == premortem_id,
            VoteRow.group_id == group_id,
            VoteRow.user_id == user_id,
        )
    ).first()
    if existing is not None:
        return False
    session.add(
        VoteRow(
            workspace_id=workspace_id,
            premortem_id=premortem_id,
            group_id=group_id,
            user_id=user_id,
            voted_at=now,
        )
    )
    return True


def remove_vote(
    session: Session, workspace_id: str, premortem_id: int, group_id: str, user_id: str, now: datetime
) -> bool:
    take(session, workspace_id, premortem_id, ["voting"], now)
    result = session.execute(
        delete(VoteRow).where(
            col(VoteRow.workspace_id) == workspace_id,
            col(VoteRow.premortem_id) == premortem_id,
            col(VoteRow.group_id) == group_id,
            col(VoteRow.user_id) == user_id,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def split(
    session: Session,
    workspace_id: str,
    premortem_id: int,
    group_key: str,
    parent_id: str,
    part_ids: list[str],
    by: str,
    now: datetime,
) -> bool:
    """Keep a merged group's names apart; its votes carry over to every part (nothing is lost)."""
    take(session, workspace_id, premortem_id, ["voting"], now)
    exists = session.exec(
        select(SplitRow).where(
            SplitRow.workspace_id == workspace_id,
            SplitRow.premortem_id == premortem_id,
            SplitRow.group_key == group_key,
        )
    ).first()
    if exists is not None:
        return False
    session.add(
        SplitRow(
            workspace_id=workspace_id,
            premortem_id=premortem_id,
            group_key=group_key,
            split_by=by,
            split_at=now,
        )
    )
    voters = session.exec(
        select(VoteRow).where(
            VoteRow.workspace_id == workspace_id,
            VoteRow.premortem_id == premortem_id,
            VoteRow.group_id == parent_id,
        )
    ).all()
    for vote in voters:
        for part in part_ids:
            session.add(
                VoteRow(
                    workspace_id=workspace_id,
                    premortem_id=premortem_id,
                    group_id=part,
                    user_id=vote.user_id,
                    voted_at=vote.voted_at,
                )
            )
    return True
