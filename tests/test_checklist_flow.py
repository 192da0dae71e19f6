"""The signal checklist end to end over real signed HTTP: start, answer every question with buttons and
the modal, watch the thread update in place, get the verdict, share it, read it back from history."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from bot.config import AppConfig, TeamConfig, WorkspaceConfig
from localslack import FakeSlack
from storage import checklist as repo
from tests.checklist_driver import SURGE, Driver, all_text, pace_quickly
from tests.harness import Seeded


@pytest.fixture(autouse=True)
def _quick_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    pace_quickly(monkeypatch)


PAYMENTS = AppConfig(teams=[TeamConfig(name="Payments", channel="C0PAYMENTS", managers=["U0MGR1"])])


@pytest.fixture
def driver(make_bot: Any, fake: FakeSlack, seeded: Seeded) -> Driver:
    return Driver(fake, seeded, make_bot(config=PAYMENTS), fake.actor())


def updates_showing(fake: FakeSlack, *needles: str) -> list[str]:
    """The `blocks` of every chat.update call that shows all the needles."""
    shown = [json.dumps(c.args.get("blocks"), ensure_ascii=False) for c in fake.calls("chat.update") if c.ok]
    return [b for b in shown if all(n in b for n in needles)]


def test_a_check_runs_from_the_command_to_the_verdict_and_into_history(
    driver: Driver, fake: FakeSlack
) -> None:
    s = driver.seeded
    driver.start(s.lead)
    root = driver.root()
    assert root["text"] == f"Scale check for Payments, started by <@{s.lead}>"
    assert [m["blocks"][0]["text"]["text"] for m in driver.thread()] == [
        "Surge signals",
        "Business alignment",
        "Growth stage",
        "Scalability audit",
    ]
    # Anyone in the channel answers; each answer says who and when.
    driver.click(s.member, "b2c", "yes")
    shown = driver.wait_shown("b2c", f"*Yes* · <@{s.member}> · <!date^")
    assert "_Not answered yet_" not in shown
    for question_id in SURGE[1:]:
        driver.click(s.lead2, question_id, "yes")
    driver.click(s.lead, "giant", "no")
    driver.answer(s.manager, "business_goal", "acquire")
    driver.answer(s.lead, "for_business", "20% more customers next quarter")
    for question_id, value in {"ops_lead_asked": "yes", "load_test": "no", "people_spof": "yes"}.items():
        driver.click(s.lead, question_id, value)
    driver.click(s.lead, "manual_process", "yes")
    driver.click(s.lead, "observability", "not_sure")
    driver.click(s.lead, "rollback", "yes")
    driver.answer(s.lead3, "active_users", "1,000")
    driver.answer(s.lead3, "peak_rps", "120")
    driver.answer(s.lead3, "expected_growth", "50")

    verdict = driver.verdict()
    text = all_text(verdict)
    assert verdict["blocks"][0]["text"]["text"] == "Verdict: Prepare for a surge now"
    assert "Score *100%*" in text
    assert (
        "*Growth stage: 1K*: planning for 1,500 users (1,000 active now, +50% expected over the next quarter)"
        in text
    )
    assert "load test at 600–1,200 req/s" in text
    assert "*One step ahead: for 10K*" in text and "Database indexing and query optimization" in text
    assert "_(“Scaling from 100 to 100,000 Users: What Changes”)_" in text
    assert "Sharding before evidence" in text
    assert "Acquire more customers" in text and "20% more customers next quarter" in text
    assert "Run a load test at 5–10x of peak" in text and "metrics (latency, error rate)" in text
    # The messages were updated in place, showing the answers and who gave them.
    assert updates_showing(fake, "q:b2c", f"*Yes* · <@{s.member}>")
    assert updates_showing(fake, "q:active_users", "*1,000 users* · <@U0LEAD3>")
    assert len(fake.messages(s.channel)) == 1  # nothing re-posted to the channel

    # The root sums it up with a share button; answers are closed in the thread.
    fake.wait_for(lambda: "Share to channel" in all_text(driver.root()), message="the summary on the root")
    assert "*Prepare for a surge now* (score 100%) · stage *1K*" in all_text(driver.root())
    fake.wait_for(lambda: all(b["type"] != "actions" for m in driver.thread() for b in m["blocks"]))
    assert "Finished <!date^" in all_text(driver.thread()[0])

    # Stored: every answer with who and when, and the verdict.
    loaded = driver.bot.db(repo.load, s.team_id, 1)
    assert (
        loaded.check.status == "done" and loaded.check.verdict == "prepare_now" and loaded.check.band == "1K"
    )
    by_question = {a.question_id: a for a in loaded.answers}
    assert len(by_question) == 18 and by_question["b2c"].answered_by == s.member
    assert by_question["active_users"].value == "1000" and by_question["active_users"].answered_by == s.lead3

    history = driver.history(s.member)
    listing = all_text(history)
    assert "Scale checks for Payments" in listing
    assert f"started by <@{s.lead}>: *Prepare for a surge now* (score 100%) · stage *1K*" in listing
    assert "|thread>" in listing
    assert not [c for c in fake.calls() if not c.ok], "Slack refused a message or a view"


@pytest.mark.parametrize(
    ("surge", "giant", "headline", "also"),
    [
        (["yes"] * 6, "yes", "Verdict: Prepare, reversibly", "rented capacity over bought"),
        (["yes", "yes", "no", "no", "no", "no"], "not_sure", "Verdict: Relax", "Score *33%*"),
        (["yes", "not_sure", "yes", "yes", "not_sure", "yes"], "no", "Verdict: Undecided", "(ask marketing)"),
    ],
    ids=["all yes, giant yes", "two yes", "unsure, the rest yes"],
)
def test_truth_table_rows_end_to_end(
    driver: Driver, surge: list[str], giant: str, headline: str, also: str
) -> None:
    driver.start()
    driver.answer_all(surge, giant)
    verdict = driver.verdict()
    assert verdict["blocks"][0]["text"]["text"] == headline
    assert also in all_text(verdict)
    if headline == "Verdict: Undecided":
        assert "Does the company practice product-led growth? (ask the operations lead)" in all_text(verdict)


def test_a_second_scale_check_points_to_the_open_one_unless_new(driver: Driver, fake: FakeSlack) -> None:
    s = driver.seeded
    first = driver.start(s.lead)
    driver.click(s.lead, "b2c", "yes")
    driver.wait_shown("b2c", "*Yes*")
    driver.mark_ephemerals_seen(s.member)
    driver.actor.slash_command(s.team_id, s.member, s.channel, "")
    pointer = all_text(driver.new_ephemeral(s.member))
    assert f"There is already an open scale check in this channel, started by <@{s.lead}>" in pointer
    assert "1 of 17 required answers are in" in pointer and "`/scale-check new`" in pointer
    assert len(fake.messages(s.channel)) == 1
    second = driver.start(s.member, "new")
    assert second != first and len(fake.messages(s.channel)) == 2


def test_only_the_starter_managers_and_admins_may_cancel(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    s = seeded
    config = AppConfig(teams=PAYMENTS.teams, workspaces={s.team_id: WorkspaceConfig(admins=["U0LEAD3"])})
    driver = Driver(fake, s, make_bot(config=config), fake.actor())
    driver.start(s.lead)
    driver.click_root(s.member, "checklist:cancel")
    refusal = driver.new_ephemeral(s.member)["text"]
    assert refusal == (
        f"Only <@{s.lead}> (who started it), the team's managers (<@{s.manager}>) or a workspace admin "
        "can cancel this check."
    )
    assert "Resume" in all_text(driver.root())

    driver.mark_ephemerals_seen(s.manager)
    driver.actor.slash_command(s.team_id, s.manager, s.channel, "cancel")
    assert "Cancelled the scale check" in driver.new_ephemeral(s.manager)["text"]
    fake.wait_for(lambda: f"Cancelled by <@{s.manager}>" in all_text(driver.root()), message="cancelled root")
    fake.wait_for(lambda: all(b["type"] != "actions" for m in driver.thread() for b in m["blocks"]))
    assert "Cancelled by" in all_text(driver.thread()[0])

    for who in (s.admin, "U0LEAD3"):  # a Slack admin, and an admin named in the config file
        driver.start(s.member, "new")
        driver.click_root(who, "checklist:cancel")
        fake.wait_for(
            lambda who=who: f"Cancelled by <@{who}>" in all_text(driver.root()), message=f"{who} cancels"
        )
    listing = all_text(driver.history(s.lead))
    assert listing.count("cancelled by") == 3


def test_the_summary_is_shared_to_the_channel_once(driver: Driver, fake: FakeSlack) -> None:
    s = driver.seeded
    driver.start()
    driver.answer_all(["no"] * 6, "no")
    driver.verdict()
    fake.wait_for(lambda: "Share to channel" in all_text(driver.root()))
    clickers = [s.member, s.manager]
    barrier = threading.Barrier(len(clickers))

    def share(user: str) -> None:
        barrier.wait()
        driver.click_root(user, "checklist:share")

    threads = [threading.Thread(target=share, args=(u,)) for u in clickers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fake.wait_for(lambda: len(fake.messages(s.channel)) == 2, message="the shared summary in the channel")
    shared = fake.messages(s.channel)[1]
    assert "*Relax* (score 0%) · stage *1K*" in all_text(shared)
    fake.wait_for(lambda: "Shared to the channel by" in all_text(driver.root()))
    assert "Share to channel" not in all_text(driver.root())
    refused = fake.wait_for(
        lambda: [e for u in clickers for e in fake.ephemerals(u) if "already shared" in e["text"]],
        message="the second click told it was shared",
    )
    assert len(refused) == 1 and len(fake.messages(s.channel)) == 2
