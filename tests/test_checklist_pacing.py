"""A burst of clicks becomes a few updates within Slack's budgets, each clicker's message redrawn through
their click's response_url, and a restart in the middle of a check loses nothing: the answers are there
and the check can be finished. (The engine itself: tests/test_redraw.py.)"""

from __future__ import annotations

import threading
import time
from typing import Any

from bot.checklist.service import UPDATE_INTERVAL
from bot.redraw import BUDGET
from localslack import FakeSlack
from storage import checklist as repo
from tests.checklist_driver import SURGE, Driver, all_text
from tests.harness import SIGNING_SECRET, Seeded

LABELS = {"yes": "Yes", "no": "No", "not_sure": "Not sure"}


def test_a_burst_of_clicks_becomes_a_few_updates_within_the_budget(
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
                time.sleep(0.08)

    time.sleep(0.5)  # the start's own drawing of the thread is behind us
    hooks_before = len(fake.response_url_posts())
    updates_before = len(fake.calls("chat.update"))
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
    time.sleep(0.5)  # let any trailing update land before counting
    updates = fake.calls("chat.update")[updates_before:]
    on_surge = [c for c in updates if c.args.get("ts") == surge_ts]
    hooks = fake.response_url_posts()[hooks_before:]
    clicks = 3 * 2 * 7
    print(
        f"\n{clicks} clicks in {burst:.2f}s -> {len(on_surge)} chat.update calls on that message, "
        f"{len(updates)} in all, {len(hooks)} through response_urls"
    )
    assert len(on_surge) + len(hooks) < clicks  # coalesced: fewer redraws than clicks
    assert hooks and all(p.ok for p in hooks)  # clickers' messages redrawn through their response_urls
    assert len(updates) <= BUDGET.burst + BUDGET.per_minute * burst / 60 + 1
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
    time.sleep(UPDATE_INTERVAL * 5)
    before = len(fake.calls("chat.update"))
    fake.rate_limit_next("chat.update", retry_after=1, times=4)  # the client gives up after 3 retries

    driver.answer(seeded.member, "active_users", "40000")  # a modal's answer has no response_url

    fake.wait_for(
        lambda: "*40,000 users*" in driver.question_text("active_users"),
        timeout=15,
        message="the answer is drawn once Slack lets the update through",
    )
    assert [c.error for c in fake.calls("chat.update")[before:]][:5] == ["ratelimited"] * 4 + [None]


def test_two_replicas_sharing_redis_draw_every_click_without_a_429(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, redis_url: str
) -> None:
    replicas = [make_bot(redis_url=redis_url), make_bot(redis_url=redis_url)]
    driver = Driver(fake, seeded, replicas[0], fake.actor())
    fake.configure_app(request_url=replicas[0].events_url, signing_secret=SIGNING_SECRET)
    driver.actor = fake.actor()
    driver.start()
    people = [seeded.lead, seeded.member, seeded.manager]
    questions = [*SURGE, "giant"]
    for n in range(2 * len(questions)):  # clicks alternate between the replicas, as a load balancer would
        replica = replicas[n % 2]
        fake.configure_app(request_url=replica.events_url, signing_secret=SIGNING_SECRET)
        driver.actor = fake.actor()
        driver.click(people[n % 3], questions[n % len(questions)], ["yes", "no", "not_sure"][n % 3])

    def settled() -> bool:
        answers = {a.question_id: a for a in driver.bot.db(repo.load, seeded.team_id, 1).answers}
        return len(answers) == len(questions) and all(
            f"*{LABELS[answers[q].value]}* · <@{answers[q].answered_by}>" in driver.question_text(q)
            for q in questions
        )

    fake.wait_for(
        settled, timeout=15, message="the thread shows every last answer, whichever replica drew it"
    )
    assert not [c for c in fake.calls() if not c.ok]
    assert fake.response_url_posts() and all(p.ok for p in fake.response_url_posts())
