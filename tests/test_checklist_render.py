"""Rendering as plain data: within Slack's limits for any playbook the loader accepts, escaped, and with
the slot where the pre-mortem adds its button beside "Share to channel"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.checklist import render, render_verdict
from bot.checklist.answers import Answer
from bot.checklist.model import CheckState
from bot.checklist.outcome import Outcome, decide
from bot.checklist.playbook import Playbook
from bot.checklist.render_history import HistoryEntry, history_message
from bot.checklist.render_modal import answer_modal
from localslack.validation import validate_blocks, validate_view
from tests.test_checklist_playbooks import default_playbook

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def finished(playbook: Playbook, values: dict[str, str]) -> tuple[CheckState, Outcome]:
    answers = {q: Answer(q, v, "U0LEAD1", T0) for q, v in values.items()}
    state = CheckState(
        7,
        "Pay & <ments>",
        "C0PAYMENTS",
        playbook,
        playbook.digest,
        "done",
        "U0LEAD1",
        T0,
        answers,
        finished_at=T0,
    )
    return state, decide(playbook, state.values)


def default_answers() -> dict[str, str]:
    values = {q.id: "yes" for q in default_playbook().questions() if q.kind == "yes_no"}
    return values | {"business_goal": "other", "active_users": "100", "peak_rps": "1", "expected_growth": "0"}


@pytest.fixture
def premortem_button() -> Iterator[None]:
    def start_premortem(state: CheckState, outcome: Outcome) -> dict[str, Any]:
        return {
            "type": "button",
            "text": {"type": "plain_text", "text": "Start a pre-mortem"},
            "action_id": "premortem:start",
        }

    # The slot alone: the real pre-mortem button is registered once the app's handlers are imported.
    registered = list(render_verdict.VERDICT_ACTIONS)
    render_verdict.VERDICT_ACTIONS.clear()
    render_verdict.add_verdict_action(start_premortem)
    yield
    render_verdict.VERDICT_ACTIONS[:] = registered


def test_a_finished_checks_root_has_share_and_the_slot_for_other_capabilities(premortem_button: None) -> None:
    state, outcome = finished(default_playbook(), default_answers())
    root = render_verdict.root_message(state, outcome)
    labels = [e["text"]["text"] for b in root["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert labels == ["Share to channel", "Start a pre-mortem"]
    assert "Pay &amp; &lt;ments&gt;" in json.dumps(root["blocks"])
    assert validate_blocks(root["blocks"], "message") == []


def test_every_message_and_modal_of_a_worst_case_check_is_within_limits() -> None:
    playbook = default_playbook()
    values = default_answers() | {"for_business": "&<" * 1000, "for_customer": "<!channel>" * 200}
    state, outcome = finished(playbook, values)
    messages = [*render.thread_messages(state), render_verdict.verdict_message(state, outcome)]
    messages.append(render_verdict.root_message(state, outcome))
    messages.append(render_verdict.share_message(state, outcome, "U0MEMBER1"))
    for message in messages:
        assert validate_blocks(message["blocks"], "message") == [], message["text"]
        assert "<!channel>" not in json.dumps(message)
    open_state = CheckState(
        7, "x" * 80, "C0PAYMENTS", playbook, playbook.digest, "open", "U0LEAD1", T0, state.answers
    )
    for question in playbook.questions():
        if question.kind != "yes_no":
            assert validate_view(answer_modal(open_state, question), ("modal",)) == []
    entries = [
        HistoryEntry(n, "U0LEAD1", T0, "done", "https://x/p1", 17, 19, "relax", 0.1, "1K") for n in range(60)
    ]
    listing = history_message("Payments", entries, total=75)
    assert validate_blocks(listing["blocks"], "message") == []
    assert "the latest 40 of 75" in json.dumps(listing)


def test_a_text_answer_shows_its_first_thousand_characters_as_typed_escaped_after_the_cut() -> None:
    question = default_playbook().question("for_customer")
    assert question is not None and question.kind == "text"
    typed = ("x" * 97 + "&<>") * 11  # 1,100 characters; 1,100 escaped ones in the first thousand
    text = render.question_text(10, question, Answer("for_customer", typed, "U0LEAD1", T0))
    quoted = text.split("\n", 1)[1].rsplit("\n— ", 1)[0]
    assert quoted == ">" + typed[:1000].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "…"
    assert quoted.count("&amp;&lt;&gt;") == 10 and "&<" not in quoted


def test_an_answer_too_long_once_escaped_is_cut_further_never_inside_an_entity() -> None:
    question = default_playbook().question("for_customer")
    assert question is not None
    typed = "&<>" * 600 + "\n" * 200  # escaped and quoted, the first thousand would be 4,400 characters
    text = render.question_text(10, question, Answer("for_customer", typed, "U0LEAD1", T0))
    assert len(text) <= 3000 and "\n— <@U0LEAD1> · <!date^" in text  # who answered is never cut off
    quoted = text.split("\n", 1)[1].rsplit("\n— ", 1)[0]
    assert quoted.startswith(">&amp;&lt;&gt;") and quoted.endswith("…")
    body = quoted[1:-1]
    assert body.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "") == ""  # whole entities only
