"""The request path over real signed HTTP, on SQLite and PostgreSQL, with and without Redis."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from handlers.base import Ctx, Listeners
from handlers.router import CommandRouter
from localslack import FakeSlack, signed_headers
from tests.harness import SIGNING_SECRET, BotServer, Seeded, wait_until
from tests.servers import RedisServer


@pytest.fixture(params=["sqlite", "sqlite+redis", "postgres", "postgres+redis"])
def stack(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[dict[str, Any]]:
    db, _, redis = request.param.partition("+")
    values: dict[str, Any] = {
        "database_url": request.getfixturevalue("pg_url")
        if db == "postgres"
        else f"sqlite:///{tmp_path}/s.db"
    }
    if redis:
        server: RedisServer = request.getfixturevalue("redis_server")
        values["redis_url"] = server.url
        values["_redis"] = server
    yield values


@pytest.fixture
def served(make_bot: Any, stack: dict[str, Any]) -> BotServer:
    return make_bot(**{k: v for k, v in stack.items() if not k.startswith("_")})


def count_events(bot: BotServer, event_type: str = "scalebot_probe") -> list[str]:
    """Register a listener on the running bot the way capabilities do; returns what it processed."""
    seen: list[str] = []

    async def probe(ctx: Ctx) -> None:
        seen.append(ctx.body["event_id"])

    Listeners(bot.state.bolt, bot.rt, CommandRouter()).event(event_type, probe)
    return seen


def test_help_answers_within_three_seconds(served: BotServer, fake: FakeSlack, seeded: Seeded) -> None:
    actor = fake.actor()
    started = time.perf_counter()
    response = actor.slash_command(seeded.team_id, seeded.member, seeded.channel, "help")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and elapsed < 3
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "/scale-check help" in json.dumps(body["blocks"])
    assert body["text"].startswith("scalebot commands")
    assert fake.ephemerals(seeded.member)  # shown to the person who asked, only


def test_unknown_subcommand_gets_help_with_the_closest_match(
    served: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    response = fake.actor().slash_command(seeded.team_id, seeded.member, seeded.channel, "hepl me")
    assert "Did you mean /scale-check help?" in response.json()["text"]


def sign(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    return signed_headers(SIGNING_SECRET, body, timestamp=timestamp)


def test_bad_signatures_and_timestamps_are_refused(served: BotServer) -> None:
    body = b"command=%2Fscale-check&text=help&team_id=T0001&user_id=U0MEMBER1&channel_id=C0PAYMENTS"
    url = served.events_url
    good = sign(body)
    forged = dict(good, **{"X-Slack-Signature": "v0=" + "0" * 64})
    assert httpx.post(url, content=body, headers=forged).status_code == 401
    stale_ts = str(int(time.time()) - 6 * 60)
    assert httpx.post(url, content=body, headers=sign(body, stale_ts)).status_code == 401
    non_numeric = dict(good, **{"X-Slack-Request-Timestamp": "yesterday"})
    assert httpx.post(url, content=body, headers=non_numeric).status_code == 401
    # Digits that are not ASCII ("²") and a number too long for int(): a bad signature, never a 500.
    for odd in ("\N{SUPERSCRIPT TWO}".encode("latin-1"), b"1\xb9", b"9" * 4301):
        headers = [(k.encode(), v.encode()) for k, v in good.items() if k != "X-Slack-Request-Timestamp"]
        response = httpx.post(url, content=body, headers=[*headers, (b"X-Slack-Request-Timestamp", odd)])
        assert response.status_code == 401, (odd[:8], response.status_code)
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
    assert httpx.post(url, content=body, headers=unsigned).status_code == 401
    assert httpx.post(url, content=body, headers=good).status_code == 200


def test_a_body_over_one_mebibyte_is_refused_before_parsing(served: BotServer) -> None:
    body = b"payload=" + b"x" * (2 * 1024 * 1024)
    response = httpx.post(served.events_url, content=body, headers=sign(body))
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        b'payload={"type": "block_actions", "actions": [',
        b"payload=%7Bnot json",
        b'{"type": "event_callback", "event": ',
        b"\xff\xfe\x00garbage",
        b"hello=world",
        b"payload=[1, 2, 3]",
        b'payload={"type": "block_actions", "team": "T1", "user": 7, "actions": "x"}',
        b'payload={"type": "view_submission", "view": 5}',
        b'payload={"type": "block_actions", "actions": [{"action_id": 5}]}',
        b'payload={"type": "block_actions", "actions": ["x"]}',
        b'{"type": "event_callback", "event": "x", "event_id": 5}',
        b'{"type": "event_callback", "event": {"type": 7}, "event_id": "Ev1"}',
    ],
)
def test_a_signed_but_malformed_payload_gets_a_4xx(served: BotServer, body: bytes) -> None:
    response = httpx.post(served.events_url, content=body, headers=sign(body))
    assert 400 <= response.status_code < 500, response.text


def test_a_retried_event_is_processed_once(served: BotServer, fake: FakeSlack, seeded: Seeded) -> None:
    seen = count_events(served)
    actor = fake.actor()
    event = {"type": "scalebot_probe", "user": seeded.member, "event_ts": "1.0"}
    for retry in (None, 1, 2, 3):
        assert actor.event(seeded.team_id, event, event_id="Ev0001", retry_num=retry).status_code == 200
    wait_until(lambda: seen)
    time.sleep(0.2)
    assert seen == ["Ev0001"]
    # A retry of an event never seen before (its first delivery was lost) is processed.
    actor.event(seeded.team_id, event, event_id="Ev0002", retry_num=1)
    wait_until(lambda: len(seen) == 2)


@pytest.mark.parametrize("stack", ["sqlite+redis", "postgres+redis"], indirect=True)
def test_retries_are_processed_once_when_redis_dies_mid_test(
    served: BotServer, fake: FakeSlack, seeded: Seeded, stack: dict[str, Any]
) -> None:
    redis: RedisServer = stack["_redis"]
    seen = count_events(served)
    actor = fake.actor()
    event = {"type": "scalebot_probe", "user": seeded.member, "event_ts": "2.0"}
    actor.event(seeded.team_id, event, event_id="Ev0100")
    wait_until(lambda: seen)
    redis.stop()
    try:
        for retry in (1, 2, 3):
            started = time.perf_counter()
            assert actor.event(seeded.team_id, event, event_id="Ev0100", retry_num=retry).status_code == 200
            assert time.perf_counter() - started < 2
        # The bot keeps answering commands with Redis gone.
        assert actor.slash_command(seeded.team_id, seeded.member, seeded.channel, "help").status_code == 200
        assert httpx.get(f"{served.url}/readyz").status_code == 503
    finally:
        redis.start()
    time.sleep(0.2)
    assert seen == ["Ev0100"]
    wait_until(lambda: httpx.get(f"{served.url}/readyz").status_code == 200)


def test_health_readiness_and_metrics(served: BotServer, fake: FakeSlack, seeded: Seeded) -> None:
    assert httpx.get(f"{served.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{served.url}/readyz").json()["status"] == "ready"
    fake.actor().slash_command(seeded.team_id, seeded.member, seeded.channel, "help")
    httpx.post(served.events_url, content=b"x", headers={"X-Slack-Signature": "v0=00"})
    who = {"team": {"id": seeded.team_id}, "user": {"id": seeded.member}, "api_app_id": "A0SCALEBOT"}
    click = {
        "type": "block_actions",
        **who,
        "trigger_id": "1.2.3",
        "actions": [{"action_id": "nobody:listens"}],
    }
    suggest = {
        "type": "block_suggestion",
        **who,
        "action_id": "nobody:listens",
        "block_id": "b",
        "value": "x",
    }
    closed = {
        "type": "view_closed",
        **who,
        "view": {"id": "V1", "type": "modal", "callback_id": "nobody:listens"},
    }
    for payload in (click, suggest, closed):
        body = urlencode({"payload": json.dumps(payload)}).encode()
        httpx.post(served.events_url, content=body, headers=sign(body))
    metrics = httpx.get(f"{served.url}/metrics").text
    for kind in ("action", "options", "view"):
        assert f'scalebot_slack_requests_total{{kind="{kind}",outcome="unhandled"}} 1.0' in metrics
        assert f'scalebot_ack_seconds_count{{kind="{kind}"}} 1.0' in metrics
    assert 'scalebot_slack_requests_total{kind="command",outcome="ok"} 1.0' in metrics
    assert 'scalebot_slack_requests_total{kind="other",outcome="bad_signature"} 1.0' in metrics
    assert 'scalebot_ack_seconds_count{kind="command"} 1.0' in metrics
    assert "scalebot_slack_api_calls_total" in metrics


def test_url_verification_is_answered(served: BotServer, fake: FakeSlack) -> None:
    response = fake.actor().url_verification()
    assert response.status_code == 200


def test_readiness_reports_pending_migrations(served: BotServer) -> None:
    from sqlalchemy import text

    with served.rt.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
    response = httpx.get(f"{served.url}/readyz")
    assert response.status_code == 503
    assert "migrations not at head" in response.json()["reasons"][0]


def test_slack_api_calls_are_counted_and_rate_limits_retried(
    served: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    fake.rate_limit_next("chat.postMessage", retry_after=1, times=1)

    async def post() -> str:
        client = served.rt.slack.client(seeded.bot_token, seeded.team_id)
        response = await client.chat_postMessage(channel=seeded.channel, text="hello")
        return str(response["ts"])

    started = time.perf_counter()
    served.call(post())
    assert time.perf_counter() - started >= 1.0  # waited for Retry-After, then succeeded
    metrics = httpx.get(f"{served.url}/metrics").text
    assert 'scalebot_slack_api_calls_total{error="ok",method="chat.postMessage"} 1.0' in metrics
    assert [m["text"] for m in fake.messages(seeded.channel)] == ["hello"]


def test_a_rate_limit_longer_than_the_bound_is_not_waited_out(
    served: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    from slack_sdk.errors import SlackApiError

    fake.rate_limit_next("chat.postMessage", retry_after=120, times=1)

    async def post() -> None:
        client = served.rt.slack.client(seeded.bot_token, seeded.team_id)
        await client.chat_postMessage(channel=seeded.channel, text="hello")

    started = time.perf_counter()
    with pytest.raises(SlackApiError) as raised:
        served.call(post())
    assert time.perf_counter() - started < 5  # not 120 s: the caller decides (a job retries later)
    assert raised.value.response.status_code == 429
    assert len(fake.calls("chat.postMessage")) == 1 and fake.messages(seeded.channel) == []


@pytest.mark.parametrize("death", ["token_revoked", "account_inactive", "invalid_auth"])
def test_a_dead_token_marks_the_workspace_inactive_without_retrying(
    served: BotServer, fake: FakeSlack, seeded: Seeded, death: str
) -> None:
    from bot.slack_api import WorkspaceInactiveError
    from storage import installations

    if death == "token_revoked":
        fake.revoke_tokens(seeded.team_id)
    elif death == "account_inactive":
        fake.deactivate_workspace(seeded.team_id)
    else:
        fake.fail_next("chat.postMessage", "invalid_auth")

    async def post() -> None:
        client = served.rt.slack.client(seeded.bot_token, seeded.team_id)
        await client.chat_postMessage(channel=seeded.channel, text="hello")

    with pytest.raises(WorkspaceInactiveError):
        served.call(post())
    assert len(fake.calls("chat.postMessage")) == 1
    assert served.db(installations.find_installation, seeded.team_id) is None


def add_subcommand(bot: BotServer, name: str, run: Any) -> None:
    """Register a subcommand on the running bot's router, as a capability module would."""
    from handlers.router import Subcommand

    router = bot.state.router
    router.add(Subcommand(name, "test", "", f"/scale-check {name}", run))


