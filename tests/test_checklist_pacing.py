"""A burst of clicks becomes a few paced `chat.update` calls, and a restart in the middle of a check
loses nothing: the answers are there and the check can be finished."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from typing import Any

from bot.checklist.pacing import Pacer
from handlers.checklist_service import UPDATE_INTERVAL
from localslack import FakeSlack
from storage import checklist as repo
from tests.checklist_driver import SURGE, Driver, all_text
from tests.harness import Seeded

LABELS = {"yes": "Yes", "no": "No", "not_sure": "Not sure"}


async def test_a_burst_of_requests_runs_once_at_once_and_once_after_the_interval() -> None:
    runs: list[float] = []

    async def work(key: str) -> bool:
        runs.append(time.monotonic())
        return True

    pacer: Pacer[str] = Pacer(work, interval=0.2)
    for _ in range(50):
        pacer.request("check-1")
        await asyncio.sleep(0.002)
    await pacer.idle()
    assert len(runs) == 2
    assert runs[1] - runs[0] >= 0.2
    pacer.request("check-2")  # another key is not held back by the first
    await pacer.idle()
    assert len(runs) == 3 and runs[2] - runs[1] < 0.2


async def test_work_that_cannot_run_now_is_tried_again_after_the_interval() -> None:
    answers = iter([False, True])
    runs: list[float] = []

    async def work(key: str) -> bool:
        runs.append(time.monotonic())
        return next(answers)

    pacer: Pacer[str] = Pacer(work, interval=0.05)
    await pacer.request("k")
    await pacer.idle()
    assert len(runs) == 2 and runs[1] - runs[0] >= 0.05


def test_a_burst_of_clicks_becomes_a_few_paced_updates(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    driver = Driver(fake, seeded, make_bot(), fake.actor())
    driver.start()
    surge_ts = driver.message_of("b2c")["ts"]
    people = [seeded.lead, seeded.member, seeded.manager]
    values = ["yes", "no", "not_sure"]

    def clicks(offset: int) -> None:
        for round_ in range(2):
            for i, question_id in enumerate([*SURGE, "giant"]):
                driver.click(people[offset], question_id, values[(i + offset + round_) % 3])
                time.sleep(0.08)  # a burst longer than the interval, so several rounds are paced

    time.sleep(UPDATE_INTERVAL)  # the start's own drawing of the thread is an interval behind us
    started = time.monotonic()
    threads = [threading.Thread(target=clicks, args=(n,)) for n in range(len(people))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    burst = time.monotonic() - started

    def settled() -> bool:
        answers = {a.question_id: a for a in driver.bot.db(repo.load, seeded.team_id, 1).answers}
        return all(
            f"*{LABELS[answers[q].value]}* · <@{answers[q].answered_by}>" in driver.question_text(q)
            for q in [*SURGE, "giant"]
        )

    fake.wait_for(settled, message="the thread shows every last answer")
    time.sleep(UPDATE_INTERVAL * 1.2)  # let any trailing update land before counting
    updates = [c for c in fake.calls("chat.update") if c.args.get("ts") == surge_ts]
    gaps = [b.at - a.at for a, b in itertools.pairwise(updates)]
    print(
        f"\n{3 * 2 * 7} clicks in {burst:.2f}s -> {len(updates)} chat.update calls on that message; gaps {gaps}"
    )
    assert len(updates) <= burst / UPDATE_INTERVAL + 2
    assert all(gap >= UPDATE_INTERVAL * 0.9 for gap in gaps)
    assert not [c for c in fake.calls() if not c.ok]


def test_a_check_survives_a_restart_and_can_be_finished(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    bot = make_bot()
    driver = Driver(fake, seeded, bot, fake.actor())
    driver.start(seeded.lead)
    for question_id in SURGE:
        driver.click(seeded.member, question_id, "yes")
    driver.answer(seeded.manager, "active_users", "40000")
    driver.wait_shown("active_users", "*40,000 users*")

    bot.restart()

    assert len(driver.bot.db(repo.load, seeded.team_id, 1).answers) == 7
    driver.mark_ephemerals_seen(seeded.lead)
    driver.click_root(seeded.lead, "checklist:resume")
    resumed = driver.new_ephemeral(seeded.lead)["text"]
    assert resumed.startswith("10 required questions left in <") and "next: *Could a giant" in resumed
    driver.click(seeded.lead, "giant", "no")
    driver.wait_shown("giant", "*No*")
    assert f"*Yes* · <@{seeded.member}>" in driver.question_text("b2c")
    for question_id, value in {
        "business_goal": "launch",
        "peak_rps": "300",
        "expected_growth": "200",
    }.items():
        driver.answer(seeded.lead, question_id, value)
    for question_id in (
        "ops_lead_asked",
        "load_test",
        "people_spof",
        "manual_process",
        "observability",
        "rollback",
    ):
        driver.click(seeded.lead, question_id, "yes")
    verdict = all_text(driver.verdict())
    assert "Verdict: Prepare for a surge now" in verdict
    assert "*Growth stage: 100K*: planning for 120,000 users (40,000 active now, +200% expected" in verdict
    assert len(fake.messages(seeded.channel)) == 1  # the same thread, before and after the restart


def test_an_update_still_refused_after_the_clients_retries_is_drawn_again(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    driver = Driver(fake, seeded, make_bot(), fake.actor())
    driver.start()
    time.sleep(UPDATE_INTERVAL)
    before = len(fake.calls("chat.update"))
    fake.rate_limit_next("chat.update", retry_after=1, times=4)  # the client gives up after 3 retries

    driver.click(seeded.member, "b2c", "yes")

    fake.wait_for(
        lambda: f"*Yes* · <@{seeded.member}>" in driver.question_text("b2c"),
        timeout=15,
        message="the answer is drawn once Slack lets the update through",
    )
    assert [c.error for c in fake.calls("chat.update")[before:]][:5] == ["ratelimited"] * 4 + [None]
