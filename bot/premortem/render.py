"""The pre-mortem's messages: the root in the channel, the prompt in the thread, and the reveal.

Plain Block Kit dicts; every one has `text`, escapes what people typed, and stays within Slack's limits
(the reveal is split into several messages rather than exceed 50 blocks).
"""

from __future__ import annotations

from typing import Any

from bot import blocks as bk
from bot import seeds
from bot.premortem.board import Board
from bot.premortem.datasays import Mark, headroom_text, marks_for
from bot.premortem.grouping import Group
from bot.premortem.model import (
    EVIDENCE_KINDS,
    MITIGATION_STATUSES,
    QUESTION,
    SEED,
    SYNC_ANSWER,
    TOP,
    Premortem,
    Risk,
)
from bot.premortem.refs import ExtendRef, FromCheck, GroupRef, PremortemRef
from bot.premortem.timing import EXTEND_BY
from bot.presence.render import AWAY_EMOJI, back_text
from bot.words import plural, quoted, spelled

ACTION_ANSWER = "premortem:answer"
ACTION_EXTEND = "premortem:extend"
ACTION_CANCEL = "premortem:cancel"
ACTION_REPLACE = "premortem:replace"
ACTION_VOTE = "premortem:vote"
ACTION_UNVOTE = "premortem:unvote"
ACTION_SPLIT = "premortem:split"
ACTION_CLOSE = "premortem:close"
ACTION_START_FROM_CHECK = "premortem:start_from_check"
REPLACE_BLOCK = "replace"  # block_id "replace:<pm>:<user>"

Message = dict[str, Any]


def mentions(users: tuple[str, ...] | list[str]) -> str:
    return ", ".join(bk.mention(u) for u in users) or "nobody"


def start_button(check_id: int) -> dict[str, Any]:
    """The "Start a pre-mortem" button on a finished signal check's summary."""
    return bk.button("Start a pre-mortem", ACTION_START_FROM_CHECK, FromCheck(check=check_id).dump())


def status_line(pm: Premortem, board: Board | None = None) -> str:
    """One sentence on where the pre-mortem stands (root message and prompt)."""
    answered, leads = len(pm.answered), len(pm.leads)
    if pm.status == "collecting":
        return (
            f"Answers due {bk.date(pm.deadline)} · {answered} of {plural(leads, 'lead')} answered. "
            "Answers stay hidden until every lead has answered or the deadline passes."
        )
    if pm.status == "cancelled":
        when = bk.date(pm.cancelled_at) if pm.cancelled_at else ""
        if pm.cancelled_by is None:
            return (
                f"Closed {when}: the deadline passed and no lead had named a risk. "
                "Start another with `/scale-check premortem`."
            )
        return f"Cancelled by {bk.mention(pm.cancelled_by)} {when}."
    when = bk.date(pm.revealed_at) if pm.revealed_at else ""
    why = (
        "every lead answered"
        if pm.reveal_reason == "all_answered"
        else f"the deadline passed with {answered} of {plural(leads, 'lead')} answered"
    )
    if pm.status == "voting":
        return f"Answers revealed {when} ({why}). Vote in the thread for the risks that worry you most."
    return f"Answers revealed {when} ({why}); voting closed {bk.date(pm.closed_at) if pm.closed_at else ''}."


def _top_lines(board: Board) -> str:
    lines = []
    for ranked, mitigation in board.top_mitigations():
        title = f"*{ranked.place}. {bk.escape(ranked.group.title)}*"
        if mitigation is None:
            lines.append(f"{title}: no mitigation yet")
        else:
            lines.append(
                f"{title}: {bk.mention(mitigation.owner)} · due {mitigation.due.isoformat()} · "
                f"{_status_label(mitigation.status)}"
            )
    return "\n".join(lines)


def _status_label(status: str) -> str:
    return MITIGATION_STATUSES.get(status, status)


