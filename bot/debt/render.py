"""Block Kit for tech-debt capacity: the allocation answer, the history, the nudge, the form.

Every sentence about what a band status means quotes the seed it comes from and names its title.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from bot import blocks as bk
from bot import outbound, seeds
from bot.debt import band
from bot.debt.model import SOURCE_NAMES, Entry, Nudge, SprintRecord, TeamDebt
from bot.debt.refs import DebtForm, NudgeButton
from bot.words import plural, quoted

SEED_001 = "001_9a79e61d27315dc6.txt"
SEED_002 = "002_09b84662299bf056.txt"

MEANING: dict[band.Status, str] = {
    band.Status.UNDER: (
        "Under the band, debt compounds and slows delivery: “Technical debt slows development, increases "
        "bugs, and blocks scaling”; the antidote is “Asana's ‘Fix-It Week’ or allocating about 20% of "
        f"sprint capacity” ({seeds.cite(SEED_001)})."
    ),
    band.Status.IN_BAND: (
        "In band: “High-performing teams allocate a fixed engineering bandwidth—often 20–30%—toward "
        f"scalability and performance improvements while continuing feature development” ({seeds.cite(SEED_002)}, FAQ 4)."
    ),
    band.Status.OVER: (
        "Over the band, feature delivery is at risk: “over-focusing on optimization too early delays "
        f"growth” ({seeds.cite(SEED_002)}, FAQ 4)."
    ),
}
STATUS_ICON = {
    band.Status.UNDER: ":arrow_down:",
    band.Status.IN_BAND: ":white_check_mark:",
    band.Status.OVER: ":arrow_up:",
}
RULE = (
    "Share = debt part ÷ capacity. Rolling figure = total debt ÷ total capacity of the last 3 sprints. "
    f"Band 20–30%, inclusive ({seeds.cite(SEED_002)}, FAQ 4; {seeds.cite(SEED_001)})."
)
HISTORY_SPRINTS = 12
HISTORY_WRITES = 8

MODAL_CALLBACK = "debt.record"
FIXIT_ACTION = "debt.nudge.fixit"
ACK_ACTION = "debt.nudge.ack"


def number(value: object) -> str:
    """12, 12.5 — no trailing zeros."""
    text = format(value, "f") if not isinstance(value, float) else repr(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def dates(starts: date | None, ends: date | None) -> str:
    if starts and ends:
        return f"{starts.isoformat()} – {ends.isoformat()}"
    if ends:
        return f"until {ends.isoformat()}"
    return "no dates"


def figure(debt: object, capacity: object, unit: str, share: band.Fraction) -> str:
    return f"{number(debt)} of {number(capacity)} {unit} = {band.percent(share)}"


def source(entry: Entry) -> str:
    """Who or what wrote it, and when."""
    if entry.imported:
        who = f"imported from {SOURCE_NAMES.get(entry.source, entry.source)} (`{bk.escape(entry.author)}`)"
    else:
        who = f"typed in Slack by {bk.mention(entry.author)}"
    return f"{who}, {bk.date(entry.recorded_at)}"


def unestimated(entry: Entry) -> str:
    if entry.unestimated is None:
        return ""
    issues = plural(entry.issues, "issue") if entry.issues is not None else "issues"
    if not entry.unestimated:
        return f" {issues}, all estimated."
    return f" {issues}; {entry.unestimated} unestimated, {entry.unestimated_rule or 'skipped'}."


def run_direction(run: Sequence[band.Sprint]) -> str:
    statuses = {s.status for s in run}
    if statuses == {band.Status.UNDER}:
        return "under"
    if statuses == {band.Status.OVER}:
        return "over"
    return "outside"


def run_summary(run: Sequence[band.Sprint]) -> str:
    return ", ".join(
        f"{bk.escape(s.name)} {band.percent(s.share)} ({number(s.debt)} of {number(s.capacity)} {s.unit})"
        for s in run
    )


# --- the allocation answer ---------------------------------------------------------------------------


def allocation_blocks(debt: TeamDebt) -> list[bk.Block]:
    title = f"Tech-debt capacity · {debt.team_name}"
    alloc, current = debt.allocation, debt.current
    if (alloc is None or current is None) and debt.sprints:
        first = debt.sprints[0]
        return [
            bk.header(title),
            bk.section(
                f"No sprint has started yet: *{bk.escape(first.name)}* ({dates(first.starts, first.ends)}) "
                "is counted from its first day."
            ),
            bk.context(RULE),
        ]
    if alloc is None or current is None:
        return [
            bk.header(title),
            bk.section(
                "No sprint recorded yet. Record one with `/scale-check debt 12 of 50` "
                '(add `sprint "Sprint 42"` to name it) or fill in the form.'
            ),
            bk.context(RULE),
        ]
    latest = current.latest
    corrected = ""
    if current.corrections:
        corrected = (
            f"\nCorrected {current.corrections} time{'s' if current.corrections > 1 else ''}; the latest write "
            "wins, earlier values are in `/scale-check debt history`."
        )
    this = alloc.current
    blocks = [
        bk.header(title),
        bk.section(
            f"*Current sprint: {bk.escape(current.name)}* ({dates(current.starts, current.ends)})\n"
            f"*{figure(this.debt, this.capacity, this.unit, this.share)}* · {this.status.value}\n"
            f"Latest write: {source(latest)}.{unestimated(latest)}{corrected}"
        ),
        bk.section(_rolling(alloc)),
        bk.section(
            f"*Trend, last {len(alloc.trend)} sprint{'s' if len(alloc.trend) > 1 else ''}* ({alloc.direction}): "
            f"`{alloc.sparkline}`\n"
            + " · ".join(f"{bk.escape(s.name)} {band.percent(s.share)}" for s in alloc.trend)
        ),
    ]
    if alloc.run:
        line = (
            f":warning: Out of band for {len(alloc.run)} sprint{'s' if len(alloc.run) > 1 else ''} in a row."
        )
        nudge = debt.run_nudge
        if nudge is not None and nudge.acknowledged_by:
            line += f" Acknowledged by {bk.mention(nudge.acknowledged_by)}."
        blocks.append(bk.section(line))
    for plan in debt.fixits:
        blocks.append(bk.section(fixit_line(plan)))
    counted = {s.id for s in alloc.history}
    later = [r for r in debt.sprints if r.id not in counted]
    if later:
        names = ", ".join(f"{bk.escape(r.name)} ({dates(r.starts, r.ends)})" for r in later[:5])
        blocks.append(bk.context(f"Not counted until they are current: {names}."))
    if debt.import_status is not None:
        blocks.append(bk.context(import_line(debt)))
    blocks.append(bk.context(RULE))
    return blocks


def _rolling(alloc: band.Allocation) -> str:
    roll = alloc.rolling
    count = len(roll.sprints)
    last = "the last sprint" if count == 1 else f"the last {count} sprints"
    if roll.unit is not None and roll.debt is not None and roll.capacity is not None:
        basis = f"{number(roll.debt)} of {number(roll.capacity)} {roll.unit} over {last}"
    else:
        basis = f"the average share of {last}, because they use different units"
    return (
        f"{STATUS_ICON[roll.status]} *Rolling figure: {band.percent(roll.share)}* — *{roll.status.value}* "
        f"({basis}).\n{MEANING[roll.status]}"
    )


def fixit_line(plan: Nudge) -> str:
    when = dates(plan.fixit_starts, plan.fixit_ends) if plan.fixit_starts else "the next sprint"
    after = f" (after {bk.escape(plan.fixit_after)})" if plan.fixit_after else ""
    who = f" by {bk.mention(plan.fixit_by)}" if plan.fixit_by else ""
    return f":hammer_and_wrench: Fix-It sprint planned for {when}{after}{who}."


def import_line(debt: TeamDebt) -> str:
    status = debt.import_status
    assert status is not None
    name = f"{SOURCE_NAMES.get(status.kind, status.kind)} (`{bk.escape(status.tracker)}`)"
    if status.stale:
        good = (
            f"The figure imported {bk.date(status.last_success_at)} stays"
            if status.last_success_at
            else "Nothing was imported yet"
        )
        return (
            f":warning: *Stale:* the import from {name} failed {bk.date(status.last_attempt_at)}: "
            f"{outbound.mrkdwn(status.reason or 'unknown reason')}. {good}."
        )
    missing = ""
    if status.unestimated:
        missing = f"; {status.unestimated} unestimated, {status.unestimated_rule}"
    return (
        f"Imported from {name} {bk.date(status.last_attempt_at)}: "
        f"{bk.escape(status.sprint_name or '')}, {plural(status.issues or 0, 'issue')}{missing}."
    )


def allocation_message(debt: TeamDebt, lead: str | None = None) -> dict[str, Any]:
    blocks = allocation_blocks(debt)
    if lead:
        blocks.insert(0, bk.section(lead))
    alloc = debt.allocation
    if alloc is None:
        text = f"Tech-debt capacity of {debt.team_name}: no sprint " + (
            "started yet." if debt.sprints else "recorded yet."
        )
    else:
        text = (
            f"Tech-debt capacity of {debt.team_name}: {alloc.current.name} {band.percent(alloc.current.share)}, "
            f"rolling {band.percent(alloc.rolling.share)} ({alloc.status.value})"
        )
    return bk.message(f"{lead} {text}" if lead else text, blocks)


# --- history -----------------------------------------------------------------------------------------


def history_message(debt: TeamDebt) -> dict[str, Any]:
    blocks: list[bk.Block] = [bk.header(f"Tech-debt history · {debt.team_name}")]
    if not debt.sprints:
        blocks.append(bk.section("No sprint recorded yet."))
        return bk.message(f"Tech-debt history of {debt.team_name}: no sprint recorded yet.", blocks)
    shown = list(reversed(debt.sprints))[:HISTORY_SPRINTS]
    for record in shown:
        blocks.append(bk.section(sprint_history(record)))
    if len(debt.sprints) > len(shown):
        blocks.append(bk.context(f"{len(debt.sprints) - len(shown)} earlier sprints not shown."))
    blocks.append(
        bk.context("The latest write of a sprint wins, whether typed or imported; every write is kept.")
    )
    return bk.message(f"Tech-debt history of {debt.team_name}: {plural(len(debt.sprints), 'sprint')}", blocks)


def sprint_history(record: SprintRecord) -> str:
    latest = record.latest
    head = (
        f"*{bk.escape(record.name)}* ({dates(record.starts, record.ends)}): "
        f"*{figure(latest.debt, latest.capacity, latest.unit, latest.share)}*"
    )
    lines = [head]
    writes = list(reversed(record.entries))
    for i, entry in enumerate(writes[:HISTORY_WRITES]):
        mark = "• latest:" if i == 0 else "• was"
        note = f" — {quoted(bk.escape(entry.note))}" if entry.note else ""
        lines.append(
            f"{mark} {number(entry.debt)} of {number(entry.capacity)} {entry.unit} "
            f"({band.percent(entry.share)}), {source(entry)}{note}"
        )
    if len(writes) > HISTORY_WRITES:
        lines.append(f"• … and {len(writes) - HISTORY_WRITES} earlier writes")
    return "\n".join(lines)


# --- the nudge ---------------------------------------------------------------------------------------


def nudge_message(team_name: str, nudge: Nudge) -> dict[str, Any]:
    """The one channel message a run of out-of-band sprints gets, with its two buttons until used."""
    count, where = nudge.run_length, nudge.direction
    head = (
        f":rotating_light: *{bk.escape(team_name)} has spent {where} the 20–30% tech-debt band for "
        f"{count} sprints in a row:* {nudge.run_names}."
    )
    status = band.Status.UNDER if where == "under" else band.Status.OVER if where == "over" else None
    meaning = MEANING[status] if status else f"{MEANING[band.Status.UNDER]} {MEANING[band.Status.OVER]}"
    blocks: list[bk.Block] = [bk.section(head), bk.section(meaning)]
    done: list[str] = []
    if nudge.fixit_planned:
        done.append(fixit_line(nudge))
    if nudge.acknowledged_by and nudge.acknowledged_at:
        done.append(f"Acknowledged by {bk.mention(nudge.acknowledged_by)} {bk.date(nudge.acknowledged_at)}.")
    if done:
        blocks.append(bk.section("\n".join(done)))
    buttons = []
    if not nudge.fixit_planned:
        buttons.append(
            bk.button("Plan a Fix-It sprint", FIXIT_ACTION, NudgeButton(n=nudge.id).dump(), style="primary")
        )
    if not nudge.acknowledged_by:
        buttons.append(bk.button("Acknowledge", ACK_ACTION, NudgeButton(n=nudge.id).dump()))
    if buttons:
        blocks.append(bk.actions(*buttons, block_id=f"debt.nudge.{nudge.id}"))
    text = f"{team_name} has spent {where} the 20–30% tech-debt band for {count} sprints in a row"
    return bk.message(text, blocks)


def fixit_dm(team_name: str, channel_id: str, nudge: Nudge) -> dict[str, Any]:
    line = fixit_line(nudge)
    text = f"{team_name} planned a Fix-It sprint after {nudge.run_names} out of the tech-debt band."
    return bk.message(
        text,
        [
            bk.section(
                f"{line}\n{bk.escape(team_name)} ({bk.channel_link(channel_id)}) has been out of the 20–30% "
                f"tech-debt band: {nudge.run_names}."
            )
        ],
    )


# --- the form ----------------------------------------------------------------------------------------


def record_modal(channel_id: str, unit: str, current: SprintRecord | None) -> dict[str, Any]:
    """Sprint, dates, capacity, debt part, unit and note; prefilled with the current sprint."""
    sprint_input: dict[str, object] = {"type": "plain_text_input", "action_id": "value", "max_length": 80}
    starts: dict[str, object] = {"type": "datepicker", "action_id": "value"}
    ends: dict[str, object] = {"type": "datepicker", "action_id": "value"}
    if current is not None:
        sprint_input["initial_value"] = current.name
        if current.starts:
            starts["initial_date"] = current.starts.isoformat()
        if current.ends:
            ends["initial_date"] = current.ends.isoformat()
    units = [bk.option("points", "points"), bk.option("hours", "hours")]
    unit_select = {
        "type": "static_select",
        "action_id": "value",
        "options": units,
        "initial_option": next(o for o in units if o["value"] == unit),
    }

    def number_input() -> dict[str, Any]:
        return {"type": "number_input", "action_id": "value", "is_decimal_allowed": True}

    blocks = [
        bk.input_block(
            "Sprint", sprint_input, block_id="sprint", hint="An existing sprint's name corrects it."
        ),
        bk.input_block(
            "Starts", starts, block_id="starts", optional=True, hint="Give both dates, or neither."
        ),
        bk.input_block("Ends", ends, block_id="ends", optional=True, hint="Give both dates, or neither."),
        bk.input_block("Capacity", number_input(), block_id="capacity"),
        bk.input_block("Spent on tech debt and scalability", number_input(), block_id="debt"),
        bk.input_block("Unit", unit_select, block_id="unit"),
        bk.input_block(
            "Note",
            {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 500},
            block_id="note",
            optional=True,
        ),
        bk.context(RULE),
    ]
    return bk.modal(
        "Tech-debt capacity",
        blocks,
        callback_id=MODAL_CALLBACK,
        submit="Record",
        private_metadata=DebtForm(channel=channel_id).metadata(),
    )
