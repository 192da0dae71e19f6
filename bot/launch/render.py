"""What launches look like in Slack: the modal, the launch's message and timeline, the changes in its
thread, the list, and each step's message. Plain values in, Block Kit out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from bot import blocks as bk
from bot.launch.model import GoNoGo, Launch, LaunchForm, Step
from bot.launch.rules import STEP_TITLES

VIEW_LAUNCH = "launch:form"
ACTION_MOVE = "launch:move"
ACTION_CANCEL = "launch:cancel"
INCIDENT_COMMAND = "/scale-check incident <component>"

Message = dict[str, Any]

STATUS_MARK = {
    "pending": ":calendar:",
    "running": ":hourglass_flowing_sand:",
    "done": ":white_check_mark:",
    "skipped": ":fast_forward:",
    "cancelled": ":no_entry_sign:",
}


def multiple_text(multiple: float) -> str:
    return f"{multiple:g}x"


def day_text(day: date) -> str:
    return day.strftime("%a %d %b %Y").replace(" 0", " ")


def launch_modal(
    channel_id: str | None, leads: Sequence[str], multiple: float, today: date, form: LaunchForm
) -> dict[str, Any]:
    """The form behind `/scale-check launch` (and the launch's Move button, with only the date)."""
    date_block = bk.input_block(
        "Launch date",
        {"type": "datepicker", "action_id": "date", "initial_date": today.isoformat()},
        block_id="date",
        hint="Steps come at 10:00 on working days in your time zone, counted back from this date.",
    )
    if form.id is not None:
        return bk.modal(
            "Move the launch",
            [date_block],
            callback_id=VIEW_LAUNCH,
            submit="Move",
            private_metadata=form.metadata(),
        )
    team: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": "channel",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel_id:
        team["initial_conversation"] = channel_id
    people: dict[str, Any] = {"type": "multi_users_select", "action_id": "leads", "max_selected_items": 8}
    if leads:
        people["initial_users"] = list(leads)
    blocks = [
        bk.input_block(
            "What is launching",
            {"type": "plain_text_input", "action_id": "value", "max_length": 200},
            block_id="what",
        ),
        date_block,
        bk.input_block(
            "Expected traffic, as a multiple of today's",
            {
                "type": "number_input",
                "action_id": "multiple",
                "is_decimal_allowed": True,
                "min_value": "1.1",
                "max_value": "1000",
                "initial_value": f"{multiple:g}",
            },
            block_id="multiple",
        ),
        bk.input_block("Team (its channel)", team, block_id="team"),
        bk.input_block(
            "Leads",
            people,
            block_id="leads",
            hint="They are asked in the pre-mortem two weeks before. Prefilled from the team's config.",
        ),
    ]
    return bk.modal(
        "Plan a launch",
        blocks,
        callback_id=VIEW_LAUNCH,
        submit="Plan it",
        private_metadata=form.metadata(),
    )


def _step_line(step: Step) -> str:
    title = STEP_TITLES.get(step.step, step.step)
    when = bk.date(step.at, "{date_short_pretty} at {time}")
    late = " _(late start)_" if step.late else ""
    note = f" — {step.note}" if step.note and step.status in ("done", "skipped") else ""
    return f"{STATUS_MARK.get(step.status, '')} {title}: {when}{late}{note}"


def timeline(launch: Launch) -> str:
    return "\n".join(_step_line(s) for s in launch.steps) or "No steps."


def summary_line(launch: Launch) -> str:
    cancelled = " ~cancelled~" if launch.status == "cancelled" else ""
    return (
        f"*{bk.escape(launch.title)}* ({bk.channel_link(launch.channel_id)}) on {day_text(launch.day)} "
        f"at {multiple_text(launch.multiple)} traffic{cancelled}"
    )


def root_message(launch: Launch) -> Message:
    """The launch's message in the team's channel: what, when, who, and the timeline (redrawn in place)."""
    state = "Cancelled: " if launch.status == "cancelled" else ""
    leads = ", ".join(bk.mention(u) for u in launch.leads) or "none named"
    blocks = [
        bk.header(f"{state}Launch: {launch.title}"),
        bk.fields(
            [
                f"*Date*\n{day_text(launch.day)} ({bk.escape(launch.zone)})",
                f"*Expected traffic*\n{multiple_text(launch.multiple)}",
                f"*Team*\n{bk.channel_link(launch.channel_id)}",
                f"*Leads*\n{leads}",
            ]
        ),
        bk.section(f"*Timeline*\n{timeline(launch)}"),
    ]
    if launch.status == "active":
        ref = LaunchForm(id=launch.id).dump()
        blocks.append(
            bk.actions(
                bk.button("Move", ACTION_MOVE, ref),
                bk.button(
                    "Cancel launch",
                    ACTION_CANCEL,
                    ref,
                    style="danger",
                    confirm=bk.confirm_dialog(
                        "Cancel this launch?",
                        "Every step still to come is cancelled.",
                        "Cancel it",
                        "Keep it",
                    ),
                ),
            )
        )
    blocks.append(bk.context(f"Launch #{launch.id} · planned by {bk.mention(launch.created_by)}"))
    text = f"{state}Launch: {bk.escape(launch.title)} on {launch.day.isoformat()} at {multiple_text(launch.multiple)}"
    return bk.message(text, blocks)


def change_message(text: str) -> Message:
    return bk.message(text, [bk.section(text)])


def created_text(launch: Launch, by: str) -> str:
    late = [s for s in launch.steps if s.late]
    text = f"{bk.mention(by)} planned this launch for {day_text(launch.day)}.\n{timeline(launch)}"
    if late:
        names = ", ".join(STEP_TITLES[s.step].lower() for s in late)
        text += f"\nLess than the usual time ahead, so the {names} start now (late start)."
    return text


def moved_text(launch: Launch, previous: date, by: str) -> str:
    return (
        f"{bk.mention(by)} moved this launch from {day_text(previous)} to {day_text(launch.day)}. "
        f"Steps still to come move with it:\n{timeline(launch)}"
    )


def cancelled_text(by: str) -> str:
    return f"{bk.mention(by)} cancelled this launch; no more steps will come."


def list_message(launches: Sequence[Launch], days: int) -> Message:
    if not launches:
        text = f"No launches in the next {days} days. Plan one with `/scale-check launch`."
        return bk.message(text, [bk.section(text)])
    blocks = [bk.header(f"Launches in the next {days} days")]
    for launch in launches[:40]:
        link = f" · {bk.link(launch.permalink, 'thread')}" if launch.permalink else ""
        pending = next((s for s in launch.steps if s.status == "pending"), None)
        upcoming = f"\nNext: {_step_line(pending)}" if pending else ""
        blocks.append(bk.section(f"{summary_line(launch)}{link}{upcoming}"))
    text = f"{len(launches)} launches in the next {days} days"
    return bk.message(text, blocks)


def home_lines(launches: Sequence[Launch]) -> list[str]:
    """One line per launch for the App Home and the digest."""
    return [summary_line(launch) for launch in launches]


# --- the steps' messages -------------------------------------------------------------------------


def step_started(step: str, late: bool, detail: str) -> Message:
    late_note = (
        " (late start: the launch was planned or moved less than the usual time ahead)" if late else ""
    )
    text = f"{STEP_TITLES[step]}{late_note}: {detail}"
    return change_message(text)


def step_skipped(step: str, due: Any, hint: str) -> Message:
    text = (
        f"{STEP_TITLES[step]} skipped: it was due {bk.date(due)} while scalebot was down, and that is too "
        f"long ago to start it now. {hint}"
    )
    return change_message(text)


def gonogo_message(launch: Launch, facts: GoNoGo, late: bool) -> Message:
    lines = [
        f"*Go/no-go for {bk.escape(launch.title)}* ({day_text(launch.day)})"
        + (" — late start" if late else "")
    ]
    if facts.metrics_note:
        lines.append(f"Headroom: {facts.metrics_note}")
    elif facts.breaks:
        parts = ", ".join(f"{bk.escape(name)} (breaks at {h:.1f}x)" for name, h in facts.breaks)
        lines.append(f":warning: Breaks before {multiple_text(facts.multiple)}: {parts}")
    else:
        lines.append(f":white_check_mark: Every measured signal holds at {multiple_text(facts.multiple)}.")
    if facts.triggers:
        lines.append("Breached triggers:\n" + bk.bullet_list(facts.triggers))
    if facts.mitigations:
        items = []
        for m in facts.mitigations:
            if m.metric and m.now is not None:
                mark = ":white_check_mark:" if m.met else ":x:"
                now = m.shown or f"{m.now:g}"
                check = f"{bk.escape(m.metric)} {now} (target {bk.escape(m.target or '')}) {mark}"
            elif m.metric:
                check = f"{bk.escape(m.metric)}: no value now"
            else:
                check = "verified by a load test"
            items.append(f"{bk.escape(m.title)} — {bk.mention(m.owner)} · {check}")
        lines.append("Open mitigations:\n" + bk.bullet_list(items))
    else:
        lines.append("No open mitigations.")
    if facts.verdict:
        where = f" ({bk.link(facts.checklist_link, 'checklist')})" if facts.checklist_link else ""
        lines.append(f"Checklist verdict: *{bk.escape(facts.verdict)}*{where}")
    else:
        lines.append("Checklist verdict: none yet (the T−7 checklist is not finished).")
    text = "\n".join(lines)
    return bk.message(f"Go/no-go for {bk.escape(launch.title)}", [bk.section(text)])


def retro_message(launch: Launch, late: bool) -> Message:
    leads = ", ".join(bk.mention(u) for u in launch.leads)
    text = (
        f"{leads} {bk.escape(launch.title)} launched {day_text(launch.day)}: *what broke, and was it on "
        f"the list?* For each thing that broke, run `{INCIDENT_COMMAND}` in {bk.channel_link(launch.channel_id)} "
        "so it is checked against the pre-mortem's predictions."
    ) + (" (late start)" if late else "")
    return bk.message(
        f"Retro: what broke in {bk.escape(launch.title)}, and was it on the list?", [bk.section(text)]
    )
