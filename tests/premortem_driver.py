"""Driving a pre-mortem as people do: the command, the thread's buttons, the modals, the DMs.

Everything goes over real signed HTTP through `fake.actor()`; reads come from the Slack fake (what
people see) or from the bot's database (what was stored).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from bot.premortem.render import ACTION_ANSWER
from bot.premortem.render_modals import ACTION_COMPONENT
from localslack import Actor, FakeSlack, Submission
from tests.harness import BotServer, Seeded

JSON = dict[str, Any]

# Tests that are not about pacing draw the thread every 0.2 s instead of every second, to run faster;
# tests/test_premortem_pacing.py measures the real interval.
QUICK_INTERVAL = 0.2


def pace_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.premortem.service.UPDATE_INTERVAL", QUICK_INTERVAL)


def all_text(message: JSON | None) -> str:
    """Everything a message shows (block texts, fields, context, button labels) and its fallback text."""
    if message is None:
        return ""
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + "\n" + str(message.get("text"))


def mention(user: str) -> str:
    return f"<@{user}>"


@dataclass
class Driver:
    fake: FakeSlack
    seeded: Seeded
    bot: BotServer
    actor: Actor
    channel: str = ""
    root_ts: str = ""

    def __post_init__(self) -> None:
        self.channel = self.channel or self.seeded.channel

    @property
    def team(self) -> str:
        return self.seeded.team_id

    # --- starting ---------------------------------------------------------------------------------

    def start(self, user: str, *leads: str) -> str:
        text = " ".join(["premortem", *(f"<@{u}>" for u in leads)])
        before = len(self.roots())
        response = self.actor.slash_command(self.team, user, self.channel, text)
        assert response.status_code == 200, response.text
        self.fake.wait_for(lambda: len(self.roots()) > before, message="the pre-mortem's root message")
        self.root_ts = self.roots()[-1]["ts"]
        self.fake.wait_for(lambda: len(self.thread()) >= 1, message="the prompt in the thread")
        return self.root_ts

    def roots(self) -> list[JSON]:
        return [m for m in self.fake.messages(self.channel) if "Pre-mortem" in str(m.get("text"))]

    def root(self) -> JSON:
        found = self.fake.message(self.channel, self.root_ts)
        assert found is not None
        return found

    def thread(self) -> list[JSON]:
        """The replies in the pre-mortem's thread (without the root)."""
        return self.fake.messages(self.channel, self.root_ts)[1:]

    def prompt(self) -> JSON:
        return self.thread()[0]

    def find(self, needle: str) -> JSON:
        """The thread message showing `needle` (waits for it)."""

        def look() -> JSON | None:
            return next((m for m in self.thread() if needle in all_text(m)), None)

        return self.fake.wait_for(look, message=f"a thread message showing {needle!r}")

    def find_top(self) -> JSON:
        """The message of the top risks and their mitigations, however many there are (waits for it)."""
        heading = re.compile(
            r"Top (two|three|\w+) risks and their mitigations|The top risk and its mitigation"
        )

        def look() -> JSON | None:
            return next((m for m in self.thread() if heading.search(all_text(m))), None)

        return self.fake.wait_for(look, message="the top risks' message")

    def everything_visible(self) -> str:
        """Every message in the channel and the thread, as text."""
        return "\n".join(all_text(m) for m in [*self.fake.messages(self.channel), *self.thread()])

    # --- acting -----------------------------------------------------------------------------------

    def click(
        self, user: str, message: JSON, action_id: str, value: str | None = None, block_id: str | None = None
    ) -> None:
        response = self.actor.click(self.team, user, self.channel, message["ts"], action_id, value, block_id)
        assert response.status_code == 200, response.text

    def open_modal(self, user: str, click: Any) -> str:
        before = {v["id"] for v in self.fake.views_for(user)}
        click()
        views = self.fake.wait_for(
            lambda: [v for v in self.fake.views_for(user) if v["id"] not in before], message="the modal"
        )
        return str(views[-1]["id"])

    def open_answer(self, user: str) -> str:
        return self.open_modal(user, lambda: self.click(user, self.prompt(), ACTION_ANSWER))

    def suggest(self, user: str, view_id: str, rank: int, typed: str) -> list[JSON]:
        return self.actor.suggest(self.team, user, view_id, ACTION_COMPONENT, f"risk{rank}_component", typed)

    def answer(self, user: str, risks: list[JSON], view_id: str | None = None) -> Submission:
        """Submit risks: each {"other": name} or {"pick": option}, with "why", "kind", "evidence"."""
        view_id = view_id or self.open_answer(user)
        values: dict[str, dict[str, Any]] = {}
        for n, r in enumerate(risks, start=1):
            if "pick" in r:
                values[f"risk{n}_component"] = {ACTION_COMPONENT: r["pick"]}
            if "other" in r:
                values[f"risk{n}_other"] = {"value": r["other"]}
            values[f"risk{n}_why"] = {"value": r.get("why", f"it breaks at 10x ({n})")}
            if r.get("kind"):
                values[f"risk{n}_kind"] = {"value": r["kind"]}
            if r.get("evidence"):
                values[f"risk{n}_evidence"] = {"value": r["evidence"]}
        return self.actor.submit_view(self.team, user, view_id, values)

    def dms(self, user: str) -> list[JSON]:
        """The bot's messages in its DM with `user`, oldest first."""
        channel = self.dm_channel(user)
        return self.fake.messages(channel) if channel else []

    def dm_channel(self, user: str) -> str | None:
        with self.fake.store.lock:
            return next(
                (c.id for c in self.fake.store.channels.values() if c.is_im and c.im_user == user), None
            )

    def ephemeral_texts(self, user: str) -> list[str]:
        return [str(e.get("text")) for e in self.fake.ephemerals(user)]

    def wait_ephemeral(self, user: str, needle: str) -> str:
        return self.fake.wait_for(
            lambda: next((t for t in self.ephemeral_texts(user) if needle in t), None),
            message=f"an ephemeral to {user} saying {needle!r}",
        )
