"""Driving the signal checklist as people do: the command, the buttons in the thread, the Answer modal.

Everything goes over real signed HTTP through `fake.actor()`; reads come from the Slack fake (what
people see) or from the bot's database (what was stored).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from localslack import Actor, FakeSlack, Submission
from tests.harness import BotServer, Seeded

JSON = dict[str, Any]

# Answers to the default playbook's questions that are not surge signals.
NOT_SURGE = {
    "business_goal": "acquire",
    "ops_lead_asked": "yes",
    "active_users": "1,000",
    "peak_rps": "120",
    "expected_growth": "50",
    "load_test": "no",
    "people_spof": "yes",
    "manual_process": "yes",
    "observability": "not_sure",
    "rollback": "yes",
}
SURGE = ["b2c", "product_led", "competitor_influx", "lining_up", "media_coverage", "gone_viral"]
MODAL_QUESTIONS = {
    "business_goal",
    "for_business",
    "for_customer",
    "active_users",
    "peak_rps",
    "expected_growth",
}


# Tests that are not about pacing coalesce redraws over a shorter gap than production, to run faster
# (the chat.update budget still holds: `bot.redraw` keeps it); tests/test_checklist_pacing.py uses the
# real gap.
QUICK_INTERVAL = 0.05


def pace_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.checklist.service.UPDATE_INTERVAL", QUICK_INTERVAL)


def block_ids(message: JSON) -> set[str]:
    return {str(b.get("block_id")) for b in message.get("blocks") or []}


def all_text(message: JSON) -> str:
    """Every piece of text a message shows (block texts, fields, context elements, button labels)."""
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + "\n" + str(message.get("text"))


@dataclass
class Driver:
    fake: FakeSlack
    seeded: Seeded
    bot: BotServer
    actor: Actor
    channel: str = ""
    root_ts: str = ""
    seen_ephemerals: dict[str, int] = field(default_factory=dict)
    modal_questions: set[str] = field(default_factory=lambda: set(MODAL_QUESTIONS))

    def __post_init__(self) -> None:
        self.channel = self.channel or self.seeded.channel

    # --- starting ---------------------------------------------------------------------------------

    def start(self, user: str | None = None, text: str = "", parts: int = 4) -> str:
        """Run `/scale-check` and wait for the root message and its thread; returns the root's ts."""
        before = {m["ts"] for m in self.fake.messages(self.channel)}
        response = self.actor.slash_command(self.seeded.team_id, user or self.seeded.lead, self.channel, text)
        assert response.status_code == 200, response.text

        def posted() -> str | None:
            for message in self.fake.messages(self.channel):
                new = message["ts"] not in before and message["text"].startswith("Scale check for")
                if new and len(self.fake.messages(self.channel, message["ts"])) >= parts + 1:
                    return str(message["ts"])
            return None

        self.root_ts = self.fake.wait_for(posted, message="the check and its thread")
        return self.root_ts

    # --- reading ----------------------------------------------------------------------------------

    def root(self) -> JSON:
        message = self.fake.message(self.channel, self.root_ts)
        assert message is not None
        return message

    def thread(self) -> list[JSON]:
        """The checklist and verdict messages (the root excluded)."""
        return self.fake.messages(self.channel, self.root_ts)[1:]

    def message_of(self, question_id: str) -> JSON:
        for message in self.thread():
            if f"q:{question_id}" in block_ids(message):
                return message
        raise AssertionError(f"no message in the thread shows question {question_id}")

    def question_text(self, question_id: str) -> str:
        for block in self.message_of(question_id)["blocks"]:
            if block.get("block_id") == f"q:{question_id}":
                return str(block["text"]["text"])
        raise AssertionError(question_id)

    def wait_shown(self, question_id: str, needle: str, timeout: float = 5.0) -> str:
        return self.fake.wait_for(
            lambda: needle in (t := self.question_text(question_id)) and t,
            timeout=timeout,
            message=f"{needle!r} under question {question_id}",
        )

    def new_ephemeral(self, user: str, timeout: float = 5.0) -> JSON:
        """The next ephemeral message shown to `user` since the last call."""
        seen = self.seen_ephemerals.get(user, 0)
        found = self.fake.wait_for(
            lambda: (e := self.fake.ephemerals(user)) and len(e) > seen and e,
            timeout=timeout,
            message="an ephemeral",
        )
        self.seen_ephemerals[user] = len(found)
        return found[seen]

    def mark_ephemerals_seen(self, user: str) -> None:
        self.seen_ephemerals[user] = len(self.fake.ephemerals(user))

    # --- acting -----------------------------------------------------------------------------------

    def click(self, user: str, question_id: str, value: str) -> None:
        message = self.message_of(question_id)
        response = self.actor.click(
            self.seeded.team_id,
            user,
            self.channel,
            message["ts"],
            f"checklist:set:{value}",
            block_id=f"a:{question_id}",
        )
        assert response.status_code == 200, response.text

    def click_root(self, user: str, action_id: str) -> None:
        response = self.actor.click(self.seeded.team_id, user, self.channel, self.root_ts, action_id)
        assert response.status_code == 200, response.text

    def open_modal(self, user: str, question_id: str) -> str:
        message = self.message_of(question_id)
        before = {v["id"] for v in self.fake.views_for(user)}
        response = self.actor.click(
            self.seeded.team_id,
            user,
            self.channel,
            message["ts"],
            "checklist:open",
            block_id=f"q:{question_id}",
        )
        assert response.status_code == 200, response.text
        views = self.fake.wait_for(
            lambda: [v for v in self.fake.views_for(user) if v["id"] not in before],
            message="the answer modal",
        )
        return str(views[-1]["id"])

    def submit(self, user: str, view_id: str, raw: str) -> Submission:
        return self.actor.submit_view(self.seeded.team_id, user, view_id, {"answer": {"value": raw}})

    def answer(self, user: str, question_id: str, raw: str) -> None:
        """Answer one question the way its kind asks: a button, or the modal."""
        if question_id in self.modal_questions or raw not in ("yes", "no", "not_sure"):
            submission = self.submit(user, self.open_modal(user, question_id), raw)
            assert submission.response_action == "close", submission.errors
        else:
            self.click(user, question_id, raw)

    def answer_all(self, surge: list[str], giant: str, user: str | None = None, **overrides: str) -> None:
        who = user or self.seeded.lead
        for question_id, value in zip(SURGE, surge, strict=True):
            self.answer(who, question_id, value)
        self.answer(who, "giant", giant)
        for question_id, value in {**NOT_SURGE, **overrides}.items():
            self.answer(who, question_id, value)

    def verdict(self, timeout: float = 5.0) -> JSON:
        def posted() -> JSON | None:
            for message in self.thread():
                first = message["blocks"][0] if message.get("blocks") else {}
                title = str((first.get("text") or {}).get("text", ""))
                if first.get("type") == "header" and title.startswith(("Verdict", "Scale check finished")):
                    return message
            return None

        return self.fake.wait_for(posted, timeout=timeout, message="the verdict in the thread")

    def history(self, user: str) -> JSON:
        self.mark_ephemerals_seen(user)
        response = self.actor.slash_command(self.seeded.team_id, user, self.channel, "history")
        assert response.status_code == 200
        return self.new_ephemeral(user)
