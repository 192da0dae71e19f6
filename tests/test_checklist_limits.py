"""Every message and view the checklist sends passes the Slack fake's checks at the edges: 2,000-character
answers made of `&` and `<`, a 60-question playbook, and a person named with every character Slack allows."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import AppConfig, TeamConfig
from localslack import FakeSlack
from tests.checklist_driver import Driver, all_text, pace_quickly
from tests.harness import Seeded


@pytest.fixture(autouse=True)
def _quick_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    pace_quickly(monkeypatch)


WORST_TEXT = "&<" * 1000  # 2,000 characters that grow to 9,000 when escaped


def assert_slack_took_everything(fake: FakeSlack) -> None:
    """No Web API call and no response_url post was refused (invalid blocks, too long, no text…)."""
    refused = [f"{c.method}: {c.error}" for c in fake.calls() if not c.ok]
    refused += [f"response_url: {p.error}" for p in fake.response_url_posts() if not p.ok]
    assert not refused, refused


def test_two_thousand_ampersands_and_angle_brackets_are_escaped_and_cut_safely(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    driver = Driver(fake, seeded, make_bot(), fake.actor())
    driver.start()
    for question_id in ("for_business", "for_customer"):
        driver.answer(seeded.lead, question_id, WORST_TEXT)
    shown = driver.wait_shown("for_business", "&amp;&lt;&amp;&lt;")
    assert "&<" not in shown and "<&" not in shown
    assert "…\n— <@U0LEAD1>" in shown and len(shown) < 3000
    form = fake.view(driver.open_modal(seeded.member, "for_customer"))
    assert form is not None and form["blocks"][-1]["element"]["initial_value"] == WORST_TEXT
    driver.answer_all(["yes"] * 6, "no")
    verdict = all_text(driver.verdict())
    assert "What does it do for the business? &amp;&lt;" in verdict and "&<" not in verdict
    assert_slack_took_everything(fake)


def sixty_questions() -> dict[str, Any]:
    kinds = ["yes_no", "yes_no", "number", "choice", "text"]
    questions: list[dict[str, Any]] = [
        {"id": f"s{i}", "text": f"Surge signal {i}?", "role": "surge_signal", "weight": i}
        for i in range(1, 7)
    ]
    questions.append({"id": "g", "text": "Could a giant erase us?", "role": "giant"})
    generated: list[dict[str, Any]] = []
    for i in range(53):
        kind = kinds[i % len(kinds)]
        question: dict[str, Any] = {
            "id": f"q{i:02d}",
            "text": f"Generated question {i} <&> " + "x" * 200,
            "kind": kind,
        }
        if kind == "number":
            question.update(min=0, unit="ms")
        if kind == "choice":  # the first one at Slack's limit of 100 options
            question["choices"] = [
                {"id": f"c{j}", "label": f"Choice {j} & <more>"} for j in range(100 if i == 3 else 3)
            ]
        if kind == "text":
            question["required"] = False
        generated.append(question)
    return {
        "name": "generated",
        "parts": [
            {"id": "surge", "title": "Surge signals", "kind": "surge", "questions": questions},
            {"id": "everything", "title": "Everything else", "questions": generated},
        ],
    }


def test_a_sixty_question_playbook_is_split_into_messages_of_at_most_fifty_blocks(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, tmp_path: Path
) -> None:
    playbook = sixty_questions()
    path = tmp_path / "generated.yaml"
    path.write_text(yaml.safe_dump(playbook, sort_keys=False), encoding="utf-8")
    config = AppConfig(teams=[TeamConfig(name="Payments", channel=seeded.channel, playbook=str(path))])
    driver = Driver(fake, seeded, make_bot(config=config), fake.actor())
    generated = playbook["parts"][1]["questions"]
    driver.modal_questions = {q["id"] for q in generated if q["kind"] != "yes_no"}
    driver.start(parts=3)
    thread = driver.thread()
    # 22 yes/no questions (a section and a row of buttons each) and 31 others: 75 blocks, two messages.
    assert [m["blocks"][0]["text"]["text"] for m in thread] == [
        "Surge signals",
        "Everything else",
        "Everything else (continued)",
    ]
    assert all(len(m["blocks"]) <= 50 for m in thread)
    for i in range(1, 7):
        driver.answer(seeded.member, f"s{i}", "yes" if i <= 3 else "no")
    driver.answer(seeded.member, "g", "yes")
    for question in generated:
        last_choice = question["choices"][-1]["id"] if question["kind"] == "choice" else ""
        value = {"yes_no": "yes", "number": "250", "choice": last_choice, "text": "<!channel> & friends"}[
            question["kind"]
        ]
        driver.answer(seeded.lead, question["id"], value)
    # Some 70 answers have used the workspace's chat.update budget (a burst of 20, then 50 a minute), so
    # the last redraw, which brings the verdict, waits its turn: about 3.3 s on an idle machine.
    verdict = driver.verdict(timeout=20)
    assert verdict["blocks"][0]["text"]["text"] == "Verdict: Watch"
    assert "Score *29%*" in all_text(verdict)  # weights 1+2+3 of 21
    fake.wait_for(lambda: "Choice 99 &amp; &lt;more&gt;" in all_text(driver.message_of("q03")))
    assert "&lt;!channel&gt; &amp; friends" in all_text(driver.message_of("q04"))
    assert all(len(m["blocks"]) <= 50 for m in driver.thread())
    assert_slack_took_everything(fake)


# Slack's usernames allow lowercase letters, digits, periods, hyphens and underscores; display and real
# names allow any character, emoji included (up to 80).
EVERY_CHARACTER = (string.punctuation + " ÄéØß漢字🚀👩‍💻\u200b" + "<!channel>")[:80]


def test_a_person_named_with_every_character_slack_allows_runs_a_whole_check(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    odd = "U0ODDNAME1"
    fake.add_user(
        seeded.team_id,
        odd,
        "a.z-0_9" + string.ascii_lowercase,
        real_name=EVERY_CHARACTER,
        display_name=EVERY_CHARACTER,
    )
    fake.join(seeded.channel, odd)
    driver = Driver(fake, seeded, make_bot(), fake.actor())
    driver.start(odd)
    assert driver.root()["text"] == f"Scale check for payments, started by <@{odd}>"
    driver.answer(odd, "for_business", EVERY_CHARACTER)
    driver.answer_all(["yes"] * 6, "not_sure", user=odd)
    verdict = driver.verdict()
    assert "Prepare for a surge now" in verdict["blocks"][0]["text"]["text"]
    assert "(ask the operations lead)" in all_text(verdict)  # the giant is listed as open
    driver.history(odd)
    sent = json.dumps([c.args for c in fake.calls() if c.method.startswith("chat.")], ensure_ascii=False)
    assert "<!channel>" not in sent  # their name never pings the channel
    assert_slack_took_everything(fake)
