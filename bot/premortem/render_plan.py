"""After the reveal: "data says", the top three with their mitigations, the owner's DM, reminders, and
`/scale-check premortem status`."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from bot import blocks as bk
from bot.premortem.board import Board
from bot.premortem.datasays import headroom_text, value_shown
from bot.premortem.mitigation import days_overdue, local_today
from bot.premortem.model import (
    MITIGATION_STATUSES,
    QUESTION,
    DataSays,
    Mitigation,
    OpenMitigation,
    Premortem,
)
from bot.premortem.ranking import Ranked
from bot.premortem.refs import GroupRef, PremortemRef, SnoozeRef, StatusRef
from bot.premortem.render import ACTION_ANSWER
from bot.words import mitigation_count, plural, spelled, unmitigated_clause, verb

ACTION_MITIGATE = "premortem:mitigate"
ACTION_STATUS = "premortem:status"  # + ":<status>"
ACTION_SNOOZE = "premortem:snooze"
ACTION_OVERRIDE = "premortem:override"

Message = dict[str, Any]

NO_SOURCE = (
    "This team has no metrics source yet, so the data can't weigh in. An operator adds one under the "
    "team's `metrics:` in the config file, or an admin picks one with `/scale-check setup`."
)
VERDICTS = {
    "agree": ":white_check_mark: leads agree: {groups}",
    "data_only": ":warning: no lead named it",
    "leads_only": ":warning: leads named {groups}; the data shows room",
    "neutral": "",
}


def data_message(board: Board) -> Message:
    data = board.pm.data or DataSays(note=NO_SOURCE)
    blocks: list[bk.Block] = [bk.header("What the data says")]
    if data.note:
        blocks.append(bk.section(bk.escape(data.note) if data.note != NO_SOURCE else NO_SOURCE))
    if data.signals:
        when = bk.date(data.read_at) if data.read_at else "now"
        source = f" from *{bk.escape(data.source)}*" if data.source else ""
        blocks.append(
            bk.section(
                f"The signals of {bk.escape(board.pm.team_name)} ranked by 10x headroom{source}, read {when}:"
            )
        )
        lines = []
        for place, mark in enumerate(board.marks, start=1):
            s = mark.signal
            titles = ", ".join(f"*{bk.escape(g.title)}*" for g in mark.groups)
            verdict = VERDICTS[mark.verdict].format(groups=titles)
            flag = " · *breaks first at 10x*" if s.breaks_first else ""
            line = f"{place}. `{s.name}` — {value_shown(s)} · {headroom_text(s)}{flag}"
            lines.append(line + (f" · {verdict}" if verdict else ""))
        for start in range(0, len(lines), 10):
            blocks.append(bk.section("\n".join(lines[start : start + 10])))
    elif not data.note:
        blocks.append(bk.section("No saturation or latency signal could be projected to 10x."))
    if data.unavailable:
        blocks.append(bk.context(*[bk.escape(u) for u in data.unavailable[:10]]))
    if data.assumptions:
        blocks.append(bk.context(bk.escape(data.assumptions)))
    text = f"Pre-mortem for {bk.escape(board.pm.team_name)}: what the data says"
    return bk.message(text, blocks[: bk.MAX_MESSAGE_BLOCKS])


def due_text(mitigation: Mitigation, now: datetime) -> str:
    """The due date, marked overdue once it has passed on the owner's calendar."""
    text = f"due {mitigation.due.isoformat()}"
    days = days_overdue(mitigation.due, mitigation.status, now, mitigation.owner_tz)
    if days:
        text += f" :warning: *overdue by {plural(days, 'day')}*"
    return text


