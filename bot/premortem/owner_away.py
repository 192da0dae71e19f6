"""A mitigation's owner who is away: the DM that gives them the mitigation waits for them.

Saving a mitigation DMs its owner. When `bot.presence` finds the owner away (an away status, or Do Not
Disturb now), the DM is not sent: the wait is held in the shared away holds (`storage.presence`, subject
`mitigation:<id>`), the `premortem.owner_dm` job tries again at their first working hour after the
status ends (daily, up to `away.max_daily_retries`, for a status without an end), and the person who saved
it is told "away until Tue" instead of "got it by DM".
"""

from __future__ import annotations

from datetime import datetime

from bot.premortem import schedule
from bot.premortem.service import PremortemService
from bot.presence.rules import Away, retry_at
from bot.presence.service import presence_for
from storage import presence as presence_repo

OWNER_DM = "premortem.owner_dm"
STEP = "owner_dm"


def owner_subject(mitigation_id: int) -> str:
    """What waits for an away owner, in the shared away holds."""
    return f"mitigation:{mitigation_id}"


def owner_dm_job(workspace_id: str, mitigation_id: int, owner: str, at: datetime) -> schedule.Planned:
    kwargs: dict[str, object] = {"mitigation_id": mitigation_id, "owner": owner}
    return schedule.Planned(OWNER_DM, f"{workspace_id}:{mitigation_id}:{owner}", at, kwargs)


async def hold_if_away(
    svc: PremortemService, workspace_id: str, mitigation_id: int, owner: str, tz: str | None
) -> Away | None:
    """None when the owner can be DMed now (a hold they had is released); else the DM waits for them and
    the `Away` found is returned."""
    presence = presence_for(svc.rt)
    reach = await presence.reach(workspace_id, owner)
    subject = owner_subject(mitigation_id)
    if not isinstance(reach, Away):
        await svc.rt.db.run(presence_repo.release, workspace_id, subject, owner)
        return None
    now = svc.rt.clock.now()
    tries = await svc.rt.db.run(
        presence_repo.hold, workspace_id, subject, owner, STEP, reach.why, reach.until, now
    )
    again = retry_at(reach, now, tz, tries, presence.config(workspace_id).max_daily_retries)
    await svc.rt.db.run(presence_repo.set_retry, workspace_id, subject, owner, again)
    if again is not None:
        await schedule.apply(svc.rt, workspace_id, [owner_dm_job(workspace_id, mitigation_id, owner, again)])
    return reach
