"""Voting on the revealed risks: one vote per person per risk, a lead's "not the same", closing the vote."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot import blocks as bk
from bot.calibration import service as calibration
from bot.errors import UserError
from bot.launch import horizon as launch_horizon
from bot.premortem.grouping import Group, split_parts
from bot.premortem.model import Premortem
from bot.premortem.render import mentions
from bot.premortem.service import PremortemService, closed_sentence
from storage import premortem as repo
from storage import premortem_lifecycle as states
from storage import premortem_votes as votes_repo

log = logging.getLogger(__name__)

GONE = "That risk is no longer on the list (a lead split it); vote on the risks in the updated message."


async def _voting(
    svc: PremortemService, workspace_id: str, premortem_id: int, group_id: str
) -> tuple[Premortem, Group]:
    pm = await svc.load(workspace_id, premortem_id)
    if pm.status != "voting":
        raise UserError(closed_sentence(pm))
    group = (await svc.board(pm)).group(group_id)
    if group is None:
        raise UserError(GONE)
    return pm, group


@dataclass(frozen=True)
class Change:
    """A vote set or taken back: the write, what to say if voting just closed, and if nothing changed."""

    write: Callable[[Session, str, int, str, str, datetime], bool]
    too_late: str
    unchanged: str


async def _change(
    svc: PremortemService, workspace_id: str, premortem_id: int, group: Group, user_id: str, change: Change
) -> str | None:
    """Apply `change` (a sentence when it changed nothing) and redraw; refused once voting closed."""
    try:
        changed = await svc.rt.db.run(
            change.write, workspace_id, premortem_id, group.id, user_id, svc.rt.clock.now()
        )
    except repo.Closed as exc:
        raise UserError(f"Voting closed a moment ago; {change.too_late}.") from exc
    if not changed:
        return change.unchanged.format(title=f"*{bk.escape(group.title)}*")
    await svc.refresh(workspace_id, premortem_id)
    return None


async def vote(
    svc: PremortemService, workspace_id: str, premortem_id: int, group_id: str, user_id: str
) -> str | None:
    """Set the person's vote for a risk; a sentence when nothing changed (already voted)."""
    pm, group = await _voting(svc, workspace_id, premortem_id, group_id)
    if not await svc.is_member(workspace_id, pm.channel_id, user_id):
        raise UserError(
            f"Only people in {bk.channel_link(pm.channel_id)} vote on its pre-mortem, and you are not in it, "
            "so your vote was not counted. Join the channel, then vote again."
        )
    change = Change(
        votes_repo.set_vote,
        "your vote was not counted",
        "You have already voted for {title}; one vote per person per risk.",
    )
    return await _change(svc, workspace_id, premortem_id, group, user_id, change)


async def unvote(
    svc: PremortemService, workspace_id: str, premortem_id: int, group_id: str, user_id: str
) -> str | None:
    _, group = await _voting(svc, workspace_id, premortem_id, group_id)
    change = Change(votes_repo.remove_vote, "the votes are final", "You had not voted for {title}.")
    return await _change(svc, workspace_id, premortem_id, group, user_id, change)


async def split(
    svc: PremortemService, workspace_id: str, premortem_id: int, group_id: str, user_id: str
) -> None:
    """A lead says the merged names are different components: show each on its own, votes kept."""
    pm, group = await _voting(svc, workspace_id, premortem_id, group_id)
    if user_id not in pm.lead_ids:
        raise UserError(f"Only this pre-mortem's leads ({mentions(pm.lead_ids)}) can undo a merge.")
    if not group.merged:
        raise UserError(f"*{bk.escape(group.title)}* was written only one way; there is nothing to split.")
    parts = [g.id for g in split_parts(group)]
    try:
        await svc.rt.db.run(
            votes_repo.split,
            workspace_id,
            premortem_id,
            group.key,
            group.id,
            parts,
            user_id,
            svc.rt.clock.now(),
        )
    except repo.Closed as exc:
        raise UserError("Voting closed a moment ago, so the risks stay as they are.") from exc
    await svc.refresh(workspace_id, premortem_id)


async def close(svc: PremortemService, workspace_id: str, premortem_id: int, user_id: str) -> None:
    """Close voting: the top three by votes (with the tie-breaks) get a mitigation each."""
    pm = await svc.load(workspace_id, premortem_id)
    if pm.status != "voting":
        raise UserError(closed_sentence(pm))
    team = await svc.team(workspace_id, pm.channel_id)
    await svc.require(
        workspace_id,
        user_id,
        {pm.started_by, *pm.lead_ids, *team.managers},
        "Only the person who started the pre-mortem, its leads, the team's managers or an admin can close "
        "the vote.",
    )
    board = await svc.board(pm, team)
    top = [r.id for r in board.top]
    try:
        closed = await svc.rt.db.run(
            states.close_voting, workspace_id, premortem_id, top, user_id, svc.rt.clock.now()
        )
    except repo.Closed as exc:
        raise UserError("The pre-mortem was cancelled meanwhile.") from exc
    if closed:
        log.info("pre-mortem voting closed", extra={"premortem": premortem_id, "top": len(top)})
        voted = await svc.load(workspace_id, premortem_id)
        until = await launch_horizon.until_for(svc.rt, workspace_id, premortem_id)  # a launch's T+30
        await calibration.predict(svc.rt, voted, await svc.board(voted, team), team, until)
    await svc.refresh(workspace_id, premortem_id)
