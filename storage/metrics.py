"""Weekly snapshots of each team's signal values, so the digest can show "change since last week".

One row per team (workspace, channel) and ISO week (starting Monday, UTC); a later reading in the same
week replaces an earlier one. The digest, the App Home and `/scale-check metrics` all write them, so a
week's row holds that week's latest reading. Every function takes the workspace id and filters by it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from storage.types import AwareDateTime


class MetricsSnapshotRow(SQLModel, table=True):
    __tablename__ = "metrics_snapshots"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id", "week_start", name="uq_metrics_snapshots_team_week"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    channel_id: str = Field(max_length=32)
    week_start: date
    team_name: str = Field(max_length=80)
    source: str = Field(max_length=80)
    read_at: datetime = Field(sa_type=AwareDateTime)
    # {signal: {"value": float | null, "status": "ok" | "breached" | …}}
    values_json: str = Field(sa_column=Column(Text, nullable=False))

    @property
    def values(self) -> dict[str, dict[str, Any]]:
        loaded: dict[str, dict[str, Any]] = json.loads(self.values_json)
        return loaded


def week_start(when: datetime) -> date:
    """The Monday (UTC) of the ISO week holding `when`."""
    day = when.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _clean(values: dict[str, dict[str, Any]]) -> str:
    out = {}
    for name, entry in values.items():
        value = entry.get("value")
        finite = value if isinstance(value, int | float) and math.isfinite(value) else None
        out[name] = {"value": finite, "status": str(entry.get("status", ""))}
    return json.dumps(out, sort_keys=True)


def snapshot_for_week(
    session: Session, workspace_id: str, channel_id: str, week: date
) -> MetricsSnapshotRow | None:
    return session.exec(
        select(MetricsSnapshotRow).where(
            MetricsSnapshotRow.workspace_id == workspace_id,
            MetricsSnapshotRow.channel_id == channel_id,
            MetricsSnapshotRow.week_start == week,
        )
    ).first()


@dataclass(frozen=True)
class Comparison:
    """What the digest compares a team's reading with, from one look at its recent snapshots."""

    previous: dict[str, dict[str, Any]] | None  # the values compared against (None: no reading)
    previous_read_at: datetime | None
    last_week: bool  # `previous` was read in the week before the digest's
    history: dict[date, float | None]  # one signal's value per week start, over the window


def compare_and_keep(
    session: Session,
    workspace_id: str,
    channel_id: str,
    *,
    last_week: tuple[datetime, datetime],
    since: date,
    signal: str,
    keep: tuple[str, str, datetime, dict[str, dict[str, Any]]] | None = None,
) -> Comparison:
    """For the digest, in one transaction: the latest snapshot read in `last_week` ([start, end), aware,
    in the workspace's zone), else the latest one read before it since the week of `since`; `signal`'s
    value per week since `since`; and `keep` = (team name, source, read at, values) kept as this week's
    snapshot."""
    start, end = last_week
    rows = list(
        session.exec(
            select(MetricsSnapshotRow).where(
                MetricsSnapshotRow.workspace_id == workspace_id,
                MetricsSnapshotRow.channel_id == channel_id,
                col(MetricsSnapshotRow.week_start) >= min(since, week_start(start)),
            )
        )
    )
    inside = [row for row in rows if start <= row.read_at < end]
    earlier = [row for row in rows if row.read_at < start and row.week_start >= since]
    previous = max(inside or earlier, key=lambda row: row.read_at, default=None)
    history: dict[date, float | None] = {}
    for row in rows:
        if row.week_start >= since:
            value = (row.values.get(signal) or {}).get("value")
            history[row.week_start] = float(value) if isinstance(value, int | float) else None
    comparison = Comparison(
        previous=previous.values if previous is not None else None,
        previous_read_at=previous.read_at if previous is not None else None,
        last_week=bool(inside),
        history=history,
    )
    if keep is not None:
        team_name, source, read_at, values = keep
        this_week = next((r for r in rows if r.week_start == week_start(read_at)), None)
        _keep(session, this_week, workspace_id, channel_id, team_name, source, read_at, values)
    return comparison


def save_snapshot(
    session: Session,
    workspace_id: str,
    channel_id: str,
    team_name: str,
    source: str,
    read_at: datetime,
    values: dict[str, dict[str, Any]],
) -> MetricsSnapshotRow:
    """Keep `values` as the team's snapshot for the week of `read_at` (an older reading never replaces
    a newer one; two replicas saving at once end with one row)."""
    row = snapshot_for_week(session, workspace_id, channel_id, week_start(read_at))
    return _keep(session, row, workspace_id, channel_id, team_name, source, read_at, values)


def _keep(
    session: Session,
    row: MetricsSnapshotRow | None,
    workspace_id: str,
    channel_id: str,
    team_name: str,
    source: str,
    read_at: datetime,
    values: dict[str, dict[str, Any]],
) -> MetricsSnapshotRow:
    """Insert the week's row, or update `row` (the week's, as read) unless it holds a newer reading."""
    week = week_start(read_at)
    if row is None:
        row = MetricsSnapshotRow(
            workspace_id=workspace_id,
            channel_id=channel_id,
            week_start=week,
            team_name=team_name[:80],
            source=source[:80],
            read_at=read_at,
            values_json=_clean(values),
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            existing = snapshot_for_week(session, workspace_id, channel_id, week)
            assert existing is not None
            row = existing
        else:
            return row
    if row.read_at <= read_at:
        row.team_name, row.source, row.read_at = team_name[:80], source[:80], read_at
        row.values_json = _clean(values)
        session.add(row)
    return row
