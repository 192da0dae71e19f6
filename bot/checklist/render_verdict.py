"""The verdict in the thread, the root message in the channel, and the summary shared to the channel.

`VERDICT_ACTIONS` is the slot for buttons beside "Share to channel" on a finished check's root message:
the pre-mortem capability appends a function returning its "Start a pre-mortem" button.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bot import blocks as bk
from bot import seeds
from bot.checklist.answers import display, format_number
from bot.checklist.model import CheckState, Ref
from bot.checklist.outcome import Outcome
from bot.checklist.playbook import Citation

ACTION_RESUME = "checklist:resume"
ACTION_CANCEL = "checklist:cancel"
ACTION_SHARE = "checklist:share"
ALIGNMENT_PREVIEW = 300  # characters of an escaped text answer repeated beside the verdict

VerdictAction = Callable[[CheckState, Outcome], dict[str, Any] | None]
# Buttons shown beside "Share to channel" once a check is finished; each function returns a button
# element (or None to show nothing for this check). Appended to at import time by other capabilities.
VERDICT_ACTIONS: list[VerdictAction] = []


def add_verdict_action(action: VerdictAction) -> VerdictAction:
    """Register a button for finished checks' root messages (usable as a decorator)."""
    VERDICT_ACTIONS.append(action)
    return action


def percent(share: float) -> str:
    return f"{round(share * 100)}%"


PEAK_SEED = "001_9a79e61d27315dc6.txt"  # load test at 5–10x of the peak


def summary(outcome: Outcome) -> str:
    """One line: verdict, score and stage (mrkdwn)."""
    parts = []
    if outcome.verdict is not None and outcome.score is not None:
        parts.append(f"*{outcome.verdict.headline}* (score {percent(outcome.score)})")
    if outcome.stage is not None:
        parts.append(f"stage *{outcome.stage.band}*")
    return " · ".join(parts) or "*Finished*"


def _cited(items: list[Citation]) -> str:
    return bk.bullet_list(f"{bk.escape(c.text)} _({bk.escape(seeds.cite_title(c.title))})_" for c in items)


def _stage_text(outcome: Outcome) -> str | None:
    stage = outcome.stage
    if stage is None:
        return None
    sign = "+" if stage.growth_percent >= 0 else ""
    text = (
        f"*Growth stage: {stage.band}*: planning for {stage.planning_whole:,} users "
        f"({format_number(stage.users)} active now, {sign}{format_number(stage.growth_percent)}% expected "
        "over the next quarter)."
    )
    if outcome.peak_rps is not None:
        low, high = outcome.peak_rps * 5, outcome.peak_rps * 10
        text += (
            f" Peak {format_number(outcome.peak_rps)} req/s: load test at "
            f"{format_number(low.quantize(Decimal(1)))}–{format_number(high.quantize(Decimal(1)))} req/s "
            f"(5–10x, from {seeds.cite(PEAK_SEED)})."
        )
    return text


def _alignment(state: CheckState) -> str | None:
    lines = []
    for part in state.playbook.parts:
        if part.kind != "business":
            continue
        for question in part.questions:
            answer = state.answers.get(question.id)
            if answer is None or question.kind == "yes_no":
                continue
            shown = bk.truncate(bk.escape(display(question, answer.value)), ALIGNMENT_PREVIEW)
            lines.append(f"{bk.escape(question.text)} {shown.replace(chr(10), ' ')}")
    return "*Business alignment*\n" + bk.bullet_list(lines) if lines else None


