"""The digest's metrics section, from the metrics capability's `read_team_signals`: each signal against
its threshold with the change since last week, the breached triggers with their seeds, the "breaks first
at 10x" list, and p95 latency over eight weeks from the weekly snapshots (this reading is kept as this
week's snapshot).

"Last week" is the week before the digest's, in the workspace's zone: the latest reading taken then. When
there is none, the change is against the latest earlier reading of the chart's eight weeks and says when
that was taken."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.digest.model import (
    HeadroomLine,
    MetricsFacts,
    Section,
    SignalLine,
    TriggerLine,
    Week,
    available,
    not_set_up,
    unavailable,
)
from bot.digest.sections import batched
from bot.metrics.render import (
    fmt_multiple,
    fmt_value,
    hint_line,
    limit_text,
    trend_text,
    unchecked_line,
    window_text,
)
from bot.metrics.service import MetricsNotConfigured, SignalReading, TeamReading, Trigger, read_team_signals
from bot.teams import Team
from storage import metrics as metrics_repo

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

P95 = "p95_latency"
CHART_WEEKS = 8


def change_text(kind: str, now: float | None, before: Any) -> str | None:
    """The change since last week in the signal's unit; None without both numbers."""
    if now is None or not isinstance(before, int | float):
        return None
    delta = now - float(before)
    sign = "+" if delta >= 0 else "−"
    if kind == "latency":
        size, unit = float(f"{abs(delta) * 1000:.3g}"), " ms"
    elif kind in ("ratio", "saturation"):
        size, unit = float(f"{abs(delta) * 100:.2g}"), " points"
    elif kind == "rate" and before:
        size, unit = float(f"{abs(delta) / float(before) * 100:.2g}"), "%"
    else:
        return None
    return f"{sign}{size:g}{unit}" if size else "no change"


def signal_line(reading: SignalReading, last_week: dict[str, dict[str, Any]]) -> SignalLine:
    s = reading.signal
    if s.is_feature:
        top = reading.features[0].feature if reading.features else None
        value = f"{fmt_multiple(reading.value)} ({top})" if reading.value is not None and top else "n/a"
    else:
        value = f"{fmt_value(s.kind, reading.value)} {window_text(s)}"
    if reading.value is None:
        value = f"n/a ({reading.note})" if reading.note and not reading.error else "n/a"
    change = (
        None
        if s.is_feature
        else change_text(s.kind, reading.value, (last_week.get(s.name) or {}).get("value"))
    )
    trend = None if s.is_feature else trend_text(reading)
    return SignalLine(s.name, s.title, value, limit_text(s), reading.status, change, reading.error, trend)


def trigger_line(trigger: Trigger, reading: TeamReading) -> TriggerLine:
    signal = reading.get(trigger.signal)
    kind = signal.signal.kind if signal else trigger.kind
    if trigger.subject:
        value, limit = fmt_multiple(trigger.value), f"limit {fmt_multiple(trigger.limit)} relative growth"
        title = f"{trigger.title}: {trigger.subject}"
    else:
        value = (
            f"{fmt_value(kind, trigger.value)} {window_text(signal.signal)}"
            if signal
            else fmt_value(kind, trigger.value)
        )
        limit = limit_text(signal.signal) if signal else fmt_value(kind, trigger.limit)
        title = trigger.title
    return TriggerLine(
        title, value, limit, trigger.action, trigger.seed, trigger.origin, excess=excess(trigger)
    )


def excess(trigger: Trigger) -> float:
    """How far past its limit a breached trigger is, as a fraction of the limit (the urgency rule)."""
    if not trigger.limit:
        return 0.0
    return abs(trigger.value - trigger.limit) / abs(trigger.limit)


def _title(reading: TeamReading, name: str) -> str:
    found = reading.get(name)
    return found.signal.title if found else name.replace("_", " ")


def p95_weeks(
    this_week: date, history: dict[date, float | None], current: float | None
) -> tuple[tuple[date, float | None], ...]:
    weeks = [this_week - timedelta(weeks=CHART_WEEKS - 1 - i) for i in range(CHART_WEEKS)]
    return tuple((w, current if w == this_week else history.get(w)) for w in weeks)


