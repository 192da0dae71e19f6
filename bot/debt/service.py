"""A team's tech-debt record through the runtime: read it as `TeamDebt`, add a write to it.

`team_debt()` is what other capabilities (the weekly digest, the App Home) call for a team's share,
rolling figure, trend and band status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import blocks as bk
from bot.config import AppConfig
from bot.debt import band
from bot.debt.model import Entry, ImportStatus, Nudge, SprintRecord, TeamDebt
from bot.errors import UserError
from bot.runtime import Runtime
from bot.teams import Team, resolve_team
from storage import debt as repo
from storage import debt_status as status_repo
from storage import teams as teams_repo


def zone(config: AppConfig, team: Team) -> ZoneInfo:
    """The team's time zone for "today" and the daily import: the import's, else the workspace digest's."""
    spec = team.debt.import_
    if spec is not None and spec.timezone:
        return ZoneInfo(spec.timezone)
    return ZoneInfo(config.digest_for(team.workspace_id).timezone)


def today(rt: Runtime, team: Team) -> date:
    return rt.clock.now().astimezone(zone(rt.config, team)).date()


async def team_for(rt: Runtime, workspace_id: str, channel_id: str) -> Team:
    """The team of a channel outside a request (jobs, modal submissions): file, setup or channel name."""
    row = await rt.db.run(teams_repo.find, workspace_id, channel_id)
    return resolve_team(
        rt.config, workspace_id, channel_id, row.name if row else None, row.setup if row else None
    )


def _entry(row: repo.DebtEntryRow) -> Entry:
    assert row.id is not None
    return Entry(
        id=row.id,
        capacity=Decimal(str(row.capacity)),
        debt=Decimal(str(row.debt)),
        unit=row.unit,
        source=row.source,
        author=row.author,
        recorded_at=row.recorded_at,
        starts=row.starts,
        ends=row.ends,
        note=row.note,
        typed=row.typed,
        issues=row.issues,
        unestimated=row.unestimated,
        unestimated_rule=row.unestimated_rule,
    )


def nudge_of(row: status_repo.DebtNudgeRow, sprints: tuple[band.NudgedSprint, ...] = ()) -> Nudge:
    assert row.id is not None
    return Nudge(
        id=row.id,
        channel_id=row.channel_id,
        run_start_sprint_id=row.run_start_sprint_id,
        run_names=row.run_names,
        run_length=row.run_length,
        direction=row.direction,
        message_ts=row.message_ts,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        fixit_by=row.fixit_by,
        fixit_at=row.fixit_at,
        fixit_starts=row.fixit_starts,
        fixit_ends=row.fixit_ends,
        fixit_after=row.fixit_after,
        sprints=sprints,
    )


def _import(row: status_repo.DebtImportRow | None) -> ImportStatus | None:
    if row is None:
        return None
    return ImportStatus(
        tracker=row.tracker,
        kind=row.kind,
        stale=row.stale,
        reason=row.reason,
        last_attempt_at=row.last_attempt_at,
        last_success_at=row.last_success_at,
        sprint_name=row.sprint_name,
        issues=row.issues,
        unestimated=row.unestimated,
        unestimated_rule=row.unestimated_rule,
    )


@dataclass(frozen=True)
class _Rows:
    sprints: list[tuple[repo.DebtSprintRow, list[repo.DebtEntryRow]]]
    nudges: list[status_repo.DebtNudgeRow]
    imported: status_repo.DebtImportRow | None
    nudged: list[status_repo.DebtNudgeSprintRow] = field(default_factory=list)


def _read(session: Session, workspace_id: str, channel_id: str) -> _Rows:
    return _Rows(
        repo.sprints(session, workspace_id, channel_id),
        status_repo.nudges(session, workspace_id, channel_id),
        status_repo.import_status(session, workspace_id, channel_id),
        status_repo.nudged_sprints(session, workspace_id, channel_id),
    )


def build(team: Team, day: date, rows: _Rows) -> TeamDebt:
    """`TeamDebt` from stored rows (pure: the rules of `band` applied to the latest write of each sprint)."""
    records = []
    for sprint, entries in rows.sprints:
        assert sprint.id is not None
        records.append(
            SprintRecord(
                id=sprint.id,
                name=sprint.name,
                starts=sprint.starts,
                ends=sprint.ends,
                created_at=sprint.created_at,
                entries=tuple(_entry(e) for e in entries),
            )
        )
    figures = band.chronological(r.figures() for r in records)
    order = {f.id: i for i, f in enumerate(figures)}
    records.sort(key=lambda r: order[r.id])
    allocation = band.allocation(figures, day)
    marks: dict[int, list[band.NudgedSprint]] = {}
    for mark in rows.nudged:
        marks.setdefault(mark.nudge_id, []).append((mark.sprint_id, mark.status))
    nudges = [nudge_of(n, tuple(marks.get(n.id or 0, ()))) for n in rows.nudges]
    run_nudge = None
    if allocation is not None and allocation.run:
        current = set(band.nudge_marks(allocation.run))
        run_nudge = next((n for n in reversed(nudges) if current & set(n.sprints)), None)
    fixits = tuple(n for n in nudges if n.fixit_planned and (n.fixit_ends is None or n.fixit_ends >= day))
    return TeamDebt(
        team_name=team.name,
        channel_id=team.channel_id,
        unit=team.debt.unit,
        today=day,
        sprints=tuple(records),
        allocation=allocation,
        import_status=_import(rows.imported),
        fixits=fixits,
        run_nudge=run_nudge,
        nudged=frozenset(mark for n in nudges for mark in n.sprints),
    )


