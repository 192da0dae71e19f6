"""The modal for number, choice and text answers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot import blocks as bk
from bot import seeds
from bot.checklist.answers import MAX_NUMBER_INPUT, Answer, format_number
from bot.checklist.model import CheckState, Ref
from bot.checklist.playbook import Question
from bot.words import quoted

VIEW_ANSWER = "checklist:answer"
INPUT_BLOCK = "answer"
INPUT_ACTION = "value"


def _element(question: Question, current: Answer | None) -> dict[str, Any]:
    if question.kind == "choice":
        options = [bk.option(c.label, c.id) for c in question.choices]
        element: dict[str, Any] = {
            "type": "static_select",
            "action_id": INPUT_ACTION,
            "placeholder": bk.plain("Choose one"),
            "options": options,
        }
        chosen = next((o for o in options if current and o["value"] == current.value), None)
        if chosen:
            element["initial_option"] = chosen
        return element
    element = {"type": "plain_text_input", "action_id": INPUT_ACTION}
    if question.kind == "number":
        # A text input, not number_input, so "12,000" and "12k" work and a typo gets a sentence.
        element["max_length"] = MAX_NUMBER_INPUT
        element["placeholder"] = bk.plain("e.g. 12000")
        if current:
            element["initial_value"] = format_number(Decimal(current.value))
    else:
        element["multiline"] = True
        element["max_length"] = question.max_length
        if current:
            element["initial_value"] = current.value[: question.max_length]
    return element


def answer_modal(state: CheckState, question: Question) -> dict[str, Any]:
    current = state.answers.get(question.id)
    blocks: list[bk.Block] = [bk.section(f"*{bk.escape(question.text)}*")]
    if question.quote and question.source:
        quote = quoted(question.quote)
        blocks.append(bk.context(f"{bk.escape(quote)} — {bk.escape(seeds.cite_title(question.source))}"))
    if current:
        blocks.append(bk.context(f"Last answered by {bk.mention(current.user_id)} {bk.date(current.at)}"))
    label = "Your answer" + (f" ({question.unit})" if question.unit else "")
    blocks.append(
        bk.input_block(label, _element(question, current), block_id=INPUT_BLOCK, hint=question.hint)
    )
    return bk.modal(
        f"Scale check: {state.team_name}",
        blocks,
        callback_id=VIEW_ANSWER,
        submit="Save answer",
        private_metadata=Ref(c=state.id, q=question.id, v=state.digest).metadata(),
    )
