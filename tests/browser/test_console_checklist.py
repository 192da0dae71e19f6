"""The signal checklist in the local console, in Chromium: what a newcomer does after `scalebot serve`.

A person types `/scale-check`, answers every question in the thread (buttons and modals) and sees the
verdict; a bad number is explained in the modal; a half-answered check is continued after a restart;
and the same answers given through the signed-request test bed store the same results. (The README's
screenshot, `docs/console.png`, is written by `test_console_metrics.py`.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.clock import ManualClock
from bot.local import TEAM_ID, TEAMS
from storage import teams as teams_repo
from storage.checklist import AnswerRow, CheckRow
from tests.browser.harness import MANAGER, PAYMENTS, LocalBot, wait_for
from tests.checklist_driver import NOT_SURGE, SURGE, Driver, pace_quickly

pytestmark = pytest.mark.browser

# A fixed "now" for the screenshot run, so the picture changes only when the console does.
FROZEN = datetime(2026, 3, 2, 8, 14, tzinfo=UTC)
YES_NO = {"yes": "Yes", "no": "No", "not_sure": "Not sure"}
CHOICES = {"business_goal"}
SURGE_ANSWERS = ["yes"] * 6
GIANT = "no"
OVERRIDES = {"for_customer": "Checkout stays fast during the partner launch"}
# Every answer, in the order a person goes down the thread (the optional text before the last
# required answer: once that is in, the check is finished and its buttons are gone).
ORDER = [*SURGE, "giant", "business_goal", "for_customer", *[q for q in NOT_SURGE if q != "business_goal"]]
ANSWERS = {
    q: {**dict(zip(SURGE, SURGE_ANSWERS, strict=True)), "giant": GIANT, **NOT_SURGE, **OVERRIDES}[q]
    for q in ORDER
}
MODAL = {"business_goal", "for_business", "for_customer", "active_users", "peak_rps", "expected_growth"}


@pytest.fixture
def checklist_bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalBot]:
    pace_quickly(monkeypatch)
    bot = LocalBot(f"sqlite:///{tmp_path}/scalebot.sqlite3")
    bot.start()
    yield bot
    bot.close()


def stored(session: Session, workspace_id: str, channel_id: str) -> dict[str, Any]:
    """What the checklist stored for the channel's latest check, without who, when or ids."""
    check = session.exec(
        select(CheckRow)
        .where(col(CheckRow.workspace_id) == workspace_id, col(CheckRow.channel_id) == channel_id)
        .order_by(col(CheckRow.id).desc())
    ).first()
    assert check is not None
    answers = session.exec(select(AnswerRow).where(col(AnswerRow.check_id) == check.id)).all()
    return {
        "team": check.team_name,
        "status": check.status,
        "verdict": check.verdict,
        "score": check.score,
        "band": check.band,
        "playbook": check.playbook_digest,
        "answers": {a.question_id: a.value for a in answers},
    }


def open_console(page: Any, bot: LocalBot) -> None:
    page.goto(f"{bot.url}/console")
    page.wait_for_selector("#composer-input")


def start_check(page: Any) -> Any:
    """Type `/scale-check`; the console opens the check's thread as its parts arrive."""
    page.fill("#composer-input", "/scale-check")
    page.press("#composer-input", "Enter")
    page.locator("#main article.msg", has_text="Scale check for payments").wait_for()
    thread = page.locator("#thread")
    thread.locator('.bk-actions[data-block-id="a:b2c"]').wait_for()
    return thread


def answer(page: Any, question_id: str, value: str) -> None:
    """Answer as a person does: click, then see the answer in the thread before going on. A click that
    lands while the thread is being redrawn (the last answer arriving) can miss its button, as a
    person's would; like a person, the test clicks again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    thread = page.locator("#thread")
    if question_id not in MODAL:
        block = thread.locator(f'.bk-actions[data-block-id="a:{question_id}"]')
        shown = thread.locator(f'.bk-section[data-block-id="q:{question_id}"] .mention')
        for attempt in range(3):
            block.get_by_role("button", name=YES_NO[value], exact=True).click()
            try:
                shown.wait_for(timeout=3000)
                return
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
        return
    modal = page.locator("#modal")
    for attempt in range(3):
        thread.locator(f'.bk-section[data-block-id="q:{question_id}"] button').click()
        try:
            modal.get_by_label("Your answer").wait_for(timeout=3000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    field = modal.get_by_label("Your answer")
    if question_id in CHOICES:
        field.select_option(value)
    else:
        field.fill(value)
    modal.get_by_role("button", name="Save answer").click()
    modal.wait_for(state="hidden")


def answered(page: Any, question_id: str) -> Any:
    """The question's section once it shows who answered."""
    section = page.locator(f'#thread .bk-section[data-block-id="q:{question_id}"]')
    section.locator(".mention").wait_for()
    return section


