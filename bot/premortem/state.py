"""A pre-mortem as stored, read into the plain `Premortem` the rules and renders use: its leads (with
who is away), risks, votes, splits and mitigations. Runs inside a database session (`rt.db.run`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.premortem.model import AwayMark, DataSays, Lead, Mitigation, Premortem, Risk, Target
from storage import premortem as repo
from storage import premortem_mitigations as mitigations_repo
from storage import presence as presence_repo


def mitigation_of(row: mitigations_repo.MitigationRow) -> Mitigation:
    assert row.id is not None
    target = None
    if row.target_op and row.target_value is not None:
        target = Target(row.target_op, row.target_value, row.target_text or str(row.target_value))
    return Mitigation(
        id=row.id,
        group_id=row.group_id,
        title=row.title,
        plan=row.plan,
        owner=row.owner,
        due=row.due,
        verification="metric" if row.verification == "metric" else "load_test",
        metric=row.metric,
        target=target,
        status=row.status,  # type: ignore[arg-type]
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        override_reason=row.override_reason,
        override_by=row.override_by,
        owner_tz=row.owner_tz,
    )


def away_subject(premortem_id: int) -> str:
    """What waits for an away lead, in the shared away holds (`storage.presence`)."""
    return f"premortem:{premortem_id}"


def state_of(
    loaded: repo.Loaded,
    mitigations: Iterable[mitigations_repo.MitigationRow],
    holds: Mapping[str, presence_repo.Hold] | None = None,
) -> Premortem:
    row = loaded.premortem
    assert row.id is not None
    holds = holds or {}
    leads = tuple(
        Lead(
            user_id=lead.user_id,
            in_channel=lead.in_channel,
            answered_at=lead.answered_at,
            tz=lead.tz,
            snoozed_until=lead.snoozed_until,
            added_at=lead.added_at,
            away=_mark(holds.get(lead.user_id)),
        )
        for lead in loaded.leads
        if lead.replaced_by is None
    )
    current = {lead.user_id for lead in leads}
    votes: dict[str, set[str]] = {}
    for vote in loaded.votes:
        votes.setdefault(vote.group_id, set()).add(vote.user_id)
    return Premortem(
        id=row.id,
        workspace_id=row.workspace_id,
        channel_id=row.channel_id,
        team_name=row.team_name,
        status=row.status,  # type: ignore[arg-type]
        started_by=row.started_by,
        started_at=row.started_at,
        deadline=row.deadline,
        leads=leads,
        risks=tuple(
            Risk(r.lead, r.rank, r.component, r.why, r.evidence_kind, r.evidence, r.likelihood)
            for r in loaded.risks
            if r.lead in current
        ),
        votes={gid: frozenset(users) for gid, users in votes.items()},
        splits=frozenset(s.group_key for s in loaded.splits),
        top=tuple(row.top),
        mitigations=tuple(mitigation_of(m) for m in mitigations),
        data=DataSays.from_json(row.data_json),
        root_ts=row.root_ts,
        permalink=row.permalink,
        revealed_at=row.revealed_at,
        reveal_reason=row.reveal_reason,  # type: ignore[arg-type]
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        cancelled_at=row.cancelled_at,
        cancelled_by=row.cancelled_by,
    )


def _mark(hold: presence_repo.Hold | None) -> AwayMark | None:
    return AwayMark(hold.step, hold.until, hold.retry_at) if hold is not None else None


def load_rows(
    session: Any, workspace_id: str, premortem_id: int
) -> tuple[repo.Loaded, list[Any], dict[str, presence_repo.Hold]] | None:
    loaded = repo.load(session, workspace_id, premortem_id)
    if loaded is None:
        return None
    return (
        loaded,
        mitigations_repo.for_premortem(session, workspace_id, premortem_id),
        presence_repo.holds(session, workspace_id, away_subject(premortem_id)),
    )
