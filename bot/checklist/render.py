"""The checklist in its thread: one message per part (split when a part would pass 50 blocks), one
question per section with Yes / No / Not sure buttons or an Answer button, and who answered when."""

from __future__ import annotations

from typing import Any

from bot import blocks as bk
from bot import seeds
from bot.checklist.answers import YES_NO_LABELS, Answer, display
from bot.checklist.model import CheckState, Ref
from bot.checklist.playbook import Part, Question
from bot.checklist.verdict import YES_NO_VALUES

ACTION_SET = "checklist:set"  # + ":yes" / ":no" / ":not_sure" (action_ids are unique within a block)
ACTION_OPEN = "checklist:open"
ANSWER_PREVIEW = 1000  # characters of an answer shown in the thread, counted as typed (before escaping)
ELLIPSIS = "…"
# Blocks a message may hold for questions: 50 minus its header, progress context and status line.
QUESTION_BLOCKS_PER_MESSAGE = bk.MAX_MESSAGE_BLOCKS - 3


def _mrkdwn(text: str, quoted: bool) -> str:
    escaped = bk.escape(text)
    return ">" + escaped.replace("\n", "\n>") if quoted else escaped


def _cost(char: str, quoted: bool) -> int:
    """How many characters one typed character takes once escaped (and quoted)."""
    if char == "&":
        return len("&amp;")
    if char in "<>":
        return len("&lt;")
    return 2 if quoted and char == "\n" else 1


def preview(text: str, budget: int, *, quoted: bool = False, limit: int = ANSWER_PREVIEW) -> str:
    """The first `limit` characters of `text` as typed, escaped for mrkdwn (`quoted`: as a block quote),
    with "…" when cut; fewer characters when their escaped form would pass `budget`. The cut is made
    before escaping, so it never splits an entity such as `&amp;`."""
    shown = _mrkdwn(text[:limit], quoted)
    if len(text) <= limit and len(shown) <= budget:
        return shown
    room = budget - len(ELLIPSIS) - (1 if quoted else 0)
    kept = 0
    for char in text[:limit]:
        room -= _cost(char, quoted)
        if room < 0:
            break
        kept += 1
    return _mrkdwn(text[:kept], quoted) + ELLIPSIS


def answered_line(question: Question, answer: Answer | None, budget: int = bk.MAX_SECTION_TEXT) -> str:
    """The answer (at most `budget` characters) with who gave it and when."""
    if answer is None:
        return "_Not answered yet_" if question.required else "_Not answered yet (optional)_"
    value = display(question, answer.value)
    who = f"{bk.mention(answer.user_id)} · {bk.date(answer.at)}"
    if question.kind == "text":
        tail = f"\n— {who}"
        return preview(value, budget - len(tail), quoted=True) + tail
    tail = f"* · {who}"
    return f"*{preview(value, budget - len(tail) - 1)}{tail}"


def question_text(number: int, question: Question, answer: Answer | None) -> str:
    optional = " _(optional)_" if not question.required else ""
    head = f"*{number}. {bk.escape(question.text)}*{optional}\n"
    return head + answered_line(question, answer, bk.MAX_SECTION_TEXT - len(head))


def question_blocks(state: CheckState, number: int, question: Question) -> list[bk.Block]:
    answer = state.answers.get(question.id)
    text = question_text(number, question, answer)
    block_id = f"q:{question.id}"
    if state.status != "open":
        return [bk.section(text, block_id=block_id)]
    if question.kind == "yes_no":
        buttons = [
            bk.button(
                YES_NO_LABELS[value],
                f"{ACTION_SET}:{value}",
                Ref(c=state.id, q=question.id, a=value, v=state.digest).dump(),
                style="primary" if answer is not None and answer.value == value else None,
            )
            for value in YES_NO_VALUES
        ]
        return [bk.section(text, block_id=block_id), bk.actions(*buttons, block_id=f"a:{question.id}")]
    label = "Change" if answer is not None else "Answer"
    button = bk.button(label, ACTION_OPEN, Ref(c=state.id, q=question.id, v=state.digest).dump())
    return [bk.section(text, block_id=block_id, accessory=button)]


def status_line(state: CheckState) -> str | None:
    if state.status == "done" and state.finished_at is not None:
        return f":white_check_mark: Finished {bk.date(state.finished_at)}; the verdict is at the end of this thread."
    if state.status == "cancelled" and state.cancelled_at is not None:
        who = bk.mention(state.cancelled_by) if state.cancelled_by else "someone"
        return f":no_entry_sign: Cancelled by {who} {bk.date(state.cancelled_at)}; answers are closed."
    return None


def _progress(state: CheckState, part: Part) -> str:
    answered = sum(1 for q in part.questions if q.id in state.answers)
    return f"{answered} of {len(part.questions)} answered"


def part_messages(state: CheckState, part: Part, first_number: int) -> list[dict[str, Any]]:
    """A part's messages: its questions packed into as few messages as fit within 50 blocks."""
    units = [question_blocks(state, first_number + i, q) for i, q in enumerate(part.questions)]
    chunks: list[list[bk.Block]] = [[]]
    for unit in units:
        if len(chunks[-1]) + len(unit) > QUESTION_BLOCKS_PER_MESSAGE:
            chunks.append([])
        chunks[-1].extend(unit)
    team = bk.escape(state.team_name)
    status = status_line(state)
    intro = bk.escape(part.intro) if part.intro else None
    if intro and part.seed_title:
        intro += f" ({bk.escape(seeds.cite_title(part.seed_title))})"
    messages = []
    for index, chunk in enumerate(chunks):
        title = part.title if index == 0 else f"{part.title} (continued)"
        about = [t for t in (intro if index == 0 else None, _progress(state, part)) if t]
        blocks = [bk.header(title), bk.context(*about), *chunk]
        if status:
            blocks.append(bk.context(status))
        text = f"Scale check for {team}: {bk.escape(part.title)}, {_progress(state, part)}"
        messages.append(bk.message(text, blocks))
    return messages


def thread_messages(state: CheckState) -> list[dict[str, Any]]:
    """Every message of the checklist's thread, in order (each within Slack's limits)."""
    messages: list[dict[str, Any]] = []
    number = 1
    for part in state.playbook.parts:
        messages.extend(part_messages(state, part, number))
        number += len(part.questions)
    return messages