def root_message(board: Board) -> Message:
    pm = board.pm
    team = bk.escape(pm.team_name)
    blocks = [
        bk.header("Pre-mortem: what breaks first at 10x?"),
        bk.section(
            f"*{team}* · started by {bk.mention(pm.started_by)} {bk.date(pm.started_at)}\n"
            f"Leads: {mentions(pm.lead_ids)}"
        ),
        bk.section(status_line(pm)),
    ]
    if pm.status == "planning" and board.top:
        blocks.append(bk.section("*Top risks and their mitigations*\n" + _top_lines(board)))
    text = f"Pre-mortem for {bk.escape(pm.team_name)}, started by {bk.mention(pm.started_by)}: what breaks first at 10x?"
    return bk.message(text, blocks)


def _answered_line(pm: Premortem) -> str:
    marks = []
    for lead in pm.leads:
        if lead.answered:
            marks.append(f"✅ {bk.mention(lead.user_id)}")
        elif lead.away is not None:
            marks.append(f"{AWAY_EMOJI} {bk.mention(lead.user_id)} {back_text(lead.away.until, lead.tz)}")
        else:
            marks.append(f"⏳ {bk.mention(lead.user_id)}")
    return "*Answered:* " + " · ".join(marks)


def prompt_message(pm: Premortem) -> Message:
    """The question, the leads, the deadline, who has answered (never what), and the buttons."""
    blocks = [
        bk.section(f"{mentions(pm.lead_ids)}: *{QUESTION}*"),
        bk.section(
            "Each lead adds up to three risks, the one most likely to break first at the top: the "
            "component, why it breaks at 10x, and the evidence (a metric, an incident, a load test, a "
            "hunch). Answers stay hidden until every lead has answered or the deadline passes, so nobody "
            "anchors on the first reply."
        ),
        bk.context(
            f"In the product–engineering sync described in {seeds.cite(SEED)}, the tech lead answered: "
            f"“{SYNC_ANSWER}” "
            "Three risks like those, each with why it breaks and what shows it."
        ),
    ]
    if pm.status == "collecting":
        blocks.append(bk.section(f"*Deadline:* {bk.date(pm.deadline)}\n{_answered_line(pm)}"))
        for lead in pm.leads:
            if lead.in_channel:
                continue
            blocks.append(
                bk.section(
                    f":warning: {bk.mention(lead.user_id)} is not in this channel, so they can't answer "
                    "here. Invite them, or replace them (the starter, the team's managers or an admin):",
                    block_id=f"{REPLACE_BLOCK}:{pm.id}:{lead.user_id}",
                    accessory={
                        "type": "users_select",
                        "action_id": ACTION_REPLACE,
                        "placeholder": bk.plain("Replace with…"),
                    },
                )
            )
        later = pm.deadline + EXTEND_BY
        blocks.append(
            bk.actions(
                bk.button("Add my answer", ACTION_ANSWER, PremortemRef(pm=pm.id).dump(), style="primary"),
                bk.button(
                    "Extend by 24 hours", ACTION_EXTEND, ExtendRef(pm=pm.id, to=int(later.timestamp())).dump()
                ),
                _cancel_button(pm, "Answers given so far are kept but never revealed."),
                block_id=f"prompt:{pm.id}",
            )
        )
    else:
        blocks.append(bk.section(f"{_answered_line(pm)}\n{status_line(pm)}"))
    text = f"Pre-mortem for {bk.escape(pm.team_name)}: {QUESTION} Leads: {mentions(pm.lead_ids)}"
    return bk.message(text, blocks)


def _cancel_button(pm: Premortem, consequence: str) -> dict[str, Any]:
    """The starter's, managers' and admins' Cancel, confirmed with what cancelling now means."""
    return bk.button(
        "Cancel",
        ACTION_CANCEL,
        PremortemRef(pm=pm.id).dump(),
        style="danger",
        confirm=bk.confirm_dialog(
            "Cancel the pre-mortem?", consequence, confirm="Cancel pre-mortem", deny="Keep it"
        ),
    )


