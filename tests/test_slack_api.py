"""The Slack-side helpers every capability shares: how long a 429 asks to wait, and reading every page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot import redraw
from bot.digest import slack_calls
from bot.slack_api import every, pages, rate_limited_for
from localslack import FakeSlack

TEAM = "T0001"


def _refused(status: int, error: str, headers: dict[str, object]) -> SlackApiError:
    response = AsyncSlackResponse(
        client=None,
        http_verb="POST",
        api_url="http://127.0.0.1/api/chat.update",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers,
        status_code=status,
    )
    return SlackApiError(error, response)


def test_a_429_says_how_long_to_wait_in_seconds_or_as_an_http_date() -> None:
    assert rate_limited_for(_refused(429, "ratelimited", {"Retry-After": "7"})) == 7.0
    assert rate_limited_for(_refused(429, "ratelimited", {"retry-after": ["3"]})) == 3.0
    in_20_s = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    wait = rate_limited_for(_refused(429, "ratelimited", {"Retry-After": in_20_s}))
    assert wait is not None and 15 <= wait <= 20
    assert rate_limited_for(_refused(429, "ratelimited", {})) == 1.0  # missing: a second
    assert rate_limited_for(_refused(429, "ratelimited", {"Retry-After": "soon"})) == 1.0


def test_an_error_that_is_no_rate_limit_has_no_wait() -> None:
    assert rate_limited_for(_refused(200, "channel_not_found", {"Retry-After": "5"})) is None
    page = AsyncSlackResponse(
        client=None,
        http_verb="POST",
        api_url="http://127.0.0.1/api/x",
        req_args={},
        data="<html>bad gateway",
        headers={},
        status_code=502,
    )
    assert rate_limited_for(SlackApiError("bad gateway", page)) is None  # a proxy's page, not Slack's JSON


def test_each_caller_bounds_the_wait_its_own_way() -> None:
    long = _refused(429, "ratelimited", {"Retry-After": "600"})
    assert redraw.retry_after(long) == 60.0  # a redraw tries again within a minute
    assert slack_calls._retry_after(long) == slack_calls.MAX_RETRY_AFTER
    started = time.time()
    in_the_past = format_datetime(datetime.now(UTC) - timedelta(minutes=1), usegmt=True)
    assert redraw.retry_after(_refused(429, "ratelimited", {"Retry-After": in_the_past})) == 1.0
    assert time.time() - started < 1  # parsing never waits


@pytest.mark.parametrize("header", ["2", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_the_digest_waits_out_only_rate_limits(header: str) -> None:
    assert slack_calls._retry_after(_refused(429, "ratelimited", {"Retry-After": header})) is not None
    assert slack_calls._retry_after(_refused(404, "not_found", {"Retry-After": header})) is None


# --- every page of a list method ------------------------------------------------------------------


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as started:
        started.add_workspace(TEAM, "Acme", "acme")
        for i in range(450):
            started.add_user(TEAM, f"U{i:04d}", f"person{i}")
        started.add_channel(TEAM, "C1", "eng", members=[f"U{i:04d}" for i in range(450)])
        started.add_channel(TEAM, "C2", "quiet", members=["U0000"])
        yield started


def client_of(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(base_url=slack.api_url, token=slack.workspace(TEAM).bot_token, timeout=5)


async def test_every_member_is_read_across_pages(slack: FakeSlack) -> None:
    before = len(slack.calls("conversations.members"))
    members = await every(client_of(slack).conversations_members, "members", channel="C1", limit=200)
    assert len(members) == 451 and len(set(members)) == 451  # 450 people and the bot, once each
    assert len(slack.calls("conversations.members")) - before == 3  # 200 + 200 + 51


async def test_a_list_that_fits_one_page_is_read_with_one_call(slack: FakeSlack) -> None:
    before = len(slack.calls("conversations.members"))
    members = await every(client_of(slack).conversations_members, "members", channel="C2")
    assert sorted(members) == sorted(["U0000", slack.workspace(TEAM).bot_user_id])
    assert len(slack.calls("conversations.members")) - before == 1


async def test_pages_stop_at_max_pages_and_when_the_reader_stops(slack: FakeSlack) -> None:
    client = client_of(slack)
    read = [page["members"] async for page in pages(client.users_list, max_pages=2, limit=100)]
    assert [len(p) for p in read] == [100, 100]
    async for page in pages(client.users_list, limit=100):
        first = page["members"][0]["id"]
        break
    assert first == read[0][0]["id"]


async def test_a_bad_cursor_is_slacks_error_not_an_endless_loop(slack: FakeSlack) -> None:
    async def refused(**kwargs: Any) -> Any:
        return await client_of(slack).conversations_members(channel="C1", cursor="bogus", **kwargs)

    with pytest.raises(SlackApiError) as raised:
        await every(refused, "members")
    assert raised.value.response["error"] == "invalid_cursor"
