"""Pre-mortem answers and leads: a lead's risks, who is in the channel, replacing a lead, snoozing, and
the reminders sent (one per lead and step)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, delete, select

from storage.premortem import LeadRow, NewLead, ReminderRow, RiskRow, take

# --- leads and answers ------------------------------------------------------------------------------


def _lead(session: Session, workspace_id: str, premortem_id: int, user_id: str) -> LeadRow | None:
    return session.exec(
        select(LeadRow).where(
            LeadRow.workspace_id == workspace_id,
            LeadRow.premortem_id == premortem_id,
            LeadRow.user_id == user_id,
        )
    ).first()


class NotALead(Exception):
    pass


def save_answer(
    session: Session,
    workspace_id: str,
    premortem_id: int,
    lead: str,
    risks: Iterable[tuple[int, str, str, str | None, str, float | None]],
    now: datetime,
) -> bool:
    """Store a lead's risks (rank, component, why, evidence kind, evidence, likelihood), replacing any
    earlier answer.

    Returns True for a first answer, False for an edit. Raises `Closed` after the reveal, `NotALead`.
    """
    take(session, workspace_id, premortem_id, ["collecting"], now)
    row = _lead(session, workspace_id, premortem_id, lead)
    if row is None or row.replaced_by is not None:
        raise NotALead(lead)
    session.execute(
        delete(RiskRow).where(
            col(RiskRow.workspace_id) == workspace_id,
            col(RiskRow.premortem_id) == premortem_id,
            col(RiskRow.lead) == lead,
        )
    )
    for rank, component, why, kind, evidence, likelihood in risks:
        session.add(
            RiskRow(
                workspace_id=workspace_id,
                premortem_id=premortem_id,
                lead=lead,
                rank=rank,
                component=component,
                why=why,
                evidence_kind=kind,
                evidence=evidence,
                likelihood=likelihood,
                recorded_at=now,
            )
        )
    first = row.answered_at is None
    if first:
        row.answered_at = now
    row.answer_updated_at = now
    row.in_channel = True
    session.add(row)
    return first


def set_membership(
    session: Session, workspace_id: str, premortem_id: int, present: dict[str, bool]
) -> list[str]:
    """Record which leads are in the channel; returns the leads whose membership changed."""
    changed = []
    for user_id, is_in in present.items():
        row = _lead(session, workspace_id, premortem_id, user_id)
        if row is not None and row.in_channel != is_in:
            row.in_channel = is_in
            session.add(row)
            changed.append(user_id)
    return changed


def replace_lead(
    session: Session,
    workspace_id: str,
    premortem_id: int,
    old: str,
    new: NewLead,
    by: str,
    now: datetime,
) -> bool:
    """Swap a lead for another while answers are collected; False if already done (same click twice)."""
    take(session, workspace_id, premortem_id, ["collecting"], now)
    previous = _lead(session, workspace_id, premortem_id, old)
    if previous is None or previous.replaced_by is not None:
        return False
    existing = _lead(session, workspace_id, premortem_id, new.user_id)
    if existing is not None and existing.replaced_by is None:
        raise ValueError("already a lead")
    previous.replaced_by, previous.replaced_at = new.user_id, now
    session.add(previous)
    if existing is not None:  # named before, replaced, and now back
        existing.replaced_by = existing.replaced_at = None
        existing.in_channel, existing.tz = new.in_channel, new.tz
        session.add(existing)
    else:
        session.add(
            LeadRow(
                workspace_id=workspace_id,
                premortem_id=premortem_id,
                user_id=new.user_id,
                position=previous.position,
                added_by=by,
                added_at=now,
                in_channel=new.in_channel,
                tz=new.tz,
            )
        )
    return True


def snooze(
    session: Session, workspace_id: str, premortem_id: int, user_id: str, until: datetime
) -> LeadRow | None:
    row = _lead(session, workspace_id, premortem_id, user_id)
    if row is None:
        return None
    row.snoozed_until = until
    session.add(row)
    return row


def lead(session: Session, workspace_id: str, premortem_id: int, user_id: str) -> LeadRow | None:
    return _lead(session, workspace_id, premortem_id, user_id)


# --- reminders --------------------------------------------------------------------------------------


def claim_reminder(
    session: Session, workspace_id: str, premortem_id: int, user_id: str, step: str, now: datetime
) -> bool:
    """Record a reminder before it is sent; False if this step was already sent to this lead."""
    exists = session.exec(
        select(ReminderRow).where(
            ReminderRow.workspace_id == workspace_id,
            ReminderRow.premortem_id == premortem_id,
            ReminderRow.user_id == user_id,
            ReminderRow.step == step,
        )
    ).first()
    if exists is not None:
        return False
    session.add(
        ReminderRow(
            workspace_id=workspace_id, premortem_id=premortem_id, user_id=user_id, step=step, sent_at=now
        )
    )
    return True


def reminder_sent(
    session: Session,
    workspace_id: str,
    premortem_id: int,
    user_id: str,
    step: str,
    dm_channel: str | None,
    dm_ts: str | None,
) -> None:
    row = session.exec(
        select(ReminderRow).where(
            ReminderRow.workspace_id == workspace_id,
            ReminderRow.premortem_id == premortem_id,
            ReminderRow.user_id == user_id,
            ReminderRow.step == step,
        )
    ).first()
    if row is not None:
        row.dm_channel, row.dm_ts = dm_channel, dm_ts
        session.add(row)


def unclaim_reminder(session: Session, workspace_id: str, premortem_id: int, user_id: str, step: str) -> None:
    """The DM failed: forget the claim so a retry of the job can send it."""
    session.execute(
        delete(ReminderRow).where(
            col(ReminderRow.workspace_id) == workspace_id,
            col(ReminderRow.premortem_id) == premortem_id,
            col(ReminderRow.user_id) == user_id,
            col(ReminderRow.step) == step,
        )
    )


def reminders(session: Session, workspace_id: str, premortem_id: int) -> list[ReminderRow]:
    return list(
        session.exec(
            select(ReminderRow)
            .where(ReminderRow.workspace_id == workspace_id, ReminderRow.premortem_id == premortem_id)
            .order_by(col(ReminderRow.id))
        )
    )