@dataclass
class Snapshots:
    """The whole workspace's recent snapshots, read once per digest (`prefetch`), and the readings its
    sections keep as this week's (written once, by `finish`)."""

    since: date
    rows: dict[str, list[metrics_repo.MetricsSnapshotRow]]
    keeps: dict[str, metrics_repo.Keep] = field(default_factory=dict)


def _window_start(week: Week, since: date) -> date:
    return min(since, metrics_repo.week_start(week.minus(1).start))


async def prefetch(rt: Runtime, workspace_id: str, teams: Sequence[Team], week: Week, as_of: datetime) -> Any:
    """Every team's snapshots over the chart's weeks (and last week's), in one query."""
    since = _window_start(week, metrics_repo.week_start(as_of) - timedelta(weeks=CHART_WEEKS))
    return Snapshots(since, await rt.db.run(metrics_repo.snapshots_since, workspace_id, since))


async def finish(rt: Runtime, workspace_id: str, snapshots: Snapshots) -> None:
    """Keep every team's reading as its week's snapshot, in one transaction."""
    await rt.db.run(metrics_repo.keep_many, workspace_id, snapshots.keeps)


async def _compare_and_keep(
    rt: Runtime,
    team: Team,
    week: Week,
    since: date,
    keep: metrics_repo.Keep | None,
) -> metrics_repo.Comparison:
    """Last week's reading, the p95 history, and keeping this reading: from the digest's batch when the
    workspace's snapshots were read at once (the reading is kept when every team is done), else in one
    database round trip of the team's own."""
    last_week = (week.minus(1).start, week.start)
    every: Snapshots | None = batched("metrics")
    if every is not None and every.since <= _window_start(week, since):
        if keep is not None:
            every.keeps[team.channel_id] = keep
        rows = every.rows.get(team.channel_id, [])
        return metrics_repo.compare(rows, last_week=last_week, since=since, signal=P95)
    try:
        return await rt.db.run(
            metrics_repo.compare_and_keep,
            team.workspace_id,
            team.channel_id,
            last_week=last_week,
            since=since,
            signal=P95,
            keep=keep,
        )
    except Exception:  # the reading is still worth showing, without its comparison and history
        log.warning("could not read or keep the metrics snapshots", extra={"team": team.key}, exc_info=True)
        return metrics_repo.Comparison(None, None, False, {})


async def section(rt: Runtime, team: Team, week: Week, as_of: datetime) -> Section[MetricsFacts]:
    try:
        reading = await read_team_signals(rt, team, at=as_of)
    except MetricsNotConfigured as exc:
        return not_set_up("metrics", exc.message)
    if reading.signals and all(s.error for s in reading.signals):
        return unavailable("metrics", "; ".join(dict.fromkeys(s.error for s in reading.signals if s.error)))
    this_week = metrics_repo.week_start(reading.read_at)
    keep = None
    if any(s.value is not None for s in reading.signals):
        keep = (team.name, reading.source, reading.read_at, reading.snapshot())
    seen = await _compare_and_keep(rt, team, week, this_week - timedelta(weeks=CHART_WEEKS - 1), keep)
    last_week = seen.previous or {}
    p95 = reading.get(P95)
    ranked = reading.projection.ranked
    return available(
        "metrics",
        MetricsFacts(
            source=reading.source,
            read_at=reading.read_at,
            signals=tuple(signal_line(r, last_week) for r in reading.signals),
            triggers=tuple(trigger_line(t, reading) for t in reading.triggers),
            breaks_first=tuple(
                HeadroomLine(_title(reading, h.name), h.headroom, h.saturates)
                for h in reading.projection.breaks_first
            ),
            least_headroom=HeadroomLine(
                _title(reading, ranked[0].name), ranked[0].headroom, ranked[0].saturates
            )
            if ranked
            else None,
            errors=tuple(dict.fromkeys(s.error for s in reading.signals if s.error)),
            p95_weeks=p95_weeks(this_week, seen.history, p95.value if p95 else None),
            assumptions=reading.projection.assumptions,
            compared_at=seen.previous_read_at,
            compared_last_week=seen.last_week,
            hints=tuple(hint_line(h) for h in reading.hints),
            unchecked=tuple(unchecked_line(u) for u in reading.unchecked),
        ),
    )