def test_an_unexpected_error_gives_the_person_an_error_id_that_is_in_the_log(
    served: BotServer, fake: FakeSlack, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(ctx: Ctx, args: str) -> None:
        raise RuntimeError("database on fire")

    add_subcommand(served, "explode", explode)
    fake.actor().slash_command(seeded.team_id, seeded.member, seeded.channel, "explode")
    post = fake.wait_for(lambda: fake.response_url_posts())[-1]
    match = re.search(r"error id `([0-9a-f]{8})`", post.body["text"])
    assert match, post.body
    assert post.body["response_type"] == "ephemeral"
    record = next(r for r in caplog.records if getattr(r, "error_id", None) == match.group(1))
    assert "database on fire" in (record.exc_text or "")


def test_a_fixable_error_is_shown_as_its_sentence(served: BotServer, fake: FakeSlack, seeded: Seeded) -> None:
    from bot.errors import UserError

    async def refuse(ctx: Ctx, args: str) -> None:
        raise UserError("Name a team, like `/scale-check metrics payments`.")

    add_subcommand(served, "refuse", refuse)
    fake.actor().slash_command(seeded.team_id, seeded.member, seeded.channel, "refuse")
    post = fake.wait_for(lambda: fake.response_url_posts())[-1]
    assert post.body["text"] == "Name a team, like `/scale-check metrics payments`."


def test_a_refused_modal_submission_shows_its_errors_and_skips_the_after_step(
    served: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    from bot import blocks as bk
    from handlers.base import FieldError

    after_ran: list[str] = []

    async def open_form(ctx: Ctx, args: str) -> None:
        element = {"type": "plain_text_input", "action_id": "value"}
        view = bk.modal("Probe", [bk.input_block("Users", element, block_id="users")], callback_id="probe")
        await ctx.client.views_open(trigger_id=ctx.trigger_id, view=view)

    async def submit(ctx: Ctx, view: dict[str, Any]) -> None:
        value = view["state"]["values"]["users"]["value"]["value"]
        if not value.isdigit():
            raise FieldError("users", "Type a whole number, like 12000.")

    async def after(ctx: Ctx) -> None:
        after_ran.append(ctx.body["view"]["state"]["values"]["users"]["value"]["value"])

    add_subcommand(served, "probe", open_form)
    Listeners(served.state.bolt, served.rt, CommandRouter()).view("probe", submit, after)
    actor = fake.actor()
    actor.slash_command(seeded.team_id, seeded.member, seeded.channel, "probe")
    view_id = fake.wait_for(lambda: fake.views_for(seeded.member))[-1]["id"]
    refused = actor.submit_view(seeded.team_id, seeded.member, view_id, {"users": {"value": "lots"}})
    assert refused.errors == {"users": "Type a whole number, like 12000."}
    accepted = actor.submit_view(seeded.team_id, seeded.member, view_id, {"users": {"value": "12000"}})
    assert accepted.response_action == "close"
    wait_until(lambda: after_ran)
    time.sleep(0.2)
    assert after_ran == ["12000"]


def test_an_event_nothing_listens_to_is_still_acked(
    served: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    response = fake.actor().event(
        seeded.team_id, {"type": "reaction_added", "user": seeded.member}, event_id="Ev77"
    )
    assert response.status_code == 200
    metrics = httpx.get(f"{served.url}/metrics").text
    assert 'scalebot_slack_requests_total{kind="event",outcome="unhandled"} 1.0' in metrics


def test_a_channel_without_the_bot_gets_told_to_invite_it(
    served: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    fake.remove_bot_from(seeded.channel)
    fake.actor().slash_command(seeded.team_id, seeded.member, seeded.channel, "")
    post = fake.wait_for(lambda: fake.response_url_posts())[-1]
    assert "/invite @scalebot" in post.body["text"] and post.body["response_type"] == "ephemeral"
    assert fake.messages(seeded.channel) == []
