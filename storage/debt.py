"""Tech-debt capacity: sprints and every write to them (nudges and imports: `storage/debt_status.py`).

A sprint is keyed by team (workspace, channel) and its name, compared without case or extra spaces; a
write to a sprint that exists is a correction and both values are kept. Every function takes the
workspace id and filters by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from storage.types import AwareDateTime


class DebtSprintRow(SQLModel, table=True):
    __tablename__ = "debt_sprints"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id", "name_key", name="uq_debt_sprints_team_name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    channel_id: str = Field(max_length=32)
    name: str = Field(max_length=120)
    name_key: str = Field(max_length=120)
    starts: date | None = None
    ends: date | None = None
    created_at: datetime = Field(sa_type=AwareDateTime)


class DebtEntryRow(SQLModel, table=True):
    __tablename__ = "debt_entries"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    sprint_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("debt_sprints.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    capacity: float
    debt: float
    unit: str = Field(max_length=8)
    source: str = Field(max_length=16)  # slack, jira_cloud, jira_datacenter, linear, github
    author: str = Field(max_length=80)  # Slack user id, or the tracker's name for imports
    recorded_at: datetime = Field(sa_type=AwareDateTime)
    starts: date | None = None
    ends: date | None = None
    note: str | None = None
    typed: str | None = Field(default=None, max_length=120)
    issues: int | None = None
    unestimated: int | None = None
    unestimated_rule: str | None = Field(default=None, max_length=60)


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


# --- sprints and writes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SprintWrite:
    """One write to a sprint, typed or imported."""

    sprint: str
    capacity: Decimal
    debt: Decimal
    unit: str
    source: str
    author: str
    now: datetime
    starts: date | None = None
    ends: date | None = None
    note: str | None = None
    typed: str | None = None
    issues: int | None = None
    unestimated: int | None = None
    unestimated_rule: str | None = None


@dataclass(frozen=True)
class WriteOutcome:
    sprint_id: int
    entry_id: int | None  # None: an import that found nothing new
    created: bool  # a new sprint
    replaced: int  # how many earlier writes this one corrects


def _find_sprint(session: Session, workspace_id: str, channel_id: str, name: str) -> DebtSprintRow | None:
    return session.exec(
        select(DebtSprintRow)
        .where(
            DebtSprintRow.workspace_id == workspace_id,
            DebtSprintRow.channel_id == channel_id,
            DebtSprintRow.name_key == name_key(name),
        )
        .with_for_update()
    ).first()


def _sprint(
    session: Session, workspace_id: str, channel_id: str, write: SprintWrite
) -> tuple[DebtSprintRow, bool]:
    row = _find_sprint(session, workspace_id, channel_id, write.sprint)
    if row is not None:
        return row, False
    row = DebtSprintRow(
        workspace_id=workspace_id,
        channel_id=channel_id,
        name=" ".join(write.sprint.split()),
        name_key=name_key(write.sprint),
        starts=write.starts,
        ends=write.ends,
        created_at=write.now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # created by a concurrent write a moment ago
        found = _find_sprint(session, workspace_id, channel_id, write.sprint)
        assert found is not None
        return found, False
    return row, True


def _entries(session: Session, workspace_id: str, sprint_id: int) -> list[DebtEntryRow]:
    return list(
        session.exec(
            select(DebtEntryRow)
            .where(DebtEntryRow.workspace_id == workspace_id, DebtEntryRow.sprint_id == sprint_id)
            .order_by(col(DebtEntryRow.recorded_at), col(DebtEntryRow.id))
        )
    )


def _same_import(entry: DebtEntryRow, write: SprintWrite) -> bool:
    return (
        Decimal(str(entry.capacity)) == write.capacity
        and Decimal(str(entry.debt)) == write.debt
        and entry.unit == write.unit
        and entry.starts == write.starts
        and entry.ends == write.ends
        and entry.issues == write.issues
        and entry.unestimated == write.unestimated
    )


def _write_lock(session: Session) -> None:
    """SQLite: take the database's write lock before reading, so that check-then-write is serialised
    (PostgreSQL locks the sprint row instead, and its unique key settles a race to create it)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE debt_sprints SET id = id WHERE 0 = 1"))


def record_write(session: Session, workspace_id: str, channel_id: str, write: SprintWrite) -> WriteOutcome:
    """Add a write to a sprint (created on first write). An import whose figures did not change since
    this tracker's last write to the sprint records nothing, so running it twice records nothing twice
    and does not undo a correction typed in between."""
    _write_lock(session)
    sprint, created = _sprint(session, workspace_id, channel_id, write)
    assert sprint.id is not None
    earlier = _entries(session, workspace_id, sprint.id)
    if write.source != "slack":
        mine = [e for e in earlier if e.source == write.source and e.author == write.author]
        if mine and _same_import(mine[-1], write):
            return WriteOutcome(sprint.id, None, False, len(earlier) - 1)
    if write.starts is not None and write.ends is not None:
        sprint.starts, sprint.ends = write.starts, write.ends
        session.add(sprint)
    entry = DebtEntryRow(
        workspace_id=workspace_id,
        sprint_id=sprint.id,
        capacity=float(write.capacity),
        debt=float(write.debt),
        unit=write.unit,
        source=write.source,
        author=write.author,
        recorded_at=write.now,
        starts=write.starts,
        ends=write.ends,
        note=write.note,
        typed=write.typed,
        issues=write.issues,
        unestimated=write.unestimated,
        unestimated_rule=write.unestimated_rule,
    )
    session.add(entry)
    session.flush()
    assert entry.id is not None
    return WriteOutcome(sprint.id, entry.id, created, len(earlier))


def sprints(
    session: Session, workspace_id: str, channel_id: str
) -> list[tuple[DebtSprintRow, list[DebtEntryRow]]]:
    """Every sprint of a team with its writes, oldest write first (sprints without writes left out)."""
    rows = list(
        session.exec(
            select(DebtSprintRow).where(
                DebtSprintRow.workspace_id == workspace_id, DebtSprintRow.channel_id == channel_id
            )
        )
    )
    ids = [r.id for r in rows]
    by_sprint: dict[int, list[DebtEntryRow]] = {}
    if ids:
        for entry in session.exec(
            select(DebtEntryRow)
            .where(DebtEntryRow.workspace_id == workspace_id, col(DebtEntryRow.sprint_id).in_(ids))
            .order_by(col(DebtEntryRow.recorded_at), col(DebtEntryRow.id))
        ):
            by_sprint.setdefault(entry.sprint_id, []).append(entry)
    return [(r, by_sprint[r.id]) for r in rows if r.id in by_sprint]


def team_channels(session: Session, workspace_id: str) -> list[str]:
    """Channels of the workspace whose teams have recorded at least one sprint."""
    return sorted(
        set(session.exec(select(DebtSprintRow.channel_id).where(DebtSprintRow.workspace_id == workspace_id)))
    )
