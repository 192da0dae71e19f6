"""The redraw engine: the first drawing at once, a burst coalesced, the last state always drawn, the
chat.update budget kept against the local Slack that enforces Slack's, a click's response_url used for
the message clicked, and two replicas sharing Redis drawing one key one at a time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.redraw import Buckets, Budget, Redraw, Updater
from bot.slack_api import InstrumentedWebClient
from localslack import FakeSlack, RateLimit
from storage.cache import MemoryCache, RedisCache
from tests.harness import Seeded


class Board:
    """Stored state: a counter per key, and what each drawing saw."""

    def __init__(self) -> None:
        self.value: dict[str, int] = {}
        self.drawn: list[tuple[str, int, float]] = []
        self.running = 0
        self.overlapped = False

    async def draw(self, key: str, updater: Updater) -> None:
        self.running += 1
        self.overlapped |= self.running > 1
        seen = self.value.get(key, 0)
        await asyncio.sleep(0.02)  # a drawing takes a moment: requests meanwhile must coalesce
        self.drawn.append((key, seen, time.monotonic()))
        self.running -= 1


def engine(board: Board, cache: Any = None, gap: float = 0.0, name: str = "test") -> Redraw[str]:
    async def no_client(workspace_id: str) -> Any:
        return None

    return Redraw(
        name, cache or MemoryCache(), board.draw, client_for=no_client, workspace_of=lambda k: "T1", gap=gap
    )


async def test_the_first_request_is_drawn_at_once() -> None:
    board = Board()
    redraw = engine(board, gap=5.0)
    asked = time.monotonic()
    await redraw.request("check-1")
    assert len(board.drawn) == 1 and board.drawn[0][2] - asked < 0.5  # not a gap of 5 s later


async def test_a_burst_is_coalesced_and_the_last_state_is_drawn() -> None:
    board = Board()
    redraw = engine(board, gap=0.05)
    for n in range(1, 51):
        board.value["check-1"] = n
        redraw.request("check-1")
        await asyncio.sleep(0.002)
    await redraw.idle()
    assert 2 <= len(board.drawn) < 25  # a drawing per gap, not one per request
    assert board.drawn[-1][1] == 50  # the last drawing saw the last state
    assert not board.overlapped
    redraw.request("check-2")  # another key is not held back by the first
    await redraw.idle()
    assert board.drawn[-1][0] == "check-2"


async def test_a_drawing_waits_for_another_replicas_and_then_draws_the_newer_state(redis_url: str) -> None:
    board = Board()
    reading, release = asyncio.Event(), asyncio.Event()
    plain = board.draw

    async def first_draw_holds(key: str, updater: Updater) -> None:
        if not reading.is_set():  # the first drawing has read the state and is still sending it
            board.drawn.append((key, board.value.get(key, 0), time.monotonic()))
            reading.set()
            await release.wait()
            return
        await plain(key, updater)

    board.draw = first_draw_holds  # type: ignore[method-assign]
    one, two = RedisCache(redis_url), RedisCache(redis_url)
    first, second = engine(board, one), engine(board, two)
    try:
        board.value["k"] = 1
        first.request("k")
        await reading.wait()  # the first replica holds the key's lock and is drawing state 1
        board.value["k"] = 2
        second.request("k")
        await asyncio.sleep(0.3)
        assert len(board.drawn) == 1  # the second replica waits for the lock rather than overlapping
        release.set()
        await asyncio.gather(first.idle(), second.idle())
        assert [seen for _, seen, _ in board.drawn] == [1, 2]  # then draws, so the newer state lands last
    finally:
        await one.close()
        await two.close()


async def test_the_budget_is_shared_by_replicas_through_redis(redis_url: str) -> None:
    budget = Budget(per_minute=60, burst=3)
    one, two = RedisCache(redis_url), RedisCache(redis_url)
    try:
        a, b = Buckets(one, budget), Buckets(two, budget)
        started = time.monotonic()
        for buckets in (a, b, a):
            await buckets.take("T1")
        assert time.monotonic() - started < 0.5  # the burst is there at once
        await b.take("T1")  # the fourth waits for a token (one a second), on either replica
        assert time.monotonic() - started >= 0.8
    finally:
        await one.close()
        await two.close()


def _client(fake: FakeSlack, seeded: Seeded) -> InstrumentedWebClient:
    return InstrumentedWebClient(token=seeded.bot_token, base_url=fake.api_url, team_id=seeded.team_id)


def test_updates_stay_within_the_budget_the_local_slack_enforces(fake: FakeSlack, seeded: Seeded) -> None:
    fake.set_update_limit(RateLimit(per_minute=60, burst=4))  # tighter than Slack's, to be quick
    ts = _post(fake, seeded, "0")
    drawn: list[int] = []

    async def run() -> None:
        client = _client(fake, seeded)

        async def client_for(workspace_id: str) -> InstrumentedWebClient:
            return client

        async def draw(key: str, updater: Updater) -> None:
            n = len(drawn) + 1
            await updater.update(seeded.channel, ts, {"text": f"drawing {n}"})
            drawn.append(n)

        redraw: Redraw[str] = Redraw(
            "budget",
            MemoryCache(),
            draw,
            client_for=client_for,
            workspace_of=lambda k: seeded.team_id,
            buckets=Buckets(MemoryCache(), Budget(per_minute=60, burst=3)),
        )
        for _ in range(6):  # six drawings in a row: three at once, then one a second
            await redraw.request("k")

    started = time.monotonic()
    asyncio.run(run())
    assert time.monotonic() - started >= 2.5
    updates = fake.calls("chat.update")
    assert len(updates) == 6 and all(c.ok for c in updates)  # no 429: the engine waited instead
    assert fake.message(seeded.channel, ts)["text"] == "drawing 6"  # type: ignore[index]


def test_the_message_clicked_is_redrawn_through_the_clicks_response_url(
    fake: FakeSlack, seeded: Seeded
) -> None:
    ts = _post(fake, seeded, "before")
    hook = fake.new_response_url(seeded.team_id, seeded.member, seeded.channel, message_ts=ts)
    other = _post(fake, seeded, "other")
    sent: list[list[str]] = []

    async def run() -> None:
        client = _client(fake, seeded)

        async def client_for(workspace_id: str) -> InstrumentedWebClient:
            return client

        async def draw(key: str, updater: Updater) -> None:
            await updater.update(seeded.channel, ts, {"text": f"clicked {len(sent)}"})
            await updater.update(seeded.channel, other, {"text": f"other {len(sent)}"})
            sent.append(updater.sent)

        redraw: Redraw[str] = Redraw(
            "hooks", MemoryCache(), draw, client_for=client_for, workspace_of=lambda k: seeded.team_id
        )
        await redraw.request("k", ts=ts, response_url=hook)
        await redraw.request("k")  # no click: the message clicked goes through chat.update again

    asyncio.run(run())
    assert sent == [["response_url", "chat.update"], ["chat.update", "chat.update"]]
    assert fake.message(seeded.channel, ts)["text"] == "clicked 1"  # type: ignore[index]
    assert [p.ok for p in fake.response_url_posts()] == [True]


def test_a_used_up_response_url_falls_back_to_chat_update(fake: FakeSlack, seeded: Seeded) -> None:
    ts = _post(fake, seeded, "before")
    hook = fake.new_response_url(seeded.team_id, seeded.member, seeded.channel, message_ts=ts)
    fake.advance_time(31 * 60)  # expired: Slack's response_url lasts 30 minutes
    sent: list[str] = []

    async def run() -> None:
        client = _client(fake, seeded)

        async def client_for(workspace_id: str) -> InstrumentedWebClient:
            return client

        async def draw(key: str, updater: Updater) -> None:
            await updater.update(seeded.channel, ts, {"text": "after"})
            sent.extend(updater.sent)

        redraw: Redraw[str] = Redraw(
            "expired", MemoryCache(), draw, client_for=client_for, workspace_of=lambda k: seeded.team_id
        )
        await redraw.request("k", ts=ts, response_url=hook)

    asyncio.run(run())
    assert sent == ["chat.update"]
    assert [p.error for p in fake.response_url_posts()] == ["expired_url"]
    assert fake.message(seeded.channel, ts)["text"] == "after"  # type: ignore[index]


def _post(fake: FakeSlack, seeded: Seeded, text: str) -> str:
    async def post() -> str:
        posted = await _client(fake, seeded).chat_postMessage(channel=seeded.channel, text=text)
        return str(posted["ts"])

    return asyncio.run(post())