def _risk_line(risk: Risk) -> str:
    line = f"• {bk.mention(risk.lead)} (#{risk.rank})"
    if risk.why:
        line += f": {bk.escape(risk.why)}"
    if risk.evidence_kind or risk.evidence:
        kind = EVIDENCE_KINDS.get(risk.evidence_kind or "", "evidence")
        detail = f": {bk.escape(risk.evidence)}" if risk.evidence else ""
        line += f" — _{kind}{detail}_"
    return line


def _close_words(n: int) -> tuple[str, str]:
    """The close-voting button and its confirmation, counted as many risks as will be planned."""
    if n == 1:
        return "Close voting and plan the top risk", "The risk gets a mitigation with an owner."
    return (
        f"Close voting and plan the top {spelled(n)}",
        f"The {spelled(n)} risks with the most votes each get a mitigation with an owner.",
    )


def mark_line(mark: Mark) -> str:
    signal = f"`{mark.signal.name}`"
    room = headroom_text(mark.signal)
    if mark.verdict == "agree":
        return f":white_check_mark: *Data agrees:* {signal} breaks first at 10x ({room})"
    if mark.verdict == "leads_only":
        return f":warning: *Data disagrees:* {signal} has {room}"
    return f"{signal}: {room}"


def group_text(board: Board, group: Group, place: int | None = None) -> str:
    votes = board.votes(group.id)
    number = f"{place}. " if place else ""
    head = f"*{number}{bk.escape(group.title)}* · {plural(len(votes), 'vote')}"
    if votes:
        head += f" ({mentions(sorted(votes))})"
    raised = ", ".join(
        f"{bk.mention(lead)} (#{min(r.rank for r in group.risks if r.lead == lead)})" for lead in group.leads
    )
    lines = [head, f"Raised by {raised}"]
    others = [s for s in group.spellings if s != group.title]
    if others:
        lines[-1] += " · also written " + ", ".join(f"{quoted(bk.escape(s))}" for s in others)
    lines.extend(_risk_line(r) for r in group.risks)
    marks = marks_for(group, board.marks)
    if marks:
        lines.extend(mark_line(m) for m in marks)
    elif board.pm.data is not None and board.pm.data.signals:
        lines.append("_No signal of the team measures this._")
    return "\n".join(lines)


def reveal_messages(board: Board) -> list[Message]:
    """The answers grouped by component, with vote buttons while voting is open."""
    pm = board.pm
    voting = pm.status == "voting"
    blocks: list[bk.Block] = [
        bk.header(f"The answers: {plural(len(pm.risks), 'risk')}, {plural(len(board.groups), 'component')}"),
        bk.context(
            "Grouped by component: names with the same words match after case, punctuation and common "
            "abbreviations (db, auth, svc, k8s) are set aside. One vote per person per risk."
            + (" A lead can split a merge with “Not the same”." if voting else "")
        ),
    ]
    if not board.groups:
        blocks.append(bk.section("Nobody named a risk before the deadline."))
    for group in board.groups:
        blocks.append(bk.section(group_text(board, group), block_id=f"group:{group.id}"))
        if not voting:
            continue
        value = GroupRef(pm=pm.id, g=group.id).dump()
        buttons = [bk.button("Vote", ACTION_VOTE, value), bk.button("Remove vote", ACTION_UNVOTE, value)]
        if group.merged:
            buttons.append(bk.button("Not the same", ACTION_SPLIT, value))
        blocks.append(bk.actions(*buttons, block_id=f"vote:{group.id}"))
    if voting:
        buttons = []
        if board.groups:
            label, consequence = _close_words(min(len(board.groups), TOP))
            buttons.append(
                bk.button(
                    label,
                    ACTION_CLOSE,
                    PremortemRef(pm=pm.id).dump(),
                    style="primary",
                    confirm=bk.confirm_dialog("Close voting?", consequence),
                )
            )
        buttons.append(_cancel_button(pm, "The answers stay in the thread; no mitigations are planned."))
        blocks.append(bk.actions(*buttons, block_id=f"close:{pm.id}"))
    text = f"Pre-mortem for {bk.escape(pm.team_name)}: the answers, grouped by component"
    return [bk.message(text, chunk) for chunk in bk.split_blocks(blocks)]
