"""localslack's actor, driving a real slack_bolt AsyncApp over signed HTTP, as Slack would."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from localslack import Actor, ActorError, BackgroundServer, FakeSlack, signed_headers

TEAM = "T0001"
SECRET = "test-signing-secret"
COMPONENTS = ["database", "cache", "queue", "load balancer", "data warehouse"]


def text(value: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": value}


def signal_blocks() -> list[dict[str, Any]]:
    return [
        {"type": "section", "block_id": "q_b2c", "text": {"type": "mrkdwn", "text": "*Is the product B2C?*"}},
        {
            "type": "actions",
            "block_id": "a_b2c",
            "elements": [
                {"type": "button", "action_id": "answer", "text": text("Yes"), "value": "yes"},
                {"type": "button", "action_id": "answer_no", "text": text("No"), "value": "no"},
            ],
        },
        {
            "type": "section",
            "block_id": "stage",
            "text": {"type": "mrkdwn", "text": "Growth stage"},
            "accessory": {
                "type": "static_select",
                "action_id": "stage",
                "placeholder": text("Pick"),
                "options": [{"text": text(s), "value": s} for s in ("1K", "10K", "100K")],
            },
        },
    ]


def risk_modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "risk",
        "title": text("Pre-mortem"),
        "submit": text("Save"),
        "private_metadata": '{"premortem": 7}',
        "blocks": [
            {
                "type": "input",
                "block_id": "component",
                "label": text("Component"),
                "element": {"type": "external_select", "action_id": "component", "min_query_length": 2},
            },
            {
                "type": "input",
                "block_id": "why",
                "label": text("Why it breaks"),
                "element": {"type": "plain_text_input", "action_id": "why", "multiline": True},
            },
            {
                "type": "input",
                "block_id": "due",
                "optional": True,
                "label": text("Due"),
                "element": {"type": "datepicker", "action_id": "due"},
            },
            {
                "type": "actions",
                "elements": [{"type": "button", "action_id": "add_risk", "text": text("Add")}],
            },
        ],
    }


def form_modal() -> dict[str, Any]:
    """One input of each kind whose state shape differs."""

    def field(block_id: str, element: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "input",
            "block_id": block_id,
            "optional": True,
            "label": text(block_id),
            "element": {"action_id": block_id, **element},
        }

    options = [{"text": text(v), "value": v} for v in ("low", "high")]
    return {
        "type": "modal",
        "callback_id": "form",
        "title": text("Setup"),
        "submit": text("Save"),
        "blocks": [
            field("team", {"type": "plain_text_input", "initial_value": "payments"}),
            field("capacity", {"type": "number_input", "is_decimal_allowed": False, "min_value": "1"}),
            field("lead", {"type": "users_select"}),
            field("managers", {"type": "multi_users_select"}),
            field("risk", {"type": "static_select", "options": options}),
            field("flags", {"type": "checkboxes", "options": options}),
            field("day", {"type": "datepicker"}),
            field("at", {"type": "timepicker"}),
        ],
    }


def small_modal(title: str) -> dict[str, Any]:
    return {"type": "modal", "title": text(title), "blocks": [{"type": "section", "text": text(title)}]}


def build_bot(api_url: str, token: str, seen: list[tuple[str, Any]]) -> FastAPI:
    bolt = AsyncApp(client=AsyncWebClient(base_url=api_url, token=token), signing_secret=SECRET)

    @bolt.command("/scale-check")
    async def scale_check(ack: Any, command: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        if command["text"] == "quick":
            await ack("Checking your signals…")
            return
        await ack()
        seen.append(("command", command))
        if command["text"] == "signals":
            await client.chat_postMessage(
                channel=command["channel_id"], text="Signal checklist", blocks=signal_blocks()
            )
        elif command["text"] == "premortem":
            await client.views_open(trigger_id=command["trigger_id"], view=risk_modal())
        elif command["text"] == "setup":
            await client.views_open(trigger_id=command["trigger_id"], view=form_modal())
        else:
            await respond(text=f"I don't know {command['text']!r}. Try `/scale-check signals`.")

    @bolt.action("answer")
    async def answer(ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        seen.append(("answer", body))
        await client.chat_update(
            channel=body["container"]["channel_id"],
            ts=body["container"]["message_ts"],
            text=f"Answered {action['value']} by <@{body['user']['id']}>",
        )

    @bolt.action("stage")
    async def stage(ack: Any, action: dict[str, Any]) -> None:
        await ack()
        seen.append(("stage", action["selected_option"]["value"]))

    @bolt.action("add_risk")
    async def add_risk(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_push(trigger_id=body["trigger_id"], view=small_modal("Another risk"))

    @bolt.options("component")
    async def components(ack: Any, payload: dict[str, Any]) -> None:
        matching = [c for c in COMPONENTS if payload["value"] in c]
        await ack(options=[{"text": text(c), "value": c} for c in matching])

    @bolt.view("risk")
    async def risk(ack: Any, view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        why = values["why"]["why"]["value"]
        if len(why) < 10:
            await ack(response_action="errors", errors={"why": "Say why it breaks in a sentence."})
        elif why.startswith("update"):
            await ack(response_action="update", view=small_modal("Thanks"))
        elif why.startswith("push"):
            await ack(response_action="push", view=small_modal("Next"))
        elif why.startswith("clear"):
            await ack(response_action="clear")
        elif why.startswith("bad errors"):
            await ack(response_action="errors", errors={"not_an_input": "x"})
        else:
            await ack()
            seen.append(("risk", values))

    @bolt.view("form")
    async def form(ack: Any, view: dict[str, Any]) -> None:
        await ack()
        seen.append(("form", view["state"]["values"]))

    @bolt.event("app_mention")
    async def mention(event: dict[str, Any], body: dict[str, Any], request: Any) -> None:
        seen.append(("mention", (body["event_id"], (request.headers.get("x-slack-retry-num") or [None])[0])))

    @bolt.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"Hi <@{event['user']}>"}}]
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": blocks})

    handler = AsyncSlackRequestHandler(bolt)
    api = FastAPI()

    @api.post("/slack/events")
    async def events(request: Request) -> Response:
        return await handler.handle(request)

    return api


class Bot:
    """The fake Slack, a bolt app served next to it, and what the app saw."""

    def __init__(self, fake: FakeSlack, actor: Actor, seen: list[tuple[str, Any]]) -> None:
        self.fake, self.actor, self.seen = fake, actor, seen

    def saw(self, kind: str) -> list[Any]:
        return [payload for k, payload in self.seen if k == kind]


@pytest.fixture(scope="module")
def bot_module() -> Iterator[Bot]:
    with FakeSlack() as fake:
        ws = fake.add_workspace(TEAM, "Acme", "acme")
        fake.add_user(TEAM, "U1", "alice", is_admin=True)
        fake.add_user(TEAM, "U2", "bob")
        seen: list[tuple[str, Any]] = []
        with BackgroundServer() as server:
            server.start(build_bot(fake.api_url, ws.bot_token, seen))
            fake.configure_app(request_url=f"{server.url}/slack/events", signing_secret=SECRET)
            yield Bot(fake, fake.actor(), seen)


_channels = itertools.count(1)


@pytest.fixture
def bot(bot_module: Bot) -> Bot:
    bot_module.seen.clear()
    bot_module.fake.clear_faults()
    return bot_module


@pytest.fixture
def channel(bot_module: Bot) -> str:
    channel_id = f"C{next(_channels):04d}"
    bot_module.fake.add_channel(TEAM, channel_id, f"team-{channel_id.lower()}", members=["U1", "U2"])
    return channel_id


def test_a_slash_command_arrives_with_slacks_form_fields(bot: Bot, channel: str) -> None:
    response = bot.actor.slash_command(TEAM, "U1", channel, "signals")

    assert response.status_code == 200
    assert set(bot.actor.last_payload) == {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    }
    command = bot.fake.wait_for(lambda: bot.saw("command"))[0]
    assert (command["user_name"], command["team_domain"], command["channel_name"]) == (
        "alice",
        "acme",
        f"team-{channel.lower()}",
    )
    assert command["response_url"].startswith(bot.fake.url + "/hooks/response/")
    posted = bot.fake.wait_for(lambda: bot.fake.messages(channel))
    assert posted[0]["text"] == "Signal checklist"


def test_an_immediate_command_answer_shows_to_the_user_only(bot: Bot, channel: str) -> None:
    bot.actor.slash_command(TEAM, "U1", channel, "quick")
    assert [e["text"] for e in bot.fake.ephemerals("U1", channel)] == ["Checking your signals…"]
    assert bot.fake.ephemerals("U2", channel) == []


def test_respond_goes_through_the_response_url(bot: Bot, channel: str) -> None:
    bot.actor.slash_command(TEAM, "U2", channel, "frobnicate")
    shown = bot.fake.wait_for(lambda: bot.fake.ephemerals("U2", channel))
    assert "Try `/scale-check signals`" in shown[0]["text"] and shown[0]["source"] == "response_url"
    assert bot.fake.response_url_posts()[-1].ok


def test_clicking_a_rendered_button_reaches_the_app(bot: Bot, channel: str) -> None:
    bot.actor.slash_command(TEAM, "U1", channel, "signals")
    message = bot.fake.wait_for(lambda: bot.fake.messages(channel))[0]

    assert bot.actor.click(TEAM, "U2", channel, message["ts"], "answer", value="yes").status_code == 200

    body = bot.fake.wait_for(lambda: bot.saw("answer"))[0]
    assert body["type"] == "block_actions" and body["container"]["message_ts"] == message["ts"]
    assert body["message"]["text"] == "Signal checklist" and body["channel"]["id"] == channel
    assert body["response_url"] and body["trigger_id"] and body["user"]["id"] == "U2"
    assert {k: body["actions"][0][k] for k in ("action_id", "block_id", "type", "value")} == {
        "action_id": "answer",
        "block_id": "a_b2c",
        "type": "button",
        "value": "yes",
    }
    edited = bot.fake.wait_for(
        lambda: (m := bot.fake.message(channel, message["ts"])) and "edited" in m and m
    )
    assert edited["text"] == "Answered yes by <@U2>"


def test_a_test_cannot_click_what_the_app_never_rendered(bot: Bot, channel: str) -> None:
    bot.actor.slash_command(TEAM, "U1", channel, "signals")
    ts = bot.fake.wait_for(lambda: bot.fake.messages(channel))[0]["ts"]
    with pytest.raises(ActorError, match="renders action_ids"):
        bot.actor.click(TEAM, "U1", channel, ts, "approve_everything")
    with pytest.raises(ActorError, match="value='maybe'"):
        bot.actor.click(TEAM, "U1", channel, ts, "answer", value="maybe")
    with pytest.raises(ActorError, match="has no option"):
        bot.actor.select(TEAM, "U1", channel, ts, "stage", "1M")
    bot.fake.leave(channel, "U2")
    with pytest.raises(ActorError, match="not a member"):
        bot.actor.click(TEAM, "U2", channel, ts, "answer")


def test_selecting_an_option_sends_the_option_rendered(bot: Bot, channel: str) -> None:
    bot.actor.slash_command(TEAM, "U1", channel, "signals")
    ts = bot.fake.wait_for(lambda: bot.fake.messages(channel))[0]["ts"]
    bot.actor.select(TEAM, "U1", channel, ts, "stage", "10K")
    assert bot.fake.wait_for(lambda: bot.saw("stage")) == ["10K"]
    assert bot.actor.last_payload["state"]["values"]["stage"]["stage"]["selected_option"]["value"] == "10K"


def open_new_view(bot: Bot, channel: str, command: str, user: str = "U1") -> str:
    """Run `command` and return the id of the modal it opens (not one an earlier test left open)."""
    before = {v["id"] for v in bot.fake.views_for(user)}
    bot.actor.slash_command(TEAM, user, channel, command)
    top = bot.fake.wait_for(lambda: (v := bot.fake.views_for(user)) and v[-1]["id"] not in before and v[-1])
    return str(top["id"])


def open_premortem(bot: Bot, channel: str, user: str = "U1") -> str:
    return open_new_view(bot, channel, "premortem", user)


def test_a_modal_is_filled_refused_and_then_submitted(bot: Bot, channel: str) -> None:
    view_id = open_premortem(bot, channel)

    assert [o["value"] for o in bot.actor.suggest(TEAM, "U1", view_id, "component", "component", "da")] == [
        "database",
        "data warehouse",
    ]
    with pytest.raises(ActorError, match="required input 'component' is empty"):
        bot.actor.submit_view(TEAM, "U1", view_id, {"why": {"why": "it is old"}})
    refused = bot.actor.submit_view(
        TEAM, "U1", view_id, {"component": {"component": "database"}, "why": {"why": "old"}}
    )
    assert refused.response_action == "errors" and bot.fake.view_errors(view_id) == {
        "why": "Say why it breaks in a sentence."
    }
    assert bot.fake.is_open(view_id)

    done = bot.actor.submit_view(
        TEAM, "U1", view_id, {"why": {"why": "connections run out at 3x"}, "due": {"due": "2025-07-01"}}
    )

    assert done.response_action == "close" and done.view is None and not bot.fake.is_open(view_id)
    values = bot.fake.wait_for(lambda: bot.saw("risk"))[0]
    assert values["component"]["component"]["selected_option"]["value"] == "database"
    assert values["why"]["why"] == {"type": "plain_text_input", "value": "connections run out at 3x"}
    assert values["due"]["due"] == {"type": "datepicker", "selected_date": "2025-07-01"}
    submitted = bot.actor.last_payload
    assert (
        submitted["type"] == "view_submission" and submitted["view"]["private_metadata"] == '{"premortem": 7}'
    )


@pytest.mark.parametrize(
    ("why", "action", "stack"),
    [
        ("update the view", "update", ["Thanks"]),
        ("push another one", "push", ["Pre-mortem", "Next"]),
        ("clear all of it", "clear", []),
    ],
)
def test_response_actions_change_the_modal_like_slack(
    bot: Bot, channel: str, why: str, action: str, stack: list[str]
) -> None:
    view_id = open_premortem(bot, channel)
    result = bot.actor.submit_view(
        TEAM, "U1", view_id, {"component": {"component": "cache"}, "why": {"why": why}}
    )
    assert result.response_action == action
    assert [v["title"]["text"] for v in bot.fake.views_for("U1")] == stack


def test_each_input_kind_submits_in_slacks_state_shape(bot: Bot, channel: str) -> None:
    view_id = open_new_view(bot, channel, "setup")
    with pytest.raises(ActorError, match="not a number"):
        bot.actor.fill(TEAM, "U1", view_id, {"capacity": {"capacity": "lots"}})
    with pytest.raises(ActorError, match="cannot offer user"):
        bot.actor.fill(TEAM, "U1", view_id, {"lead": {"lead": "U404"}})

    bot.actor.submit_view(
        TEAM,
        "U1",
        view_id,
        {
            "capacity": {"capacity": 40},
            "lead": {"lead": "U2"},
            "managers": {"managers": ["U1", "U2"]},
            "risk": {"risk": "high"},
            "flags": {"flags": ["low", "high"]},
            "day": {"day": "2025-03-03"},
            "at": {"at": "09:00"},
        },
    )

    values = bot.fake.wait_for(lambda: bot.saw("form"))[0]
    high = {"text": text("high"), "value": "high"}
    assert {block: entry[block] for block, entry in values.items()} == {
        "team": {"type": "plain_text_input", "value": "payments"},
        "capacity": {"type": "number_input", "value": "40"},
        "lead": {"type": "users_select", "selected_user": "U2"},
        "managers": {"type": "multi_users_select", "selected_users": ["U1", "U2"]},
        "risk": {"type": "static_select", "selected_option": high},
        "flags": {"type": "checkboxes", "selected_options": [{"text": text("low"), "value": "low"}, high]},
        "day": {"type": "datepicker", "selected_date": "2025-03-03"},
        "at": {"type": "timepicker", "selected_time": "09:00"},
    }


def test_errors_must_name_input_blocks(bot: Bot, channel: str) -> None:
    view_id = open_premortem(bot, channel)
    with pytest.raises(ActorError, match="keys must be input block_ids"):
        bot.actor.submit_view(
            TEAM, "U1", view_id, {"component": {"component": "queue"}, "why": {"why": "bad errors!"}}
        )


def test_a_button_in_a_modal_gives_a_trigger_that_pushes(bot: Bot, channel: str) -> None:
    view_id = open_premortem(bot, channel)
    bot.actor.click_in_view(TEAM, "U1", view_id, "add_risk")
    stack = bot.fake.wait_for(lambda: len(v := bot.fake.views_for("U1")) == 2 and v)
    assert stack[1]["title"]["text"] == "Another risk" and stack[1]["previous_view_id"] == view_id
    with pytest.raises(ActorError, match="under"):
        bot.actor.click_in_view(TEAM, "U1", view_id, "add_risk")
    bot.actor.close_view(TEAM, "U1", stack[1]["id"])
    assert [v["id"] for v in bot.fake.views_for("U1")] == [view_id]


def test_events_can_be_redelivered_with_retry_headers(bot: Bot) -> None:
    event = {
        "type": "app_mention",
        "user": "U1",
        "text": "<@bot> ready?",
        "channel": "C0001",
        "ts": "1.000001",
    }
    assert bot.actor.event(TEAM, event, event_id="Ev0001").status_code == 200
    assert bot.actor.event(TEAM, event, event_id="Ev0001", retry_num=1).status_code == 200
    assert bot.fake.wait_for(lambda: len(seen := bot.saw("mention")) == 2 and seen) == [
        ("Ev0001", None),
        ("Ev0001", "1"),
    ]
    envelope = bot.actor.last_payload
    assert envelope["type"] == "event_callback" and envelope["authorizations"][0]["team_id"] == TEAM


def test_opening_the_home_tab_lets_the_app_publish_it(bot: Bot) -> None:
    bot.actor.open_home(TEAM, "U2")
    home = bot.fake.wait_for(lambda: bot.fake.home("U2"))
    assert home["blocks"][0]["text"]["text"] == "Hi <@U2>"


def test_signatures_verify_and_forgeries_are_refused(bot: Bot) -> None:
    body = b"token=x&command=%2Fscale-check"
    headers = signed_headers(SECRET, body)
    assert SignatureVerifier(SECRET).is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )

    assert bot.actor.raw(body, sign=False).status_code == 401
    stale = str(int(time.time()) - 6 * 60)
    assert bot.actor.raw(body, timestamp=stale).status_code == 401
    forged = {"X-Slack-Signature": "v0=" + "0" * 64}
    assert bot.actor.raw(body, forged).status_code == 401
    # bolt 1.30 answers 500, not 401, to a non-numeric timestamp: refused either way.
    assert bot.actor.raw(body, {"X-Slack-Request-Timestamp": "soon"}, sign=False).status_code != 200
    assert bot.actor.url_verification("c-123").json() == {"challenge": "c-123"}


def test_users_who_cannot_act_are_refused(bot: Bot, channel: str) -> None:
    with pytest.raises(ActorError, match="no user"):
        bot.actor.slash_command(TEAM, "U404", channel, "signals")
    bot.fake.add_channel(TEAM, f"{channel}X", "private-ish", members=["U1"])
    with pytest.raises(ActorError, match="not a member"):
        bot.actor.slash_command(TEAM, "U2", f"{channel}X", "signals")
