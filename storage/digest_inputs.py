"""What the digest reads from other capabilities' tables, each as one small query: a team's p95 history
(the metrics snapshots), its latest finished checklist, and its pre-mortem's top risk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.checklist import CheckRow
from storage.metrics import MetricsSnapshotRow

# --- metrics history for the charts ----------------------------------------------------------------


def p95_history(
    session: Session, workspace_id: str, channel_ids: list[str], since: Any, signal: str = "p95_latency"
) -> dict[str, dict[Any, float | None]]:
    """{channel: {week_start: value}} of one signal from the metrics capability's weekly snapshots."""
    out: dict[str, dict[Any, float | None]] = {c: {} for c in channel_ids}
    if not channel_ids:
        return out
    rows = session.exec(
        select(MetricsSnapshotRow).where(
            MetricsSnapshotRow.workspace_id == workspace_id,
            col(MetricsSnapshotRow.channel_id).in_(channel_ids),
            col(MetricsSnapshotRow.week_start) >= since,
        )
    )
    for row in rows:
        entry = row.values.get(signal) or {}
        value = entry.get("value")
        out[row.channel_id][row.week_start] = float(value) if isinstance(value, int | float) else None
    return out


# --- the latest checklist and the top pre-mortem risk of a team -----------------------------------


def latest_check(
    session: Session, workspace_id: str, channel_id: str, before: datetime
) -> tuple[CheckRow | None, bool]:
    """The team's latest finished signal checklist up to `before`, and whether one is open now."""
    done = session.exec(
        select(CheckRow)
        .where(
            col(CheckRow.workspace_id) == workspace_id,
            col(CheckRow.channel_id) == channel_id,
            col(CheckRow.status) == "done",
            col(CheckRow.finished_at) <= before.astimezone(UTC),
        )
        .order_by(col(CheckRow.finished_at).desc(), col(CheckRow.id).desc())
    ).first()
    open_id = session.exec(
        select(CheckRow.id).where(
            col(CheckRow.workspace_id) == workspace_id,
            col(CheckRow.channel_id) == channel_id,
            col(CheckRow.status) == "open",
        )
    ).first()
    if done is not None:
        session.expunge(done)
    return done, open_id is not None


def top_risk(session: Session, workspace_id: str, channel_id: str) -> tuple[str, str] | None:
    """(risk, owner of its mitigation) of the team's latest pre-mortem whose vote chose a top three."""
    # Imported here so the digest's tables stay importable (and migratable) in a build without the
    # pre-mortem capability; its section then says it is unavailable.
    from storage import premortem, premortem_mitigations

    for pm in premortem.in_channel(session, workspace_id, channel_id, limit=5):
        if pm.status == "cancelled" or not pm.top or pm.id is None:
            continue
        first = pm.top[0]
        for m in premortem_mitigations.for_premortem(session, workspace_id, pm.id):
            if m.group_id == first:
                return m.title, m.owner
        return None
    return None


# --- the same, for every team of a workspace at once (the digest's collection) ---------------------


def latest_checks(
    session: Session, workspace_id: str, before: datetime
) -> dict[str, tuple[CheckRow | None, bool]]:
    """`latest_check` of every channel of the workspace, in two queries: {channel: (done, open now)}."""
    from sqlalchemy import func

    rank = (
        func.row_number()
        .over(
            partition_by=col(CheckRow.channel_id),
            order_by=(col(CheckRow.finished_at).desc(), col(CheckRow.id).desc()),
        )
        .label("rank")
    )
    ranked = (
        select(CheckRow.id, rank)
        .where(
            col(CheckRow.workspace_id) == workspace_id,
            col(CheckRow.status) == "done",
            col(CheckRow.finished_at) <= before.astimezone(UTC),
        )
        .subquery()
    )
    latest = session.exec(
        select(CheckRow).join(ranked, col(CheckRow.id) == ranked.c.id).where(ranked.c.rank == 1)
    ).all()
    open_channels = set(
        session.exec(
            select(CheckRow.channel_id).where(
                col(CheckRow.workspace_id) == workspace_id, col(CheckRow.status) == "open"
            )
        ).all()
    )
    out: dict[str, tuple[CheckRow | None, bool]] = {c: (None, True) for c in open_channels}
    for row in latest:
        session.expunge(row)
        out[row.channel_id] = (row, row.channel_id in open_channels)
    return out


def top_risks(session: Session, workspace_id: str) -> dict[str, tuple[str, str] | None]:
    """`top_risk` of every channel of the workspace with a pre-mortem, in two queries."""
    from storage.premortem import PremortemRow
    from storage.premortem_mitigations import MitigationRow

    seen: dict[str, int] = {}
    chosen: dict[str, PremortemRow | None] = {}
    rows = session.exec(
        select(PremortemRow)
        .where(col(PremortemRow.workspace_id) == workspace_id)
        .order_by(col(PremortemRow.channel_id), col(PremortemRow.id).desc())
    )
    for pm in rows:
        channel = pm.channel_id
        if channel in chosen and chosen[channel] is not None:
            continue
        seen[channel] = seen.get(channel, 0) + 1
        if seen[channel] > 5:  # as `top_risk`: the five newest only
            chosen.setdefault(channel, None)
            continue
        if pm.status == "cancelled" or not pm.top or pm.id is None:
            chosen.setdefault(channel, None)
            continue
        chosen[channel] = pm
    picked = {pm.id: pm for pm in chosen.values() if pm is not None and pm.id is not None}
    out: dict[str, tuple[str, str] | None] = {c: None for c in chosen}
    if not picked:
        return out
    mitigations = session.exec(
        select(MitigationRow)
        .where(
            col(MitigationRow.workspace_id) == workspace_id, col(MitigationRow.premortem_id).in_(list(picked))
        )
        .order_by(col(MitigationRow.id))
    )
    for m in mitigations:
        pm = picked[m.premortem_id]
        if m.group_id == pm.top[0] and out.get(pm.channel_id) is None:
            out[pm.channel_id] = (m.title, m.owner)
    return out
