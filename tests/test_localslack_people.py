"""The local Slack serves who is away as Slack does: profiles with statuses (users.profile.get), Do Not
Disturb for one person or up to 50 (dnd.info, dnd.teamInfo), each refusing a token without its scope
and answering 429 beyond its tier; the console's /status and /dnd set them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from localslack import FakeSlack, RateLimit
from localslack.console import Console

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
    running.add_user(TEAM, "U2", "bob")
    running.add_channel(TEAM, "C1", "eng", members=["U1", "U2"])
    return running


def client(fake: FakeSlack, token: str | None = None) -> WebClient:
    return WebClient(base_url=fake.api_url, token=token or fake.workspace(TEAM).bot_token, timeout=5)


def test_profiles_carry_the_status_and_dnd_its_window_in_slacks_shapes(fake: FakeSlack) -> None:
    fake.set_status("U1", "Out of office", ":palm_tree:", expiration=1_900_000_000)
    fake.set_dnd("U2", start=1_800_000_000, end=1_800_003_600, snooze_until=1_900_000_000)
    web = client(fake)
    profile = web.users_profile_get(user="U1")["profile"]
    assert (profile["status_text"], profile["status_emoji"], profile["status_expiration"]) == (
        "Out of office",
        ":palm_tree:",
        1_900_000_000,
    )
    assert web.users_info(user="U1")["user"]["profile"]["status_emoji"] == ":palm_tree:"
    team = web.dnd_teamInfo(users="U1,U2")["users"]
    assert team["U1"] == {"dnd_enabled": False, "next_dnd_start_ts": 1, "next_dnd_end_ts": 1}
    assert team["U2"] == {
        "dnd_enabled": True,
        "next_dnd_start_ts": 1_800_000_000,
        "next_dnd_end_ts": 1_800_003_600,
    }
    one = web.dnd_info(user="U2").data
    assert "snooze_enabled" not in one  # a snooze shows only to its own person
    assert one["next_dnd_end_ts"] == 1_800_003_600


def test_dnd_team_info_takes_at_most_50_users(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as refused:
        client(fake).dnd_teamInfo(users=",".join(["U1"] * 51))
    assert refused.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError) as unknown:
        client(fake).dnd_teamInfo(users="U1,U9")
    assert unknown.value.response["error"] == "user_not_visible"


def test_a_token_without_the_scope_gets_missing_scope_with_what_it_needs(fake: FakeSlack) -> None:
    token = fake.store.mint_bot_token(TEAM, scopes="chat:write,users:read").token
    web = client(fake, token)
    for call, needed in (
        (lambda: web.users_profile_get(user="U1"), "users.profile:read"),
        (lambda: web.dnd_teamInfo(users="U1"), "dnd:read"),
        (lambda: web.dnd_info(user="U1"), "dnd:read"),
    ):
        with pytest.raises(SlackApiError) as refused:
            call()
        assert refused.value.response["error"] == "missing_scope"
        assert refused.value.response["needed"] == needed
        assert refused.value.response["provided"] == "chat:write,users:read"
    granted = fake.store.mint_bot_token(TEAM, scopes="dnd:read,users.profile:read").token
    assert client(fake, granted).dnd_info(user="U1")["ok"]


def test_each_method_answers_429_beyond_its_tier(fake: FakeSlack) -> None:
    fake.set_tier_limit("dnd.teamInfo", RateLimit(per_minute=20, burst=3))
    web = client(fake)
    for _ in range(3):
        web.dnd_teamInfo(users="U1")
    with pytest.raises(SlackApiError) as limited:
        web.dnd_teamInfo(users="U1")
    assert limited.value.response.status_code == 429
    assert int(limited.value.response.headers["Retry-After"]) >= 1
    web.users_profile_get(user="U1")  # another method has its own bucket
    fake.advance_time(3.1)  # 20 a minute: one more every 3 s
    web.dnd_teamInfo(users="U1")


def test_the_console_sets_a_status_and_dnd_with_slacks_own_commands(fake: FakeSlack) -> None:
    console = Console(fake.store, TEAM)
    console.send("U1", "C1", "/status :palm_tree: OOO back Monday for 2d")
    now = fake.store.now()
    profile = client(fake).users_profile_get(user="U1")["profile"]
    assert (profile["status_emoji"], profile["status_text"]) == (":palm_tree:", "OOO back Monday")
    assert abs(profile["status_expiration"] - (now + 2 * 86400)) < 5
    console.send("U2", "C1", "/dnd 90m")
    info = client(fake).dnd_info(user="U2")
    assert info["dnd_enabled"] and info["next_dnd_start_ts"] <= now + 1 < info["next_dnd_end_ts"]
    console.send("U1", "C1", "/status clear")
    console.send("U2", "C1", "/dnd off")
    assert client(fake).users_profile_get(user="U1")["profile"]["status_text"] == ""
    assert client(fake).dnd_info(user="U2")["dnd_enabled"] is False
    assert next(e["text"] for e in fake.ephemerals("U1")).startswith(
        "Your status is :palm_tree: OOO back Monday"
    )
