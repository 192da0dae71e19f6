"""localslack's Web API, driven by the real slack_sdk clients over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookClient

from localslack import UPDATE_LIMIT, Channel, FakeSlack, Message, RateLimit, Store, Workspace

TEAM = "T0001"


@pytest.fixture(scope="module")
def running() -> Iterator[FakeSlack]:
    with FakeSlack() as started:
        yield started


@pytest.fixture
def fake(running: FakeSlack) -> FakeSlack:
    running.reset()
    ws = running.add_workspace(TEAM, "Acme", "acme")
    running.add_user(TEAM, "U1", "alice", real_name="Alice Anders", is_admin=True)
    running.add_user(TEAM, "U2", "bob", tz="America/New_York")
    running.add_channel(TEAM, "C1", "eng", members=["U1", "U2"])
    running.add_channel(TEAM, "C2", "random", members=["U1"], bot_member=False)
    assert ws.bot_token.startswith("xoxb-")
    return running


@pytest.fixture
def ws(fake: FakeSlack) -> Workspace:
    return fake.workspace(TEAM)


@pytest.fixture
def client(fake: FakeSlack, ws: Workspace) -> WebClient:
    return WebClient(base_url=fake.api_url, token=ws.bot_token, timeout=5)


def error_of(call: Any, **kwargs: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        call(**kwargs)
    return raised.value


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(label: str, action_id: str = "go", value: str = "v") -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
    }


# -- messages ------------------------------------------------------------------------------------


def test_a_posted_thread_reads_back_like_conversations_history(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="Are we ready?", blocks=[section("*Are we ready?*")])
    reply = client.chat_postMessage(channel="C1", text="Signals", thread_ts=parent["ts"])
    broadcast = client.chat_postMessage(
        channel="C1", text="Verdict", thread_ts=reply["ts"], reply_broadcast=True
    )

    assert parent["channel"] == "C1" and parent["message"]["text"] == "Are we ready?"
    assert broadcast["message"]["thread_ts"] == parent["ts"]  # a reply's ts files under its parent
    history = client.conversations_history(channel="C1")["messages"]
    assert [m["text"] for m in history] == ["Verdict", "Are we ready?"]
    top = history[1]
    assert top["reply_count"] == 2 and top["latest_reply"] == broadcast["ts"]
    assert top["blocks"][0]["block_id"]  # Slack fills in block ids
    replies = client.conversations_replies(channel="C1", ts=parent["ts"])["messages"]
    assert [m["text"] for m in replies] == ["Are we ready?", "Signals", "Verdict"]
    assert [m["text"] for m in fake.messages("C1")] == ["Are we ready?", "Verdict"]
    assert [m["text"] for m in fake.messages("C1", thread_ts=parent["ts"])] == [
        "Are we ready?",
        "Signals",
        "Verdict",
    ]


def test_chat_update_edits_only_the_bots_own_existing_messages(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C1", text="v1", blocks=[section("v1")])
    updated = client.chat_update(channel="C1", ts=posted["ts"], text="v2")

    assert updated["text"] == "v2" and updated["message"]["blocks"][0]["text"]["text"] == "v1"
    stored = fake.message("C1", posted["ts"])
    assert (
        stored is not None
        and stored["text"] == "v2"
        and stored["edited"]["user"] == fake.workspace(TEAM).bot_user_id
    )
    assert (
        error_of(client.chat_update, channel="C1", ts="1.000001", text="x").response["error"]
        == "message_not_found"
    )
    with fake.store.lock:
        human = fake.store.add_message(Message(channel="C1", ts="", text="mine", user="U1", team=TEAM))
    assert (
        error_of(client.chat_update, channel="C1", ts=human.ts, text="x").response["error"]
        == "cant_update_message"
    )
    assert error_of(client.chat_delete, channel="C1", ts=human.ts).response["error"] == "cant_delete_message"
    client.chat_delete(channel="C1", ts=posted["ts"])
    assert fake.message("C1", posted["ts"]) is None


def test_permalinks_point_at_the_message_and_its_thread(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="p")
    reply = client.chat_postMessage(channel="C1", text="r", thread_ts=parent["ts"])
    link = client.chat_getPermalink(channel="C1", message_ts=parent["ts"])["permalink"]
    assert link == f"{fake.url}/archives/C1/p{parent['ts'].replace('.', '')}"
    thread_link = client.chat_getPermalink(channel="C1", message_ts=reply["ts"])["permalink"]
    assert thread_link.endswith(f"?thread_ts={parent['ts']}&cid=C1")


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
def test_every_message_needs_a_text_fallback_of_sane_length(client: WebClient) -> None:
    no_text = error_of(client.chat_postMessage, channel="C1", blocks=[section("hi")])
    assert no_text.response["error"] == "no_text"
    assert error_of(client.chat_postMessage, channel="C1", text="  ").response["error"] == "no_text"
    too_long = error_of(client.chat_postMessage, channel="C1", text="x" * 40_001)
    assert too_long.response["error"] == "msg_too_long"
    assert client.chat_postMessage(channel="C1", text="x" * 40_000)["ok"]


def test_the_bot_posts_only_where_it_is_a_member(fake: FakeSlack, client: WebClient) -> None:
    assert error_of(client.chat_postMessage, channel="C2", text="hi").response["error"] == "not_in_channel"
    assert (
        error_of(client.chat_postMessage, channel="C404", text="hi").response["error"] == "channel_not_found"
    )
    fake.add_bot_to("C2")
    assert client.chat_postMessage(channel="#random", text="hi")["channel"] == "C2"
    dm = client.chat_postMessage(channel="U2", text="digest")
    assert dm["channel"].startswith("D")


def test_ephemeral_messages_reach_only_current_members(fake: FakeSlack, client: WebClient) -> None:
    sent = client.chat_postEphemeral(channel="C1", user="U2", text="only you")
    assert fake.ephemerals("U2") == [
        {
            "type": "message",
            "channel": "C1",
            "user": "U2",
            "ts": sent["message_ts"],
            "text": "only you",
            "blocks": None,
            "thread_ts": None,
            "source": "chat.postEphemeral",
        }
    ]
    fake.leave("C1", "U2")
    left = error_of(client.chat_postEphemeral, channel="C1", user="U2", text="x")
    assert left.response["error"] == "user_not_in_channel"
    fake.join("C1", "U2")
    fake.deactivate_user("U2")
    assert error_of(client.chat_postEphemeral, channel="C1", user="U2", text="x").response["error"] == (
        "user_not_in_channel"
    )


# -- Block Kit limits ------------------------------------------------------------------------------

REFUSED_BLOCKS: dict[str, list[dict[str, Any]]] = {
    "51 blocks": [section("x")] * 51,
    "3001-char section": [section("x" * 3001)],
    "2001-char field": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}],
    "151-char header": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
    "76-char button label": [{"type": "actions", "elements": [button("x" * 76)]}],
    "256-char action_id": [{"type": "actions", "elements": [button("ok", action_id="a" * 256)]}],
    "2001-char button value": [{"type": "actions", "elements": [button("ok", value="v" * 2001)]}],
    "256-char block_id": [{**section("x"), "block_id": "b" * 256}],
    "26 actions elements": [{"type": "actions", "elements": [button("b", f"a{i}") for i in range(26)]}],
    "11 context elements": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
    "76-char option text": [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "s",
                    "options": [{"text": {"type": "plain_text", "text": "o" * 76}, "value": "v"}],
                }
            ],
        }
    ],
    "151-char option value": [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "s",
                    "options": [{"text": {"type": "plain_text", "text": "o"}, "value": "v" * 151}],
                }
            ],
        }
    ],
    "unknown block type": [{"type": "sparkles", "text": "hi"}],
    "unknown element type": [{"type": "actions", "elements": [{"type": "lasso", "action_id": "x"}]}],
    "duplicate block_id": [{**section("a"), "block_id": "same"}, {**section("b"), "block_id": "same"}],
    "duplicate action_id in a block": [{"type": "actions", "elements": [button("a", "x"), button("b", "x")]}],
    "text that is not a text object": [{"type": "section", "text": "plain string"}],
    "empty section": [{"type": "section"}],
}


@pytest.mark.parametrize("blocks", REFUSED_BLOCKS.values(), ids=REFUSED_BLOCKS.keys())
def test_blocks_over_slacks_limits_are_refused(client: WebClient, blocks: list[dict[str, Any]]) -> None:
    refused = error_of(client.chat_postMessage, channel="C1", text="fallback", blocks=blocks)
    assert refused.response["error"] == "invalid_blocks"
    messages = refused.response["response_metadata"]["messages"]
    assert messages and all(m.startswith("[ERROR] ") and "[json-pointer:/blocks" in m for m in messages)


def test_blocks_at_exactly_the_limits_are_accepted(client: WebClient) -> None:
    blocks = [
        section("x" * 3000),
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        {"type": "actions", "elements": [button("b" * 75, action_id="a" * 255, value="v" * 2000)]},
        *[section("s")] * 47,
    ]
    assert len(blocks) == 50
    assert client.chat_postMessage(channel="C1", text="ok", blocks=blocks)["ok"]


# -- views and trigger_ids -------------------------------------------------------------------------


def modal(
    title: str = "Pre-mortem", blocks: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": blocks or [section("x")],
        **extra,
    }


def test_a_trigger_id_opens_one_modal_within_three_seconds(fake: FakeSlack, client: WebClient) -> None:
    trigger = fake.new_trigger_id(TEAM, "U1")
    view = client.views_open(trigger_id=trigger, view=modal(callback_id="premortem"))["view"]
    assert view["id"].startswith("V") and view["root_view_id"] == view["id"] and view["hash"]
    assert view["callback_id"] == "premortem" and view["state"] == {"values": {}}
    assert [v["id"] for v in fake.views_for("U1")] == [view["id"]]

    again = error_of(client.views_open, trigger_id=trigger, view=modal())
    assert again.response["error"] == "exchanged_trigger_id"
    late = fake.new_trigger_id(TEAM, "U1")
    fake.advance_time(3.5)
    assert (
        error_of(client.views_open, trigger_id=late, view=modal()).response["error"] == "expired_trigger_id"
    )
    assert (
        error_of(client.views_open, trigger_id="1.2.3", view=modal()).response["error"]
        == "invalid_trigger_id"
    )


VIEW_PROBLEMS: dict[str, dict[str, Any]] = {
    "101 blocks": modal(blocks=[section("x")] * 101),
    "25-char title": modal(title="t" * 25),
    "25-char submit": modal(submit={"type": "plain_text", "text": "s" * 25}),
    "3001-char private_metadata": modal(private_metadata="m" * 3001),
    "256-char callback_id": modal(callback_id="c" * 256),
    "input without submit": modal(
        blocks=[
            {
                "type": "input",
                "block_id": "b",
                "label": {"type": "plain_text", "text": "Risk"},
                "element": {"type": "plain_text_input", "action_id": "a"},
            }
        ]
    ),
    "2001-char input label": modal(
        submit={"type": "plain_text", "text": "Save"},
        blocks=[
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "l" * 2001},
                "element": {"type": "plain_text_input", "action_id": "a"},
            }
        ],
    ),
}


@pytest.mark.parametrize("view", VIEW_PROBLEMS.values(), ids=VIEW_PROBLEMS.keys())
def test_views_over_slacks_limits_are_refused(
    fake: FakeSlack, client: WebClient, view: dict[str, Any]
) -> None:
    refused = error_of(client.views_open, trigger_id=fake.new_trigger_id(TEAM, "U1"), view=view)
    assert refused.response["error"] == "invalid_arguments"
    assert all("[json-pointer:/view" in m for m in refused.response["response_metadata"]["messages"])


def test_a_modal_view_holds_100_blocks(fake: FakeSlack, client: WebClient) -> None:
    view = modal(blocks=[section("x")] * 100)
    assert client.views_open(trigger_id=fake.new_trigger_id(TEAM, "U1"), view=view)["ok"]


def test_views_update_refuses_a_stale_hash(fake: FakeSlack, client: WebClient) -> None:
    opened = client.views_open(trigger_id=fake.new_trigger_id(TEAM, "U1"), view=modal(external_id="pm-1"))[
        "view"
    ]
    updated = client.views_update(
        view_id=opened["id"], hash=opened["hash"], view=modal(title="Working…", external_id="pm-1")
    )["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    stale = error_of(client.views_update, view_id=opened["id"], hash=opened["hash"], view=modal())
    assert stale.response["error"] == "hash_conflict"
    by_external = client.views_update(external_id="pm-1", view=modal(title="By id", external_id="pm-1"))
    assert by_external["view"]["id"] == opened["id"]
    assert error_of(client.views_update, view_id="VNOPE", view=modal()).response["error"] == "not_found"


def test_the_home_tab_is_published_per_user(fake: FakeSlack, client: WebClient) -> None:
    home = {"type": "home", "blocks": [section("Team status")]}
    first = client.views_publish(user_id="U1", view=home)["view"]
    second = client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("v2")]})["view"]
    assert first["id"] == second["id"] and first["hash"] != second["hash"]
    published = fake.home("U1")
    assert published is not None and published["blocks"][0]["text"]["text"] == "v2"
    assert error_of(client.views_publish, user_id="U1", view=modal()).response["error"] == "invalid_arguments"
    too_many = {"type": "home", "blocks": [section("x")] * 101}
    assert (
        error_of(client.views_publish, user_id="U1", view=too_many).response["error"] == "invalid_arguments"
    )


# -- conversations and users -----------------------------------------------------------------------


def test_members_and_users_paginate_with_cursors(fake: FakeSlack, client: WebClient) -> None:
    for i in range(5):
        fake.add_user(TEAM, f"U9{i}", f"user{i}")
        fake.join("C1", f"U9{i}")
    members: list[str] = []
    for page in client.conversations_members(channel="C1", limit=2):
        members.extend(page["members"])
    assert sorted(members) == sorted(
        ["U1", "U2", fake.workspace(TEAM).bot_user_id, *[f"U9{i}" for i in range(5)]]
    )
    names = [u["name"] for page in client.users_list(limit=3) for u in page["members"]]
    assert len(names) == 8 and "scalebot" in names
    assert (
        error_of(client.conversations_members, channel="C1", cursor="bogus").response["error"]
        == "invalid_cursor"
    )


def test_users_info_carries_profile_and_time_zone(fake: FakeSlack, client: WebClient) -> None:
    fake.add_user(
        TEAM, "U3", "zoë.o'brien-ü_1", real_name="Zoë O'Brien", display_name="zoë 🚀", tz="Asia/Kolkata"
    )
    user = client.users_info(user="U3")["user"]
    assert user["name"] == "zoë.o'brien-ü_1" and user["profile"]["display_name"] == "zoë 🚀"
    assert user["tz"] == "Asia/Kolkata" and user["tz_offset"] == 19800 and user["tz_label"]
    assert user["is_admin"] is False and user["deleted"] is False and user["team_id"] == TEAM
    assert error_of(client.users_info, user="U404").response["error"] == "user_not_found"


def test_conversations_open_returns_the_same_im(fake: FakeSlack, client: WebClient) -> None:
    first = client.conversations_open(users="U2")
    second = client.conversations_open(users="U2")
    assert first["channel"]["id"] == second["channel"]["id"] and second["already_open"] is True
    info = client.conversations_info(channel=first["channel"]["id"])["channel"]
    assert info["is_im"] is True and info["user"] == "U2"
    assert client.conversations_info(channel="C2")["channel"]["is_member"] is False


# -- authentication and failures --------------------------------------------------------------------


def test_tokens_fail_the_way_slack_fails_them(fake: FakeSlack, ws: Workspace) -> None:
    def auth_error(token: str | None) -> str:
        return error_of(WebClient(base_url=fake.api_url, token=token).auth_test).response["error"]

    assert auth_error(None) == "not_authed"
    assert auth_error("xoxb-nope") == "invalid_auth"
    fake.deactivate_workspace(TEAM)
    assert auth_error(ws.bot_token) == "account_inactive"
    fake.revoke_tokens(TEAM)
    assert auth_error(ws.bot_token) == "token_revoked"
    assert [c.error for c in fake.calls("auth.test")] == [
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
    ]


def test_malformed_requests_get_slacks_errors(fake: FakeSlack, ws: Workspace) -> None:
    auth = {"Authorization": f"Bearer {ws.bot_token}"}
    bad_json = httpx.post(
        fake.api_url + "chat.postMessage",
        content=b"{nope",
        headers={**auth, "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 200 and bad_json.json() == {"ok": False, "error": "invalid_json"}
    bad_form = httpx.post(
        fake.api_url + "chat.postMessage",
        content=b"\xff\xfe=1",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert bad_form.json()["error"] == "invalid_form_data"
    assert httpx.post(fake.api_url + "chat.frobnicate", headers=auth).json()["error"] == "unknown_method"
    form_token = httpx.post(fake.api_url + "auth.test", data={"token": ws.bot_token})
    assert form_token.json()["ok"] is True
    calls = fake.calls("auth.test")
    assert calls[-1].token_kind == "bot" and calls[-1].team_id == TEAM and "token" not in calls[-1].args


def test_a_429_with_retry_after_is_retried_by_slack_sdk(fake: FakeSlack, ws: Workspace) -> None:
    fake.rate_limit_next("chat.postMessage", retry_after=1)
    patient = WebClient(
        base_url=fake.api_url,
        token=ws.bot_token,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    started = time.monotonic()
    assert patient.chat_postMessage(channel="C1", text="eventually")["ok"]
    assert time.monotonic() - started >= 0.9
    assert [(c.ok, c.error) for c in fake.calls("chat.postMessage")] == [(False, "ratelimited"), (True, None)]


def test_the_per_channel_posting_rate_answers_429(fake: FakeSlack, client: WebClient) -> None:
    fake.set_message_rate(per_channel_per_second=1)
    client.chat_postMessage(channel="C1", text="first")
    limited = error_of(client.chat_postMessage, channel="C1", text="second")
    assert limited.response.status_code == 429 and limited.response.headers["Retry-After"] == "1"
    assert limited.response["error"] == "ratelimited"
    fake.add_bot_to("C2")
    assert client.chat_postMessage(channel="C2", text="another channel")["ok"]


def test_chat_update_is_limited_per_workspace_like_slacks_tier_3() -> None:
    now = [1_800_000_000.0]
    with FakeSlack(store=Store(clock=lambda: now[0])) as frozen:
        clients = {}
        for team in ("T0001", "T0002"):
            ws = frozen.add_workspace(team, team, team.lower())
            frozen.add_channel(team, f"C{team}", "eng")
            clients[team] = WebClient(base_url=frozen.api_url, token=ws.bot_token, timeout=5)
        client = clients["T0001"]
        ts = client.chat_postMessage(channel="CT0001", text="v0")["ts"]
        for n in range(1, UPDATE_LIMIT.burst + 1):  # a burst is welcome…
            client.chat_update(channel="CT0001", ts=ts, text=f"v{n}")
        limited = error_of(client.chat_update, channel="CT0001", ts=ts, text="one too many")  # …up to a point
        assert limited.response.status_code == 429 and limited.response["error"] == "ratelimited"
        assert limited.response.headers["Retry-After"] == "2"  # 50 a minute: one every 1.2 s
        assert (frozen.message("CT0001", ts) or {})["text"] == f"v{UPDATE_LIMIT.burst}"  # nothing changed
        other = clients["T0002"]  # another workspace has its own allowance
        other_ts = other.chat_postMessage(channel="CT0002", text="v0")["ts"]
        assert other.chat_update(channel="CT0002", ts=other_ts, text="v1")["ok"]

        now[0] += 1.2
        assert client.chat_update(channel="CT0001", ts=ts, text="after the wait")["ok"]
        assert (
            error_of(client.chat_update, channel="CT0001", ts=ts, text="x").response["error"] == "ratelimited"
        )

        frozen.set_update_limit(RateLimit(per_minute=6, burst=1))  # configurable…
        assert client.chat_update(channel="CT0001", ts=ts, text="one")["ok"]
        assert (
            error_of(client.chat_update, channel="CT0001", ts=ts, text="x").response.headers["Retry-After"]
            == "10"
        )
        frozen.set_update_limit(None)  # …or off
        assert all(client.chat_update(channel="CT0001", ts=ts, text=f"w{n}")["ok"] for n in range(60))
        frozen.reset()  # and back to Slack's for the next test
        assert frozen.faults.update_limit == UPDATE_LIMIT


def test_a_rate_limited_update_is_retried_by_slack_sdk_and_lands(fake: FakeSlack, ws: Workspace) -> None:
    fake.set_update_limit(RateLimit(per_minute=60, burst=1))
    patient = WebClient(
        base_url=fake.api_url,
        token=ws.bot_token,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    ts = patient.chat_postMessage(channel="C1", text="v0")["ts"]
    assert patient.chat_update(channel="C1", ts=ts, text="v1")["ok"]
    started = time.monotonic()
    assert patient.chat_update(channel="C1", ts=ts, text="v2")["ok"]
    assert time.monotonic() - started >= 0.9
    assert [(c.ok, c.error) for c in fake.calls("chat.update")] == [
        (True, None),
        (False, "ratelimited"),
        (True, None),
    ]
    assert (fake.message("C1", ts) or {})["text"] == "v2"


def test_injected_failures_and_stalls(fake: FakeSlack, ws: Workspace, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", error="fatal_error", times=2)
    for _ in range(2):
        assert error_of(client.chat_postMessage, channel="C1", text="x").response["error"] == "fatal_error"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    fake.stall_next("auth.test", seconds=0.5)
    hasty = WebClient(base_url=fake.api_url, token=ws.bot_token, timeout=0.1)
    with pytest.raises(TimeoutError):
        hasty.auth_test()
    fake.wait_for(lambda: fake.calls("auth.test"))  # the stalled call finishes before the next test


async def test_the_async_client_works_against_the_fake(fake: FakeSlack, ws: Workspace) -> None:
    client = AsyncWebClient(base_url=fake.api_url, token=ws.bot_token)
    posted = await client.chat_postMessage(channel="C1", text="async", blocks=[section("async")])
    members = await client.conversations_members(channel="C1")
    info = await client.users_info(user="U1")
    assert posted["ok"] and "U1" in members["members"] and info["user"]["real_name"] == "Alice Anders"


# -- files -----------------------------------------------------------------------------------------


def test_files_upload_v2_stores_the_bytes_and_shares_them(fake: FakeSlack, client: WebClient) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    parent = client.chat_postMessage(channel="C1", text="Weekly digest")
    done = client.files_upload_v2(
        channel="C1",
        file=png,
        filename="debt.png",
        title="Tech debt",
        thread_ts=parent["ts"],
        initial_comment="Chart",
    )
    stored = fake.files()
    assert done["file"]["id"] == stored[0].id and stored[0].content == png and stored[0].title == "Tech debt"
    thread = fake.messages("C1", thread_ts=parent["ts"])
    assert thread[-1]["text"] == "Chart" and thread[-1]["files"][0]["name"] == "debt.png"
    fake.remove_bot_from("C1")
    denied = error_of(client.files_upload_v2, channel="C1", content="x", filename="x.txt")
    assert denied.response["error"] == "posting_to_channel_denied"


# -- OAuth -----------------------------------------------------------------------------------------


def authorize(fake: FakeSlack, **params: str) -> dict[str, list[str]]:
    query = {"client_id": "111.222", "scope": "commands,chat:write", "state": "s-1", **params}
    answer = httpx.get(fake.authorize_url, params=query, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return parse_qs(urlparse(answer.headers["location"]).query)


def test_an_oauth_code_is_exchanged_once_for_a_fresh_bot_token(fake: FakeSlack, ws: Workspace) -> None:
    fake.configure_app(
        client_id="111.222", client_secret="shh", redirect_uri="http://127.0.0.1:3000/slack/oauth_redirect"
    )
    redirect = authorize(fake, team="T0002")
    assert redirect["state"] == ["s-1"]
    anonymous = WebClient(base_url=fake.api_url)
    grant = anonymous.oauth_v2_access(client_id="111.222", client_secret="shh", code=redirect["code"][0])
    assert grant["token_type"] == "bot" and grant["team"] == {"id": "T0002", "name": "T0002"}
    assert grant["is_enterprise_install"] is False and grant["enterprise"] is None
    assert grant["authed_user"]["id"].startswith("U") and grant["scope"] == "commands,chat:write"
    new_client = WebClient(base_url=fake.api_url, token=grant["access_token"])
    assert new_client.auth_test()["team_id"] == "T0002"
    reused = error_of(
        anonymous.oauth_v2_access, client_id="111.222", client_secret="shh", code=redirect["code"][0]
    )
    assert reused.response["error"] == "invalid_code"


def test_oauth_refuses_wrong_clients_redirects_and_old_codes(fake: FakeSlack) -> None:
    fake.configure_app(client_id="111.222", client_secret="shh", redirect_uri="http://127.0.0.1:3000/cb")
    anonymous = WebClient(base_url=fake.api_url)

    def exchange(**kwargs: str) -> str:
        return error_of(anonymous.oauth_v2_access, **kwargs).response["error"]

    code = authorize(fake, redirect_uri="http://127.0.0.1:3000/cb")["code"][0]
    assert exchange(client_id="999", client_secret="shh", code=code) == "invalid_client_id"
    assert exchange(client_id="111.222", client_secret="nope", code=code) == "bad_client_secret"
    assert exchange(
        client_id="111.222", client_secret="shh", code=code, redirect_uri="http://127.0.0.1:9/x"
    ) == ("bad_redirect_uri")
    old = authorize(fake)["code"][0]
    fake.advance_time(601)
    assert exchange(client_id="111.222", client_secret="shh", code=old) == "invalid_code"


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_bolts_oauth_flow_installs_from_the_fake(fake: FakeSlack) -> None:
    fake.configure_app(client_id="111.222", client_secret="shh")
    code = authorize(fake, team=TEAM, redirect_uri="http://127.0.0.1:3000/cb")["code"][0]
    flow = AsyncOAuthFlow(
        client=AsyncWebClient(base_url=fake.api_url),
        settings=AsyncOAuthSettings(
            client_id="111.222",
            client_secret="shh",
            scopes=["commands"],
            redirect_uri="http://127.0.0.1:3000/cb",
            authorization_url=fake.authorize_url,
        ),
    )
    installation = await flow.run_installation(code)
    ws = fake.workspace(TEAM)
    assert installation is not None and installation.team_id == TEAM and installation.bot_id == ws.bot_id
    assert installation.bot_token == ws.bot_token and installation.bot_user_id == ws.bot_user_id


# -- response_url -----------------------------------------------------------------------------------


def test_response_urls_post_replace_and_delete_like_slack(fake: FakeSlack, client: WebClient) -> None:
    source = client.chat_postMessage(channel="C1", text="Vote", blocks=[section("Vote")])
    hook = WebhookClient(fake.new_response_url(TEAM, "U1", "C1", message_ts=source["ts"]))

    assert hook.send(text="Only you see this").body == "ok"
    assert fake.ephemerals("U1")[-1]["text"] == "Only you see this"
    assert hook.send(text="Everyone", response_type="in_channel").status_code == 200
    assert fake.messages("C1")[-1]["text"] == "Everyone"
    hook.send(text="Voted", replace_original=True)
    replaced = fake.message("C1", source["ts"])
    assert replaced is not None and replaced["text"] == "Voted"
    too_many = hook.send(text="t", blocks=[section("x")] * 51)
    assert (too_many.status_code, too_many.body) == (400, "invalid_blocks")
    assert (hook.send(blocks=[section("x")]).status_code, hook.send(blocks=[section("x")]).body) == (
        400,
        "no_text",
    )
    hook.send(delete_original=True)
    assert fake.message("C1", source["ts"]) is None
    hook.send(text="fifth")
    sixth = hook.send(text="sixth")
    assert (sixth.status_code, sixth.body) == (404, "used_url")
    assert [p.ok for p in fake.response_url_posts()].count(True) == 5


def test_a_response_url_expires_after_thirty_minutes(fake: FakeSlack) -> None:
    hook = WebhookClient(fake.new_response_url(TEAM, "U1", "C1"))
    fake.advance_time(30 * 60 + 1)
    late = hook.send(text="too late")
    assert (late.status_code, late.body) == (404, "expired_url")


def test_the_store_snapshot_round_trips_as_json(fake: FakeSlack, client: WebClient) -> None:
    import json

    from localslack import Store

    client.chat_postMessage(channel="C1", text="persist me")
    data = json.loads(json.dumps(fake.snapshot()))
    copy = Store()
    copy.restore(data)
    assert [m.text for m in copy.messages["C1"]] == ["persist me"]
    assert copy.workspaces[TEAM].bot_token == fake.workspace(TEAM).bot_token


def test_the_router_mounts_under_a_prefix_in_another_app() -> None:
    from fastapi import FastAPI

    from localslack import BackgroundServer, Store, create_router

    store = Store()
    with BackgroundServer() as server:
        host = FastAPI()
        host.include_router(create_router(store, public_url=f"{server.url}/localslack"), prefix="/localslack")
        server.start(host)
        token = store.add_workspace(TEAM, "Acme", "acme").bot_token
        store.add_channel(
            Channel(id="C1", team_id=TEAM, name="eng", members=[store.workspaces[TEAM].bot_user_id])
        )
        client = WebClient(base_url=f"{server.url}/localslack/api/", token=token)
        assert client.auth_test()["url"] == f"{server.url}/localslack/"
        upload = client.files_getUploadURLExternal(filename="a.txt", length=1)
        assert upload["upload_url"].startswith(f"{server.url}/localslack/upload/v1/")
        assert client.files_upload_v2(channel="C1", content="x", filename="a.txt")["ok"]
