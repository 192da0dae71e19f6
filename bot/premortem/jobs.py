"""Scheduled pre-mortem work: reminders to leads who have not answered, and the reveal at the deadline.

Both are idempotent: a reminder is recorded (lead, step) before it is sent, so it goes once; the reveal
is a guarded status change, so the deadline job, the last answer and a retry reveal once between them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.errors import UserError
from bot.premortem import lifecycle, plans, reminders
from bot.premortem.owner_away import OWNER_DM
from bot.premortem.schedule import DEADLINE, REMIND
from bot.premortem.service import service_for
from bot.premortem.state import mitigation_of
from bot.scheduler import job_kind
from storage import premortem_mitigations as mitigations_repo

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


@job_kind(REMIND, grace=timedelta(hours=3), summary="remind a pre-mortem lead who has not answered")
async def remind(
    rt: Runtime,
    run_time: datetime,
    premortem_id: int,
    user_id: str,
    step: str,
    workspace_id: str | None = None,
    **_: Any,
) -> None:
    assert workspace_id is not None
    try:
        outcome = await reminders.remind(service_for(rt), workspace_id, premortem_id, user_id, step, run_time)
    except UserError:  # the pre-mortem is gone
        outcome = "gone"
    log.info("pre-mortem reminder", extra={"premortem": premortem_id, "step": step, "outcome": outcome})


# A reveal missed while every scheduler was down still happens when one returns (or at the next click).
@job_kind(DEADLINE, grace=timedelta(days=30), summary="reveal a pre-mortem's answers at its deadline")
async def deadline(
    rt: Runtime, run_time: datetime, premortem_id: int, workspace_id: str | None = None, **_: Any
) -> None:
    assert workspace_id is not None
    try:
        revealed = await lifecycle.maybe_reveal(service_for(rt), workspace_id, premortem_id)
    except UserError:
        revealed = False
    log.info("pre-mortem deadline", extra={"premortem": premortem_id, "revealed": revealed})


@job_kind(OWNER_DM, grace=timedelta(days=1), summary="DM a mitigation to its owner once they are back")
async def owner_dm(
    rt: Runtime,
    run_time: datetime,
    mitigation_id: int,
    owner: str,
    workspace_id: str | None = None,
    **_: Any,
) -> None:
    """The DM held for an away owner: sent now (or held again), unless it went meanwhile, the mitigation
    has another owner or is done, or its pre-mortem was cancelled."""
    assert workspace_id is not None
    svc = service_for(rt)
    row = await rt.db.run(mitigations_repo.get, workspace_id, mitigation_id)
    if row is None or row.owner != owner or row.dm_ts or row.status == "done":
        outcome = "not needed"
    else:
        pm = await svc.load(workspace_id, row.premortem_id)
        if pm.status == "cancelled":
            outcome = "cancelled"
        else:
            outcome = (await plans.dm_owner(svc, pm, mitigation_of(row))).strip()
    log.info("mitigation owner DM", extra={"mitigation": mitigation_id, "outcome": outcome})
