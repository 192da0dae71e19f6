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


Keep = tuple[str, str, datetime, dict[str, dict[str, Any]]]  # (team name, source, read at, values)


def compare(
    rows: list[MetricsSnapshotRow], *, last_week: tuple[datetime, datetime], since: date, signal: str
) -> Comparison:
    """From a team's snapshots (at least those since the earlier of `since` and last week's start): the
    latest read in `last_week` ([start, end), aware, in the workspace's zone), else the latest read
    before it since the week of `since`; and `signal`'s value per week since `since`."""
    start, end = last_week
    inside = [row for row in rows if start <= row.read_at < end]
    earlier = [row for row in rows if row.read_at < start and row.week_start >= since]
    previous = max(inside or earlier, key=lambda row: row.read_at, default=None)
    history: dict[date, float | None] = {}
    for row in rows:
        if row.week_start >= since:
            value = (row.values.get(signal) or {}).get("value")
            history[row.week_start] = float(value) if isinstance(value, int | float) else None
    return Comparison(
        previous=previous.values if previous is not None else None,
        previous_read_at=previous.read_at if previous is not None else None,
        last_week=bool(inside),
        history=history,
    )


def compare_and_keep(
    session: Session,
    workspace_id: str,
    channel_id: str,
    *,
    last_week: tuple[datetime, datetime],
    since: date,
    signal: str,
    keep: Keep | None = None,
) -> Comparison:
    """For one team's digest section, in one transaction: `compare` over its recent snapshots, and
    `keep` kept as this week's snapshot."""
    rows = list(
        session.exec(
            select(MetricsSnapshotRow).where(
                MetricsSnapshotRow.workspace_id == workspace_id,
                MetricsSnapshotRow.channel_id == channel_id,
                col(MetricsSnapshotRow.week_start) >= min(since, week_start(last_week[0])),
            )
        )
    )
    comparison = compare(rows, last_week=last_week, since=since, signal=signal)
    if keep is not None:
        team_name, source, read_at, values = keep
        this_week = next((r for r in rows if r.week_start == week_start(read_at)), None)
        _keep(session, this_week, workspace_id, channel_id, team_name, source, read_at, values)
    return comparison


def snapshots_since(session: Session, workspace_id: str, since: date) -> dict[str, list[MetricsSnapshotRow]]:
    """Every team's snapshots from the week of `since` on, by channel, in one query (the digest reads
    them once for all its teams)."""
    rows = session.exec(
        select(MetricsSnapshotRow).where(
            MetricsSnapshotRow.workspace_id == workspace_id, col(MetricsSnapshotRow.week_start) >= since
        )
    )
    out: dict[str, list[MetricsSnapshotRow]] = {}
    for row in rows:
        out.setdefault(row.channel_id, []).append(row)
    return out


def keep_many(session: Session, workspace_id: str, keeps: dict[str, Keep]) -> None:
    """Keep each team's reading (`keeps` by channel) as its week's snapshot, in one transaction with one
    read of the weeks' existing rows: what `save_snapshot` does for one team, for a whole digest."""
    if not keeps:
        return
    weeks = {week_start(keep[2]) for keep in keeps.values()}
    existing = {
        (row.channel_id, row.week_start): row
        for row in session.exec(
            select(MetricsSnapshotRow).where(
                MetricsSnapshotRow.workspace_id == workspace_id,
                col(MetricsSnapshotRow.week_start).in_(weeks),
            )
        )
    }
    fresh: list[MetricsSnapshotRow] = []
    for channel_id, (team_name, source, read_at, values) in keeps.items():
        row = existing.get((channel_id, week_start(read_at)))
        if row is not None:
            _keep(session, row, workspace_id, channel_id, team_name, source, read_at, values)
            continue
        fresh.append(
            MetricsSnapshotRow(
                workspace_id=workspace_id,
                channel_id=channel_id,
                week_start=week_start(read_at),
                team_name=team_name[:80],
                source=source[:80],
                read_at=read_at,
                values_json=_clean(values),
            )
        )
    try:
        with session.begin_nested():  # the new weeks' rows in one statement
            session.add_all(fresh)
    except IntegrityError:  # someone kept a reading of the same week meanwhile: one by one
        for row in fresh:
            keep = (row.team_name, row.source, row.read_at, json.loads(row.values_json))
            _keep(session, None, workspace_id, row.channel_id, *keep)


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