def mitigation_text(mitigation: Mitigation, now: datetime) -> str:
    verify = (
        f"`{bk.escape(mitigation.metric or '')}` {mitigation.target.op} {bk.escape(mitigation.target.text)}"
        if mitigation.verification == "metric" and mitigation.target
        else "load test at 10x passes"
    )
    lines = [
        f"*Plan:* {bk.escape(mitigation.plan)}",
        f"*Owner:* {bk.mention(mitigation.owner)} · {due_text(mitigation, now)} · *Verified by:* {verify}",
        f"*Status:* {MITIGATION_STATUSES[mitigation.status]} "
        f"({bk.mention(mitigation.updated_by)} {bk.date(mitigation.updated_at)})",
    ]
    if mitigation.override_reason:
        lines.append(
            f"_Marked done without the metric by {bk.mention(mitigation.override_by or '')}: "
            f"{bk.escape(mitigation.override_reason)}_"
        )
    return "\n".join(lines)


def status_buttons(mitigation: Mitigation) -> list[dict[str, Any]]:
    buttons = []
    for status, label in MITIGATION_STATUSES.items():
        style = "primary" if status == mitigation.status else None
        buttons.append(
            bk.button(
                label, f"{ACTION_STATUS}:{status}", StatusRef(m=mitigation.id, s=status).dump(), style=style
            )
        )
    return buttons


def _top_blocks(
    pm: Premortem, ranked: Ranked, mitigation: Mitigation | None, now: datetime
) -> list[bk.Block]:
    group = ranked.group
    head = (
        f"*{ranked.place}. {bk.escape(group.title)}* · {plural(ranked.votes, 'vote')} · best rank "
        f"#{group.best_rank} · raised by {plural(len(group.leads), 'lead')}"
    )
    value = GroupRef(pm=pm.id, g=group.id).dump()
    if mitigation is None:
        body = "_No mitigation yet: add a plan, an owner, a due date and how it is verified._"
        buttons = [bk.button("Add mitigation", ACTION_MITIGATE, value, style="primary")]
    else:
        body = mitigation_text(mitigation, now)
        buttons = [bk.button("Edit mitigation", ACTION_MITIGATE, value), *status_buttons(mitigation)]
    return [
        bk.section(f"{head}\n{body}", block_id=f"top:{group.id}"),
        bk.actions(*buttons, block_id=f"plan:{group.id}"),
    ]


def _top_heading(n: int) -> str:
    """`Top three risks and their mitigations`, counted as many as there are (`The top risk…` for one)."""
    if n == 1:
        return "The top risk and its mitigation"
    return f"Top {spelled(n)} risks and their mitigations" if n else "Top risks and their mitigations"


def top_message(board: Board, now: datetime) -> Message:
    blocks: list[bk.Block] = [
        bk.header(_top_heading(len(board.top))),
        bk.context(
            "Chosen by votes; ties go to the best rank a lead gave, then to the risk more leads raised. "
            "The owner, the team's managers and admins change a mitigation's status."
        ),
    ]
    for ranked, mitigation in board.top_mitigations():
        blocks.extend(_top_blocks(board.pm, ranked, mitigation, now))
    if not board.top:
        blocks.append(bk.section("No risks were named, so there is nothing to mitigate."))
    return bk.message(
        f"Pre-mortem for {bk.escape(board.pm.team_name)}: {_top_heading(len(board.top)).lower()}", blocks
    )


def owner_dm(pm: Premortem, mitigation: Mitigation, now: datetime) -> Message:
    where = bk.link(pm.permalink, "the pre-mortem thread") if pm.permalink else bk.channel_link(pm.channel_id)
    blocks = [
        bk.section(
            f"You own a mitigation from the {bk.escape(pm.team_name)} pre-mortem ({where}): "
            f"*{bk.escape(mitigation.title)}*"
        ),
        bk.section(mitigation_text(mitigation, now)),
        bk.actions(*status_buttons(mitigation), block_id=f"dm:{mitigation.id}"),
    ]
    text = (
        f"You own a mitigation from the {bk.escape(pm.team_name)} pre-mortem: {bk.escape(mitigation.title)}"
    )
    return bk.message(text, blocks)


