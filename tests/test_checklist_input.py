"""Bad input and awkward timing: text in a number field, absurd numbers, the same click twice, two people
at the same instant, answers to finished, cancelled, unknown checks, and buttons a playbook change left stale."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.checklist import loader
from bot.config import AppConfig, TeamConfig
from common.clock import ManualClock
from localslack import FakeSlack
from storage import checklist as repo
from tests.checklist_driver import Driver, all_text, pace_quickly
from tests.harness import Seeded


@pytest.fixture(autouse=True)
def _quick_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    pace_quickly(monkeypatch)


def driver_for(make_bot: Any, fake: FakeSlack, seeded: Seeded, **bot_args: Any) -> Driver:
    return Driver(fake, seeded, make_bot(**bot_args), fake.actor())


def stored(driver: Driver, check_id: int = 1) -> dict[str, repo.AnswerRow]:
    loaded = driver.bot.db(repo.load, driver.seeded.team_id, check_id)
    return {a.question_id: a for a in loaded.answers}


def test_a_number_field_refuses_text_and_absurd_numbers_in_the_modal(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    driver = driver_for(make_bot, fake, seeded)
    driver.start()
    view = driver.open_modal(seeded.member, "active_users")
    for raw, sentence in [
        ("twelve thousand", "“twelve thousand” is not a number. Type digits only, for example 12000"),
        ("-5", "-5 is negative; enter 0 or more."),
        ("9,000,000,000", "That is more users than there are people on Earth (about 8.2 billion)."),
        ("12.5", "Enter a whole number; 12.5 has a fraction."),
    ]:
        refused = driver.submit(seeded.member, view, raw)
        assert refused.response_action == "errors"
        assert refused.errors is not None and sentence in refused.errors["answer"]
        assert fake.is_open(view)
    assert "active_users" not in stored(driver)
    accepted = driver.submit(seeded.member, view, "12k")
    assert accepted.response_action == "close"
    driver.wait_shown("active_users", f"*12,000 users* · <@{seeded.member}>")
    # Changing it later starts from what is stored, and says who answered last.
    again = fake.view(driver.open_modal(seeded.lead, "active_users"))
    assert again is not None
    assert again["blocks"][-1]["element"]["initial_value"] == "12,000"
    assert f"Last answered by <@{seeded.member}>" in all_text(again)
    growth = driver.open_modal(seeded.lead, "expected_growth")
    refused = driver.submit(seeded.lead, growth, "-150")
    assert refused.errors == {"answer": "-150 is too small; enter -100 or more."}


def test_the_same_click_twice_changes_nothing_and_a_later_click_wins(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    driver = driver_for(make_bot, fake, seeded, clock=clock)
    driver.start()
    driver.click(seeded.lead, "b2c", "yes")
    first = driver.wait_shown("b2c", f"*Yes* · <@{seeded.lead}>")
    clock.advance(timedelta(minutes=5))
    driver.click(seeded.lead, "b2c", "yes")  # the same payload again
    driver.click(seeded.member, "lining_up", "no")
    driver.wait_shown("lining_up", "*No*")
    answers = stored(driver)
    assert answers["b2c"].answered_at.replace(tzinfo=UTC) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert driver.question_text("b2c") == first
    clock.advance(timedelta(minutes=5))
    driver.click(seeded.member, "b2c", "no")
    driver.wait_shown("b2c", f"*No* · <@{seeded.member}>")
    answers = stored(driver)
    assert (answers["b2c"].value, answers["b2c"].answered_by) == ("no", seeded.member)
    assert answers["b2c"].answered_at.replace(tzinfo=UTC) == datetime(2026, 3, 2, 9, 10, tzinfo=UTC)


def test_two_people_clicking_at_the_same_instant_leave_one_answer_that_the_thread_shows(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    driver = driver_for(make_bot, fake, seeded)
    driver.start()
    clicks = [(seeded.lead, "yes"), (seeded.member, "no"), (seeded.manager, "not_sure")]
    for _ in range(3):
        barrier = threading.Barrier(len(clicks))

        def click(user: str, value: str, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            driver.click(user, "media_coverage", value)

        threads = [threading.Thread(target=click, args=c) for c in clicks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    fake.wait_for(lambda: "media_coverage" in stored(driver))
    labels = {"yes": "Yes", "no": "No", "not_sure": "Not sure"}

    def consistent() -> bool:
        answer = stored(driver)["media_coverage"]
        return f"*{labels[answer.value]}* · <@{answer.answered_by}>" in driver.question_text("media_coverage")

    fake.wait_for(consistent, message="the thread shows the answer that was stored last")
    loaded = driver.bot.db(repo.load, seeded.team_id, 1)
    assert [a.question_id for a in loaded.answers] == ["media_coverage"]


def test_answers_to_a_finished_check_are_refused_with_a_sentence(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    driver = driver_for(make_bot, fake, seeded)
    driver.start()
    late_form = driver.open_modal(seeded.member, "for_customer")  # opened before the check finishes
    # Slack keeps failing the updates, so the finished thread still shows its buttons.
    fake.fail_next("chat.update", "internal_error", times=1000)
    driver.answer_all(["no"] * 6, "no")
    driver.verdict()
    refused = driver.submit(seeded.member, late_form, "It would be faster")
    assert refused.errors == {
        "answer": "This scale check finished and its verdict is in the thread, so its answers are closed. "
        "Run /scale-check new to start a new one."
    }
    driver.mark_ephemerals_seen(seeded.member)
    driver.click(seeded.member, "b2c", "yes")
    told = driver.new_ephemeral(seeded.member)["text"]
    assert told.startswith("This scale check finished <!date^") and "`/scale-check new`" in told
    assert stored(driver)["b2c"].value == "no"
    # Once Slack works again, the leftover buttons go at the next touch (its redraw queues behind the
    # ones that failed meanwhile: seconds under a parallel run's load).
    fake.clear_faults()
    driver.click_root(seeded.member, "checklist:resume")
    fake.wait_for(
        lambda: all(b["type"] != "actions" for m in driver.thread() for b in m["blocks"]), timeout=20
    )
    fake.wait_for(lambda: "Share to channel" in all_text(driver.root()), timeout=20)


def test_answers_to_a_cancelled_check_are_refused_in_the_modal(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    driver = driver_for(make_bot, fake, seeded)
    driver.start(seeded.lead)
    form = driver.open_modal(seeded.member, "peak_rps")
    driver.click_root(seeded.lead, "checklist:cancel")
    fake.wait_for(lambda: "Cancelled by" in all_text(driver.root()))
    refused = driver.submit(seeded.member, form, "120")
    assert refused.errors == {
        "answer": "This scale check was cancelled, so its answers are closed. Run /scale-check new to start a new one."
    }
    assert stored(driver) == {}


def test_a_button_of_an_unknown_check_gets_a_sentence(make_bot: Any, fake: FakeSlack, seeded: Seeded) -> None:
    driver = driver_for(make_bot, fake, seeded)
    driver.start()
    driver.bot.db(repo.discard_check, seeded.team_id, 1)
    driver.mark_ephemerals_seen(seeded.member)
    driver.click(seeded.member, "b2c", "yes")
    assert driver.new_ephemeral(seeded.member)["text"] == (
        "I can't find that scale check; it may have been removed. Run /scale-check to start one."
    )


def edited_playbook(path: Path, edit: Any) -> None:
    data = yaml.safe_load((loader.BUILTIN_DIR / "default.yaml").read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def drill_instead_of_manual_process(data: dict[str, Any]) -> None:
    audit = data["parts"][3]["questions"]
    audit[:] = [q for q in audit if q["id"] != "manual_process"]
    audit.append({"id": "incident_drill", "text": "Have you run an incident drill this quarter?"})


def test_buttons_left_stale_by_a_playbook_change_are_refused_and_the_thread_redrawn(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, tmp_path: Path
) -> None:
    path = tmp_path / "payments.yaml"
    edited_playbook(path, lambda data: None)
    config = AppConfig(teams=[TeamConfig(name="Payments", channel=seeded.channel, playbook=str(path))])
    driver = driver_for(make_bot, fake, seeded, config=config)
    driver.start()
    driver.click(seeded.lead, "b2c", "yes")
    driver.click(seeded.lead, "manual_process", "yes")
    driver.wait_shown("manual_process", "*Yes*")
    stale_ts = driver.message_of("manual_process")["ts"]

    edited_playbook(path, drill_instead_of_manual_process)
    driver.mark_ephemerals_seen(seeded.member)
    response = driver.actor.click(
        seeded.team_id,
        seeded.member,
        seeded.channel,
        stale_ts,
        "checklist:set:no",
        block_id="a:manual_process",
    )
    assert response.status_code == 200
    assert driver.new_ephemeral(seeded.member)["text"].startswith(
        "That question is no longer in this team's checklist: its playbook changed"
    )
    fake.wait_for(lambda: "q:incident_drill" in all_text(driver.thread()[3]), message="the redrawn audit")
    assert "q:manual_process" not in all_text(driver.thread()[3])
    assert "*Yes* · <@U0LEAD1>" in driver.question_text("b2c")  # answers that still fit are kept
    driver.click(seeded.member, "incident_drill", "no")
    driver.wait_shown("incident_drill", "*No*")
    check = driver.bot.db(repo.get_check, seeded.team_id, 1)
    assert check.playbook_digest == loader.load(str(path), tmp_path).digest


def test_subcommands_take_no_arguments_and_say_so(make_bot: Any, fake: FakeSlack, seeded: Seeded) -> None:
    driver = driver_for(make_bot, fake, seeded)
    response = driver.actor.slash_command(seeded.team_id, seeded.member, seeded.channel, "history everything")
    assert "`/scale-check history` takes no arguments." in response.json()["text"]


def test_a_check_in_a_channel_without_the_bot_says_how_to_invite_it(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    driver = driver_for(make_bot, fake, seeded)
    fake.remove_bot_from(seeded.channel)
    driver.actor.slash_command(seeded.team_id, seeded.member, seeded.channel, "")
    told = driver.new_ephemeral(seeded.member)["text"]
    assert "Invite me with `/invite @scalebot`" in told
    assert driver.bot.db(repo.history, seeded.team_id, seeded.channel, 10) == []


def test_history_counts_only_answers_to_questions_still_in_the_checks_playbook(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, tmp_path: Path
) -> None:
    path = tmp_path / "payments.yaml"
    edited_playbook(path, lambda data: None)
    config = AppConfig(teams=[TeamConfig(name="Payments", channel=seeded.channel, playbook=str(path))])
    driver = driver_for(make_bot, fake, seeded, config=config)
    driver.start()
    driver.click(seeded.lead, "b2c", "yes")
    driver.click(seeded.lead, "manual_process", "yes")
    driver.wait_shown("manual_process", "*Yes*")
    edited_playbook(path, drill_instead_of_manual_process)  # 19 questions still, one of them new
    driver.click(seeded.member, "product_led", "no")  # the check moves to the edited playbook
    driver.wait_shown("product_led", "*No*")
    assert set(stored(driver)) == {"b2c", "manual_process", "product_led"}  # the old answer is kept…

    driver.mark_ephemerals_seen(seeded.member)
    driver.actor.slash_command(seeded.team_id, seeded.member, seeded.channel, "history")
    listing = driver.new_ephemeral(seeded.member)
    assert "open: 2 of 19 answered" in all_text(listing)  # …but no longer counts
