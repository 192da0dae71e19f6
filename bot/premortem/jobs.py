"""Scheduled pre-mortem work: reminders to leads who have not answered, and the reveal at the deadline.

Both are idempotent: a reminder is recorded (lead, step) before it is sent, so it goes once; the reveal
is a guarded status change, so the deadline job, the last answer and a retry reveal once between them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.errors import UserError
from bot.premortem import lifecycle, reminders
from bot.premortem.schedule import DEADLINE, REMIND
from bot.premortem.service import service_for
from bot.scheduler import job_kind

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
