"""Calibration: the predictions a voted pre-mortem made, and the outcomes reported against them.

Every row carries `workspace_id` and every function filters by it. An outcome with a `dedup_key` (an
Alertmanager alert's fingerprint and start time, a prediction's ceiling crossing) is stored once: the
unique key makes a repeat delivery a no-op on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from storage.types import AwareDateTime


class PredictionRow(SQLModel, table=True):
    __tablename__ = "calibration_predictions"
    __table_args__ = (
        UniqueConstraint("premortem_id", "group_id", name="uq_calibration_predictions_group"),
        Index("ix_calibration_predictions_team", "workspace_id", "channel_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)
    premortem_id: int = Field(
        sa_column=Column(Integer, ForeignKey("premortems.id", ondelete="CASCADE"), nullable=False)
    )
    group_id: str = Field(max_length=16)
    component: str
    place: int
    votes: int = 0
    likelihood: float | None = None
    signal: str | None = Field(default=None, max_length=120)
    signal_by: str | None = Field(default=None, max_length=32)  # who picked it (None: the team's config)
    made_at: datetime = Field(sa_type=AwareDateTime)
    horizon_at: datetime = Field(sa_type=AwareDateTime)
    horizon_source: str = Field(default="default", max_length=16)  # default | launch


class OutcomeRow(SQLModel, table=True):
    __tablename__ = "calibration_outcomes"
    __table_args__ = (
        UniqueConstraint("workspace_id", "dedup_key", name="uq_calibration_outcomes_dedup"),
        Index("ix_calibration_outcomes_team", "workspace_id", "channel_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)
    component: str
    occurred_at: datetime = Field(sa_type=AwareDateTime)
    source: str = Field(max_length=16)  # alertmanager | incident | ceiling
    reporter: str = Field(max_length=200)  # a user id, "alertmanager: <alertname>", "metrics: <signal>"
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    signal: str | None = Field(default=None, max_length=120)
    dedup_key: str | None = Field(default=None, max_length=200)
    recorded_at: datetime = Field(sa_type=AwareDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    withdrawn_by: str | None = Field(default=None, max_length=32)


@dataclass(frozen=True)
class NewPrediction:
    group_id: str
    component: str
    place: int
    votes: int
    likelihood: float | None
    signal: str | None
    horizon_at: datetime
    horizon_source: str = "default"


def add_predictions(
    session: Session,
    workspace_id: str,
    channel_id: str,
    premortem_id: int,
    predictions: Sequence[NewPrediction],
    now: datetime,
) -> int:
    """Store a pre-mortem's predictions once; a second call for the same pre-mortem adds nothing."""
    have = set(
        session.exec(
            select(PredictionRow.group_id).where(
                PredictionRow.workspace_id == workspace_id, PredictionRow.premortem_id == premortem_id
            )
        )
    )
    added = 0
    for p in predictions:
        if p.group_id in have:
            continue
        session.add(
            PredictionRow(
                workspace_id=workspace_id,
                channel_id=channel_id,
                premortem_id=premortem_id,
                group_id=p.group_id,
                component=p.component,
                place=p.place,
                votes=p.votes,
                likelihood=p.likelihood,
                signal=p.signal,
                made_at=now,
                horizon_at=p.horizon_at,
                horizon_source=p.horizon_source,
            )
        )
        added += 1
    return added


def predictions(session: Session, workspace_id: str, channel_id: str) -> list[PredictionRow]:
    return list(
        session.exec(
            select(PredictionRow)
            .where(PredictionRow.workspace_id == workspace_id, PredictionRow.channel_id == channel_id)
            .order_by(col(PredictionRow.id))
        )
    )


def workspace_record_rows(
    session: Session, workspace_id: str
) -> dict[str, tuple[list[PredictionRow], list[OutcomeRow]]]:
    """Every team's predictions and outcomes by channel (each in the order `predictions` and `outcomes`
    give), in two queries: the digest's calibration lines for the whole workspace."""
    out: dict[str, tuple[list[PredictionRow], list[OutcomeRow]]] = {}
    for prediction in session.exec(
        select(PredictionRow)
        .where(PredictionRow.workspace_id == workspace_id)
        .order_by(col(PredictionRow.id))
    ):
        out.setdefault(prediction.channel_id, ([], []))[0].append(prediction)
    for outcome in session.exec(
        select(OutcomeRow)
        .where(OutcomeRow.workspace_id == workspace_id)
        .order_by(col(OutcomeRow.occurred_at), col(OutcomeRow.id))
    ):
        out.setdefault(outcome.channel_id, ([], []))[1].append(outcome)
    return out


def open_predictions_with_signal(
    session: Session, workspace_id: str, channel_id: str, now: datetime
) -> list[PredictionRow]:
    return list(
        session.exec(
            select(PredictionRow).where(
                PredictionRow.workspace_id == workspace_id,
                PredictionRow.channel_id == channel_id,
                col(PredictionRow.signal).is_not(None),
                col(PredictionRow.horizon_at) >= now,
            )
        )
    )


def set_horizon(session: Session, workspace_id: str, premortem_id: int, until: datetime, source: str) -> int:
    """Move the horizon of a pre-mortem's predictions (a launch's T+30); how many moved."""
    rows = session.exec(
        select(PredictionRow).where(
            PredictionRow.workspace_id == workspace_id, PredictionRow.premortem_id == premortem_id
        )
    )
    moved = 0
    for row in rows:
        row.horizon_at, row.horizon_source = until, source
        session.add(row)
        moved += 1
    return moved


def set_signal(
    session: Session, workspace_id: str, prediction_id: int, signal: str, by: str
) -> PredictionRow | None:
    row = session.get(PredictionRow, prediction_id)
    if row is None or row.workspace_id != workspace_id:
        return None
    row.signal, row.signal_by = signal, by
    session.add(row)
    return row


def add_outcome(session: Session, row: OutcomeRow) -> OutcomeRow | None:
    """Store an outcome; None when one with the same dedup key is stored already."""
    if row.dedup_key is not None:
        found = session.exec(
            select(OutcomeRow).where(
                OutcomeRow.workspace_id == row.workspace_id, OutcomeRow.dedup_key == row.dedup_key
            )
        ).first()
        if found is not None:
            return None
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # a concurrent delivery of the same alert got in first
        return None
    return row


def outcomes(session: Session, workspace_id: str, channel_id: str) -> list[OutcomeRow]:
    return list(
        session.exec(
            select(OutcomeRow)
            .where(OutcomeRow.workspace_id == workspace_id, OutcomeRow.channel_id == channel_id)
            .order_by(col(OutcomeRow.occurred_at), col(OutcomeRow.id))
        )
    )


def withdraw(
    session: Session, workspace_id: str, outcome_id: int, by: str, now: datetime
) -> OutcomeRow | None:
    """Mark an outcome withdrawn (kept, with who did it); None when there is no such outcome."""
    row = session.get(OutcomeRow, outcome_id)
    if row is None or row.workspace_id != workspace_id:
        return None
    if row.withdrawn_at is None:
        row.withdrawn_at, row.withdrawn_by = now, by
        session.add(row)
    return row


def get_outcome(session: Session, workspace_id: str, outcome_id: int) -> OutcomeRow | None:
    row = session.get(OutcomeRow, outcome_id)
    return row if row is not None and row.workspace_id == workspace_id else None