async def team_debt(rt: Runtime, team: Team, on: date | None = None) -> TeamDebt:
    """A team's tech-debt capacity today (or `on` that day): current sprint, rolling figure, trend, band
    status, imports, Fix-It plans. `TeamDebt.allocation` is None before the first sprint."""
    rows = await rt.db.run(_read, team.workspace_id, team.channel_id)
    return build(team, on or today(rt, team), rows)


def _read_all(session: Session, workspace_id: str) -> dict[str, _Rows]:
    """`_read` of every channel of the workspace, in five queries."""
    from sqlmodel import col, select

    sprints = list(
        session.exec(
            select(repo.DebtSprintRow)
            .where(repo.DebtSprintRow.workspace_id == workspace_id)
            .order_by(col(repo.DebtSprintRow.id))
        )
    )
    entries: dict[int, list[repo.DebtEntryRow]] = {}
    for entry in session.exec(
        select(repo.DebtEntryRow)
        .where(repo.DebtEntryRow.workspace_id == workspace_id)
        .order_by(col(repo.DebtEntryRow.recorded_at), col(repo.DebtEntryRow.id))
    ):
        entries.setdefault(entry.sprint_id, []).append(entry)
    out: dict[str, _Rows] = {}

    def rows(channel: str) -> _Rows:
        return out.setdefault(channel, _Rows([], [], None))

    for sprint in sprints:
        if sprint.id in entries:
            rows(sprint.channel_id).sprints.append((sprint, entries[sprint.id]))
    for nudge in session.exec(
        select(status_repo.DebtNudgeRow)
        .where(status_repo.DebtNudgeRow.workspace_id == workspace_id)
        .order_by(col(status_repo.DebtNudgeRow.id))
    ):
        rows(nudge.channel_id).nudges.append(nudge)
    for imported in session.exec(
        select(status_repo.DebtImportRow).where(status_repo.DebtImportRow.workspace_id == workspace_id)
    ):
        found = rows(imported.channel_id)
        out[imported.channel_id] = _Rows(
            found.sprints, found.nudges, found.imported or imported, found.nudged
        )
    for nudged in session.exec(
        select(status_repo.DebtNudgeSprintRow)
        .where(status_repo.DebtNudgeSprintRow.workspace_id == workspace_id)
        .order_by(col(status_repo.DebtNudgeSprintRow.id))
    ):
        rows(nudged.channel_id).nudged.append(nudged)
    return out


async def workspace_debt(rt: Runtime, workspace_id: str, teams: list[Team]) -> dict[str, TeamDebt]:
    """`team_debt` of each of `teams` (of one workspace), read in one round trip and worked out on the
    database thread (for a thousand teams that is a few hundred milliseconds the event loop keeps)."""
    days = [today(rt, t) for t in teams]

    def read_and_build(session: Session) -> dict[str, TeamDebt]:
        every = _read_all(session, workspace_id)
        return {
            t.channel_id: build(t, day, every.get(t.channel_id) or _Rows([], [], None))
            for t, day in zip(teams, days, strict=True)
        }

    return await rt.db.run(read_and_build)


async def team_debt_for(rt: Runtime, workspace_id: str, channel_id: str, on: date | None = None) -> TeamDebt:
    """`team_debt` of the team of a channel (see `storage.debt.team_channels` for the channels with sprints)."""
    return await team_debt(rt, await team_for(rt, workspace_id, channel_id), on)


@dataclass(frozen=True)
class Figures:
    """A typed write whose sprint may still be "the current one"."""

    capacity: Decimal
    debt: Decimal
    unit: str
    author: str
    sprint: str | None = None
    starts: date | None = None
    ends: date | None = None
    note: str | None = None
    typed: str | None = None


@dataclass(frozen=True)
class Written:
    outcome: repo.WriteOutcome
    sprint: str
    debt: TeamDebt  # after the write


async def write(rt: Runtime, team: Team, change: repo.SprintWrite | Figures) -> Written:
    """Record a typed write (the current sprint when it names none) and read the team's record back."""
    if isinstance(change, Figures):
        change = await _resolve(rt, team, change)
    outcome = await rt.db.run(repo.record_write, team.workspace_id, team.channel_id, change)
    return Written(outcome, change.sprint, await team_debt(rt, team))


async def _resolve(rt: Runtime, team: Team, figures: Figures) -> repo.SprintWrite:
    name = figures.sprint
    if name is None:
        debt = await team_debt(rt, team)
        current = debt.current
        if current is None and debt.sprints:
            first = debt.sprints[0]
            raise UserError(
                f"No sprint has started yet ({bk.escape(first.name)} starts on {first.starts}), so there is no current "
                'sprint to record against: name it, like `/scale-check debt 12 of 50 sprint "Sprint 1"`.'
            )
        if current is None:
            raise UserError(
                'There is no sprint yet to record against: name it, like `/scale-check debt 12 of 50 sprint "Sprint 1"`, '
                "or use `/scale-check debt` for the form with dates."
            )
        name = current.name
    return repo.SprintWrite(
        sprint=name,
        capacity=figures.capacity,
        debt=figures.debt,
        unit=figures.unit,
        source="slack",
        author=figures.author,
        now=rt.clock.now(),
        starts=figures.starts,
        ends=figures.ends,
        note=figures.note,
        typed=figures.typed,
    )
