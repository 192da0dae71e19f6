"""localslack's canvas methods, driven by slack_sdk over HTTP: what Slack documents for
conversations.canvases.create, canvases.create and canvases.edit (arguments, errors, the 1 MiB limit,
one operation per edit, the plan's refusals, Tier 2 / Tier 3 rate limits), and the channel's properties."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from localslack import FakeSlack

TEAM = "T0001"


@pytest.fixture(scope="module")
def running() -> Iterator[FakeSlack]:
    with FakeSlack() as started:
        yield started


@pytest.fixture
def fake(running: FakeSlack) -> FakeSlack:
    running.reset()
    running.add_workspace(TEAM, "Acme", "acme")
    running.add_user(TEAM, "U1", "alice")
    running.add_channel(TEAM, "C1", "eng", members=["U1"])
    running.add_channel(TEAM, "C2", "random", members=["U1"], bot_member=False)
    return running


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(base_url=fake.api_url, token=fake.workspace(TEAM).bot_token, timeout=5)


def md(text: str) -> dict[str, str]:
    return {"type": "markdown", "markdown": text}


def error(client: WebClient, method: str, **args: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        client.api_call(method, json=args)
    return str(raised.value.response["error"])


def test_a_channel_has_one_channel_canvas_shown_in_its_properties(fake: FakeSlack, client: WebClient) -> None:
    made = client.api_call(
        "conversations.canvases.create",
        json={"channel_id": "C1", "title": "Readiness", "document_content": md("# Hi")},
    )
    canvas_id = made["canvas_id"]
    info = client.conversations_info(channel="C1")["channel"]["properties"]
    assert info["canvas"]["file_id"] == canvas_id and info["canvas"]["is_empty"] is False
    assert [t["data"]["file_id"] for t in info["tabs"]] == [canvas_id]
    assert error(client, "conversations.canvases.create", channel_id="C1") == "channel_canvas_already_exists"
    assert error(client, "conversations.canvases.create", title="no channel") == "invalid_arguments"
    assert error(client, "conversations.canvases.create", channel_id="C2") == "restricted_action"
    tabbed = client.api_call(
        "canvases.create", json={"title": "Mine", "channel_id": "C1", "document_content": md("x")}
    )
    tabs = client.conversations_info(channel="C1")["channel"]["properties"]["tabs"]
    assert [t["data"]["file_id"] for t in tabs] == [canvas_id, tabbed["canvas_id"]]


def test_an_edit_is_one_operation_and_replace_without_a_section_replaces_the_whole_body(
    fake: FakeSlack, client: WebClient
) -> None:
    canvas_id = client.api_call("canvases.create", json={"title": "T", "document_content": md("old")})[
        "canvas_id"
    ]
    change = {"operation": "replace", "document_content": md("# new\n| a |\n|---|\n| 1 |")}
    client.api_call("canvases.edit", json={"canvas_id": canvas_id, "changes": [change]})
    (canvas,) = fake.canvases()
    assert canvas.markdown.startswith("# new") and canvas.edits == 1
    assert (
        error(client, "canvases.edit", canvas_id=canvas_id, changes=[change, change]) == "invalid_arguments"
    )
    assert error(client, "canvases.edit", canvas_id="F0NOPE", changes=[change]) == "canvas_not_found"
    big = {"operation": "replace", "document_content": md("x" * 1_048_577)}
    assert error(client, "canvases.edit", canvas_id=canvas_id, changes=[big]) == "canvas_editing_failed"
    assert error(client, "canvases.create", document_content=md("x" * 1_048_577)) == "canvas_creation_failed"


def test_a_persons_canvas_in_a_channel_the_bot_is_not_in_cannot_be_edited(
    fake: FakeSlack, client: WebClient
) -> None:
    theirs = fake.add_person_canvas("C2", "U1", "# theirs")
    change = {"operation": "replace", "document_content": md("ours")}
    assert error(client, "canvases.edit", canvas_id=theirs, changes=[change]) == "canvas_not_found"
    assert fake.canvases()[0].markdown == "# theirs"


def test_the_plan_decides_what_is_refused(fake: FakeSlack, client: WebClient) -> None:
    fake.set_canvas_plan(TEAM, "free")
    assert (
        error(client, "conversations.canvases.create", channel_id="C1")
        == "team_tier_cannot_create_channel_canvases"
    )
    assert error(client, "canvases.create", title="x") == "free_teams_cannot_create_non_tabbed_canvases"
    client.api_call("canvases.create", json={"title": "tab", "channel_id": "C1"})
    assert (
        error(client, "canvases.create", title="x", channel_id="C1") == "free_team_canvas_tab_already_exists"
    )
    fake.set_canvas_plan(TEAM, "disabled")
    assert error(client, "canvases.create", title="x") == "canvas_disabled_user_team"


def test_creating_is_tier_2_and_answers_429_past_its_burst(fake: FakeSlack, client: WebClient) -> None:
    client.retry_handlers.clear()
    for _ in range(5):
        client.api_call("canvases.create", json={"title": "x"})
    with pytest.raises(SlackApiError) as raised:
        client.api_call("canvases.create", json={"title": "x"})
    assert (
        raised.value.response.status_code == 429 and int(raised.value.response.headers["Retry-After"][0]) >= 1
    )