def run_in_browser(page: Any, bot: LocalBot, screenshot: Path | None = None) -> dict[str, Any]:
    open_console(page, bot)
    thread = start_check(page)
    for question_id, value in ANSWERS.items():
        answer(page, question_id, value)
    verdict = thread.locator("h3.bk-header", has_text="Prepare for a surge now")
    verdict.wait_for(timeout=10000)
    if screenshot is not None:
        verdict.scroll_into_view_if_needed()
        page.locator("#main .msg-body", has_text="Scale check for payments").locator(
            ".bk-header, .bk-text"
        ).first.wait_for()
        page.screenshot(path=str(screenshot))
    return wait_for(lambda: (s := bot.db(stored, TEAM_ID, PAYMENTS))["status"] == "done" and s)


def test_a_newcomer_runs_the_whole_checklist_and_sees_the_verdict_in_the_thread(
    page: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pace_quickly(monkeypatch)
    bot = LocalBot(f"sqlite:///{tmp_path}/scalebot.sqlite3", clock=ManualClock(FROZEN))
    bot.start()
    bot.store._clock = lambda: FROZEN.timestamp()  # message times too, for a stable screenshot
    try:
        page.set_viewport_size({"width": 1440, "height": 900})
        result = run_in_browser(page, bot, screenshot=tmp_path / "checklist.png")
    finally:
        bot.close()
    assert result["verdict"] == "prepare_now" and result["answers"].keys() == ANSWERS.keys()
    assert result["answers"]["active_users"] == "1000" and result["answers"]["b2c"] == "yes"
    thread = page.locator("#thread")
    assert thread.locator("text=Checkout stays fast during the partner launch").first.is_visible()
    assert (tmp_path / "checklist.png").stat().st_size > 20_000


def test_a_bad_number_is_explained_in_the_modal(page: Any, checklist_bot: LocalBot) -> None:
    open_console(page, checklist_bot)
    start_check(page)
    page.locator('#thread .bk-section[data-block-id="q:active_users"] button').click()
    modal = page.locator("#modal")
    modal.get_by_label("Your answer").fill("twelve thousand")
    modal.get_by_role("button", name="Save answer").click()
    error = modal.locator(".bk-error")
    error.wait_for()
    assert "not a number" in error.inner_text()
    assert modal.get_by_label("Your answer").input_value() == "twelve thousand"
    assert checklist_bot.db(stored, TEAM_ID, PAYMENTS)["answers"] == {}
    modal.get_by_label("Your answer").fill("12k")
    modal.get_by_label("Your answer").press("Enter")
    modal.wait_for(state="hidden")
    assert "12,000" in answered(page, "active_users").inner_text()


def test_a_half_answered_check_is_continued_after_a_restart(page: Any, checklist_bot: LocalBot) -> None:
    open_console(page, checklist_bot)
    start_check(page)
    half = list(ANSWERS.items())[:9]
    for question_id, value in half:
        answer(page, question_id, value)
    answered(page, half[-1][0])
    checklist_bot.restart()
    page.reload()  # a newcomer coming back later
    page.locator("#acting-as").select_option(MANAGER)  # someone else carries on
    page.locator("#main button.replies").first.click()
    assert "Ana" in answered(page, "b2c").inner_text()  # what was answered before is still there
    for question_id, value in list(ANSWERS.items())[9:]:
        answer(page, question_id, value)
    page.locator("#thread h3.bk-header", has_text="Prepare for a surge now").wait_for(timeout=10000)
    result = wait_for(lambda: (s := checklist_bot.db(stored, TEAM_ID, PAYMENTS))["status"] == "done" and s)
    assert result["answers"].keys() == ANSWERS.keys()


def test_the_browser_and_the_signed_request_test_bed_store_the_same_results(
    page: Any, checklist_bot: LocalBot, make_bot: Any, fake: Any, seeded: Any
) -> None:
    in_browser = run_in_browser(page, checklist_bot)
    bot = make_bot()
    # The test bed's workspace set up as local mode's first start sets up its own: #payments is "Payments".
    (name,) = [name for channel, name in TEAMS if channel == PAYMENTS]
    setup = {"name": name, "leads": [seeded.lead], "managers": [seeded.manager]}
    bot.db(teams_repo.save_setup, seeded.team_id, seeded.channel, setup, seeded.admin, datetime.now(UTC))
    driver = Driver(fake, seeded, bot, fake.actor())
    driver.start(seeded.lead)
    driver.modal_questions = set(MODAL)
    for question_id, value in ANSWERS.items():  # the same answers, in the same order
        driver.answer(seeded.lead, question_id, value)
    driver.verdict()
    over_http = wait_for(
        lambda: (s := bot.db(stored, seeded.team_id, seeded.channel))["status"] == "done" and s
    )
    assert in_browser == over_http
