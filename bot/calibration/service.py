"""Calibration's work behind the listeners, the webhook and the readings: turning a voted pre-mortem
into predictions, recording outcomes (Alertmanager, `/scale-check incident`, a signal over its ceiling),
withdrawing a wrong one, and a team's calibration record."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.calibration import rules
from bot.errors import PermissionDenied, UserError
from bot.metrics.signals import resolve_signals
from bot.premortem.board import Board
from bot.premortem.datasays import marks_for, matches
from bot.premortem.grouping import display
from bot.premortem.model import Premortem
from bot.premortem.ranking import Ranked
from bot.teams import Team, slug
from storage import calibration as repo
from storage import installations

if TYPE_CHECKING:
    from bot.metrics.service import TeamReading
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

COMPONENT_MAX = 80
NOTE_MAX = 500


def signal_for(board: Board, group_id: str, mapping: dict[str, str]) -> str | None:
    """The signal that would show a risk breaking: one the team's `premortem.signal_components` maps to
    it, else the first signal "data says" matched to it."""
    group = board.group(group_id)
    if group is None:
        return None
    for signal in sorted(mapping):
        if matches(signal, group, mapping):
            return signal
    found = marks_for(group, board.marks)
    return found[0].signal.name if found else None


def predictions_of(
    board: Board, team: Team, made_at: datetime, horizon_days: int, until: datetime | None = None
) -> list[repo.NewPrediction]:
    """Every ranked risk of a voted pre-mortem, as a prediction with its place, stated likelihood,
    signal and horizon (`until`: a launch's T+30, else `horizon_days` on)."""
    mapping = dict(team.premortem.signal_components)
    horizon_at = rules.horizon(made_at, horizon_days, until)
    return [
        repo.NewPrediction(
            group_id=r.id,
            component=r.group.title,
            place=place,
            votes=r.votes,
            likelihood=rules.group_likelihood(risk.likelihood for risk in r.group.risks),
            signal=signal_for(board, r.id, mapping),
            horizon_at=horizon_at,
            horizon_source="launch" if until is not None else "default",
        )
        for place, r in enumerate(_in_place_order(board), start=1)
    ]


def _in_place_order(board: Board) -> list[Ranked]:
    """The chosen top risks first (in their chosen order), then the rest by votes."""
    top = [r.id for r in board.top]
    return [*board.top, *(r for r in board.ranked if r.id not in top)]


async def predict(rt: Runtime, pm: Premortem, board: Board, team: Team, until: datetime | None = None) -> int:
    """Store the voted pre-mortem's predictions (once); how many were added."""
    now = pm.closed_at or rt.clock.now()
    found = predictions_of(board, team, now, rt.config.calibration.horizon_days, until)
    added = await rt.db.run(repo.add_predictions, pm.workspace_id, pm.channel_id, pm.id, found, now)
    if added:
        log.info("pre-mortem predictions recorded", extra={"premortem": pm.id, "predictions": added})
    return added


async def set_horizon(rt: Runtime, workspace_id: str, premortem_id: int, until: datetime) -> int:
    """A pre-mortem linked to a launch: its predictions resolve at `until` (the launch's T+30) instead of
    the default horizon. For a pre-mortem not voted yet, pass `until` to `predict` when voting closes."""
    return await rt.db.run(repo.set_horizon, workspace_id, premortem_id, until, "launch")


@dataclass(frozen=True)
class Report:
    component: str
    source: str  # alertmanager | incident | ceiling
    reporter: str
    at: datetime
    note: str = ""
    signal: str | None = None
    dedup_key: str | None = None


async def report(rt: Runtime, team: Team, outcome: Report) -> repo.OutcomeRow | None:
    """Record that `outcome.component` broke for `team`; None when it was recorded already (same
    alert, same ceiling crossing)."""
    component = display(outcome.component)[:COMPONENT_MAX]
    if not rules.meaningful(component):
        raise UserError("Name the component that broke with letters or digits, e.g. `database`.")
    row = repo.OutcomeRow(
        workspace_id=team.workspace_id,
        channel_id=team.channel_id,
        component=component,
        occurred_at=outcome.at,
        source=outcome.source,
        reporter=outcome.reporter[:200],
        note=outcome.note[:NOTE_MAX],
        signal=outcome.signal,
        dedup_key=outcome.dedup_key,
        recorded_at=rt.clock.now(),
    )
    stored = await rt.db.run(repo.add_outcome, row)
    if stored is not None:
        log.info(
            "outcome recorded",
            extra={"workspace": team.workspace_id, "team": team.key, "source": outcome.source},
        )
    return stored


def require_reporter(team: Team, user_id: str, admin: bool) -> None:
    """The team's leads, managers and admins report outcomes."""
    if user_id in team.leads or user_id in team.managers or admin:
        return
    raise PermissionDenied(
        f"Only {rules.possessive(team.name)} leads and managers or an admin report what broke; ask one of them, "
        "or an admin names the leads with `/scale-check setup`."
    )


async def incident(
    rt: Runtime, team: Team, user_id: str, admin: bool, component: str, note: str
) -> rules.Outcome:
    """`/scale-check incident <component> [note]`: an outcome reported by a person, now."""
    require_reporter(team, user_id, admin)
    found = Report(component=component, source="incident", reporter=user_id, at=rt.clock.now(), note=note)
    stored = await report(rt, team, found)
    assert stored is not None  # no dedup key: always stored
    return outcome_of(stored)


async def team_predictions(rt: Runtime, team: Team) -> list[rules.Prediction]:
    return [prediction_of(p) for p in await rt.db.run(repo.predictions, team.workspace_id, team.channel_id)]


async def watch(
    rt: Runtime, team: Team, prediction_id: int, signal: str, user_id: str, admin: bool
) -> rules.Prediction:
    """A lead (or an admin) picks the signal that would show a prediction breaking."""
    if user_id not in team.leads and not admin:
        raise PermissionDenied(
            f"Only {rules.possessive(team.name)} leads or an admin pick the signal a prediction watches."
        )
    known = team_signals(rt, team)
    if signal not in known:
        shown = ", ".join(f"`{s}`" for s in sorted(known)) or "none: the team has no metrics source yet"
        raise UserError(f"`{signal}` is not one of {rules.possessive(team.name)} signals ({shown}).")
    found = [
        p
        for p in await rt.db.run(repo.predictions, team.workspace_id, team.channel_id)
        if p.id == prediction_id
    ]
    if not found:
        raise UserError(
            f"There is no prediction #{prediction_id} for {team.name}; `/scale-check incident predictions` lists them."
        )
    row = await rt.db.run(repo.set_signal, team.workspace_id, prediction_id, signal, user_id)
    assert row is not None
    return prediction_of(row)


def team_signals(rt: Runtime, team: Team) -> set[str]:
    if team.metrics is None or team.metrics.source not in rt.config.sources:
        return set()
    signals = resolve_signals(team.metrics, rt.config.sources, rt.config.defaults.metrics)
    return {s.name for s in signals}


async def team_outcomes(rt: Runtime, team: Team) -> list[rules.Outcome]:
    return [outcome_of(o) for o in await rt.db.run(repo.outcomes, team.workspace_id, team.channel_id)]


async def withdraw(rt: Runtime, team: Team, outcome_id: int, user_id: str, admin: bool) -> rules.Outcome:
    """A lead or admin withdraws a wrong outcome; the record keeps who did."""
    if user_id not in team.leads and not admin:
        raise PermissionDenied(
            f"Only {rules.possessive(team.name)} leads or an admin can withdraw an outcome; ask one of them."
        )
    found = await rt.db.run(repo.get_outcome, team.workspace_id, outcome_id)
    if found is None or found.channel_id != team.channel_id:
        raise UserError(
            f"There is no outcome #{outcome_id} for {team.name}; `/scale-check incident list` shows them."
        )
    row = await rt.db.run(repo.withdraw, team.workspace_id, outcome_id, user_id, rt.clock.now())
    assert row is not None
    return outcome_of(row)


async def team_record(rt: Runtime, team: Team) -> rules.Record:
    predicted = await rt.db.run(repo.predictions, team.workspace_id, team.channel_id)
    happened = await rt.db.run(repo.outcomes, team.workspace_id, team.channel_id)
    return _record(rt, team.name, predicted, happened)


async def workspace_records(rt: Runtime, workspace_id: str, teams: Sequence[Team]) -> dict[str, rules.Record]:
    """`team_record` of each of `teams` (by channel), from two queries for the whole workspace."""
    rows = await rt.db.run(repo.workspace_record_rows, workspace_id)
    return {team.channel_id: _record(rt, team.name, *rows.get(team.channel_id, ([], []))) for team in teams}


def _record(
    rt: Runtime, name: str, predicted: Sequence[repo.PredictionRow], happened: Sequence[repo.OutcomeRow]
) -> rules.Record:
    return rules.record(
        name, [prediction_of(p) for p in predicted], [outcome_of(o) for o in happened], rt.clock.now()
    )


async def team_line(rt: Runtime, team: Team) -> str | None:
    return rules.line(await team_record(rt, team))


async def surprises(rt: Runtime, workspace_id: str, channel_id: str) -> tuple[str, ...]:
    """Components that broke without being predicted: suggested in the team's next pre-mortem."""
    predicted = await rt.db.run(repo.predictions, workspace_id, channel_id)
    happened = await rt.db.run(repo.outcomes, workspace_id, channel_id)
    return rules.surprises([prediction_of(p) for p in predicted], [outcome_of(o) for o in happened])


def prediction_of(row: repo.PredictionRow) -> rules.Prediction:
    assert row.id is not None
    return rules.Prediction(
        id=row.id,
        component=row.component,
        place=row.place,
        made_at=row.made_at,
        horizon_at=row.horizon_at,
        likelihood=row.likelihood,
        signal=row.signal,
    )


def outcome_of(row: repo.OutcomeRow) -> rules.Outcome:
    assert row.id is not None
    return rules.Outcome(
        id=row.id,
        component=row.component,
        at=row.occurred_at,
        source=row.source,
        reporter=row.reporter,
        withdrawn=row.withdrawn_at is not None,
        signal=row.signal,
        note=row.note,
        withdrawn_by=row.withdrawn_by,
    )


async def check_ceilings(rt: Runtime, team: Team, reading: TeamReading) -> int:
    """A prediction's signal over its ceiling in the bot's own reading is an outcome (once per
    prediction)."""
    breached = {s.name for s in reading.signals if s.status == "breached"}
    if not breached:
        return 0
    now = rt.clock.now()
    watched = await rt.db.run(repo.open_predictions_with_signal, team.workspace_id, team.channel_id, now)
    recorded = 0
    for p in watched:
        if p.signal not in breached or p.made_at > now:
            continue
        found = Report(
            component=p.component,
            source="ceiling",
            reporter=f"metrics: {p.signal}",
            at=reading.read_at,
            signal=p.signal,
            dedup_key=f"ceiling:{p.id}",
        )
        if await report(rt, team, found) is not None:
            recorded += 1
    return recorded


async def installed_workspaces(rt: Runtime) -> list[str]:
    """The workspaces the bot is installed in and acting for."""
    return [row.workspace_id for row in await rt.db.run(installations.active_workspaces)]


def find_team(teams: Sequence[Team], name: str) -> Team | None:
    """A team by its name as `/scale-check` shows it, its full name, or its channel id."""
    wanted = name.strip()
    for team in teams:
        if wanted in (team.channel_id, team.name) or slug(wanted) == team.key:
            return team
    return None
