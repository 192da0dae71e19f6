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