def verdict_message(state: CheckState, outcome: Outcome) -> dict[str, Any]:
    """The verdict posted in the thread once every required answer is in."""
    blocks: list[bk.Block] = []
    verdict = outcome.verdict
    if verdict is not None and outcome.score is not None:
        blocks.append(bk.header(f"Verdict: {verdict.headline}"))
        blocks.append(
            bk.section(
                f"{verdict.advice}\nScore *{percent(outcome.score)}*: the weighted share of yes across the "
                "six surge signals (playbook weights; they never change the verdict)."
            )
        )
    else:
        blocks.append(bk.header("Scale check finished"))
    if outcome.open_questions:
        lines = [
            f"{bk.escape(o.question.text)}" + (f" (ask {bk.escape(o.ask)})" if o.ask else "")
            for o in outcome.open_questions
        ]
        blocks.append(bk.section("*Open questions*\n" + bk.bullet_list(lines)))
    stage_text = _stage_text(outcome)
    if stage_text:
        blocks.append(bk.section(stage_text))
    if outcome.stage is not None and outcome.advice is not None:
        if outcome.advice.step_ahead:
            title = f"*One step ahead: for {outcome.stage.next}*\n"
            blocks.append(bk.section(title + _cited(outcome.advice.step_ahead)))
        if outcome.advice.not_yet:
            blocks.append(bk.section("*Not yet*\n" + _cited(outcome.advice.not_yet)))
    alignment = _alignment(state)
    if alignment:
        blocks.append(bk.section(alignment))
    if outcome.follow_ups:
        lines = [
            bk.escape(f.question.follow_up or f.question.text)
            + (
                f" _({bk.escape('; '.join(map(seeds.cite_title, f.question.seeds)))})_"
                if f.question.seeds
                else ""
            )
            for f in outcome.follow_ups
        ]
        blocks.append(bk.section("*To do*\n" + bk.bullet_list(lines)))
    blocks.append(
        bk.context(f"{bk.escape(state.playbook.title)} · playbook {bk.escape(state.playbook.name)}")
    )
    text = f"Scale check for {bk.escape(state.team_name)}: " + summary(outcome).replace("*", "")
    return bk.message(text, blocks)


def _started(state: CheckState) -> str:
    return (
        f"*Scale check for {bk.escape(state.team_name)}*, started by {bk.mention(state.started_by)} "
        f"{bk.date(state.started_at)}"
    )


def root_message(state: CheckState, outcome: Outcome | None = None) -> dict[str, Any]:
    """The message in the channel the thread hangs from: what the check is and what it concluded."""
    ref = Ref(c=state.id).dump()
    team = bk.escape(state.team_name)
    blocks: list[bk.Block]
    if state.status == "cancelled":
        who = bk.mention(state.cancelled_by) if state.cancelled_by else "someone"
        when = bk.date(state.cancelled_at) if state.cancelled_at else ""
        blocks = [bk.section(f"{_started(state)}\n:no_entry_sign: Cancelled by {who} {when}.")]
        text = f"Scale check for {team} (cancelled)"
    elif state.status == "done" and outcome is not None:
        finished = f" · finished {bk.date(state.finished_at)}" if state.finished_at else ""
        blocks = [bk.section(f"{_started(state)}{finished}\n{summary(outcome)}")]
        buttons = []
        if state.shared_by is None:
            buttons.append(bk.button("Share to channel", ACTION_SHARE, ref, style="primary"))
        buttons.extend(b for b in (action(state, outcome) for action in VERDICT_ACTIONS) if b)
        if buttons:
            blocks.append(bk.actions(*buttons, block_id="checklist:verdict_actions"))
        if state.shared_by is not None and state.shared_at is not None:
            blocks.append(
                bk.context(
                    f"Shared to the channel by {bk.mention(state.shared_by)} {bk.date(state.shared_at)}"
                )
            )
        text = f"Scale check for {team}: " + summary(outcome).replace("*", "")
    else:
        blocks = [
            bk.section(f"{_started(state)}\nAnswer the questions in this thread; anyone in the channel can."),
            bk.actions(
                bk.button("Resume", ACTION_RESUME, ref, style="primary"),
                bk.button(
                    "Cancel check",
                    ACTION_CANCEL,
                    ref,
                    style="danger",
                    confirm=bk.confirm_dialog(
                        "Cancel this check?",
                        "Answers are kept in the history, but nobody can answer any more.",
                        confirm="Cancel check",
                        deny="Keep it",
                    ),
                ),
                block_id="checklist:root_actions",
            ),
        ]
        text = f"Scale check for {team}, started by {bk.mention(state.started_by)}"
    return bk.message(text, blocks)


def share_message(state: CheckState, outcome: Outcome, user_id: str) -> dict[str, Any]:
    """The summary broadcast from the thread to the channel."""
    lines = [f"*Scale check for {bk.escape(state.team_name)}*: {summary(outcome)}"]
    if outcome.verdict is not None:
        lines.append(outcome.verdict.advice)
    link = bk.link(state.permalink, "Answers and advice in the thread") if state.permalink else ""
    blocks = [bk.section("\n".join(lines)), bk.context(f"Shared by {bk.mention(user_id)}. {link}".strip())]
    text = f"Scale check for {bk.escape(state.team_name)}: " + summary(outcome).replace("*", "")
    return bk.message(text, blocks)