def reminder_dm(pm: Premortem, step: str) -> Message:
    where = bk.link(pm.permalink, "the thread") if pm.permalink else bk.channel_link(pm.channel_id)
    blocks = [
        bk.section(
            f"Reminder: your answer to the {bk.escape(pm.team_name)} pre-mortem is due {bk.date(pm.deadline)} "
            f"({where}).\n*{QUESTION}*"
        ),
        bk.actions(
            bk.button("Add my answer", ACTION_ANSWER, PremortemRef(pm=pm.id).dump(), style="primary"),
            bk.button("Snooze a day", ACTION_SNOOZE, SnoozeRef(pm=pm.id, step=step).dump()),
            block_id=f"remind:{pm.id}",
        ),
    ]
    return bk.message(f"Reminder: your pre-mortem answer for {bk.escape(pm.team_name)} is due", blocks)


def snoozed_dm(pm: Premortem, until: datetime, next_at: datetime | None) -> Message:
    if next_at is None:
        text = (
            f"Snoozed. The deadline ({bk.date(pm.deadline)}) comes before a day is up, so this was your "
            "last reminder."
        )
    else:
        text = f"Snoozed until {bk.date(until)}; I'll remind you again {bk.date(next_at)}."
    return bk.message(text, [bk.section(text)])


def absent_lead_dm(pm: Premortem, user_id: str) -> Message:
    text = (
        f"{bk.mention(pm.started_by)} named you a lead in the {bk.escape(pm.team_name)} pre-mortem, but you "
        f"are not in {bk.channel_link(pm.channel_id)}. Join the channel to answer by {bk.date(pm.deadline)}, "
        f"or ask {bk.mention(pm.started_by)} to replace you."
    )
    return bk.message(text, [bk.section(text)])


def status_message(
    team: str,
    items: Sequence[OpenMitigation],
    now: datetime,
    has_premortem: bool,
    deactivated: Collection[str] = (),
    unmitigated: int = 0,
) -> Message:
    """`/scale-check premortem status`: the team's open mitigations with age, owner and overdue marks, and
    how many of the latest pre-mortem's top risks have no mitigation at all."""
    blocks: list[bk.Block] = [bk.header(f"Open mitigations: {team}")]  # plain text: no escaping
    if unmitigated:
        blocks.append(
            bk.section(
                f":warning: {plural(unmitigated, 'top risk')} of the latest pre-mortem "
                f"{verb(unmitigated, 'has', 'have')} no mitigation yet: plan "
                f"{verb(unmitigated, 'it', 'them')} in the pre-mortem thread."
            )
        )
    elif not items:
        hint = "" if has_premortem else " No pre-mortem yet: start one with `/scale-check premortem @lead …`."
        blocks.append(bk.section(f"No open mitigations for {bk.escape(team)}.{hint}"))
    lines = []
    for m in items:
        where = bk.link(m.permalink, "thread") if m.permalink else "thread"
        owner = bk.mention(m.owner)
        if m.owner in deactivated:
            owner += " :warning: _deactivated: pick a new owner with “Edit mitigation”_"
        due = f"due {m.due.isoformat()}"
        if m.overdue:
            days = max(1, (local_today(now, m.owner_tz) - m.due).days)
            due += f" :warning: *overdue by {plural(days, 'day')}*"
        lines.append(
            f"• *{bk.escape(m.title)}* — {owner} · {due} · open {plural(m.age_days, 'day')} · "
            f"{m.status_label} · {where}"
        )
    for start in range(0, len(lines), 8):
        blocks.append(bk.section("\n".join(lines[start : start + 8])))
    overdue = sum(1 for m in items if m.overdue)
    count = mitigation_count(len(items))
    text = f"{count[0].upper()}{count[1:]} for {bk.escape(team)}" + (
        f", {overdue} overdue" if overdue else ""
    )
    if unmitigated:
        text += f"; {unmitigated_clause(unmitigated)}"
    return bk.message(text, blocks[: bk.MAX_MESSAGE_BLOCKS])
