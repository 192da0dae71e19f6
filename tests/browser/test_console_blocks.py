"""The console in Chromium with a test-only capability: what a person sees and what their clicks send."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.demo import Recorded
from tests.browser.harness import MEMBER, PAYMENTS, LocalBot, wait_for

pytestmark = pytest.mark.browser


def recorded(bot: LocalBot) -> Recorded:
    assert bot.app is not None
    return bot.app.state.demo


def open_console(page: Any, bot: LocalBot, query: str = "") -> None:
    page.goto(f"{bot.url}/console{query}")
    page.wait_for_selector("#composer-input")


def send(page: Any, text: str) -> None:
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")


def demo_message(page: Any) -> Any:
    send(page, "/scale-check demo")
    message = page.locator("#main article.msg", has_text="Demo: every block")
    message.wait_for()
    return message


def test_every_block_renders_and_each_control_sends_what_slack_sends(page: Any, demo_bot: LocalBot) -> None:
    open_console(page, demo_bot)
    message = demo_message(page)
    expect_visible = [
        "h3.bk-header >> text=Demo: every block",
        "strong >> text=Bold",
        "em >> text=italic",
        "del >> text=struck",
        "code >> text=code",
        "a[href='https://example.org/docs'] >> text=a link",
        ".mention >> text=@Maria",
        ".mention >> text=#search",
        "time >> text=5:30 PM",  # Ana reads the date in Berlin
        ".bk-fields >> text=1,200",
        ".bk-context >> text=and two texts",
        "hr.bk-divider",
        "figure.bk-image >> text=Latency trend",
        ".bk-rich li >> text=second item",
        ".bk-rich blockquote >> text=a quote",
    ]
    for selector in expect_visible:
        assert message.locator(selector).first.is_visible(), selector
    assert "<script>alert(1)</script> & co" in message.inner_text()
    ephemeral = page.locator("#main article.ephemeral", has_text="Only you see this.")
    ephemeral.locator("text=Only visible to you").wait_for()

    message.get_by_role("button", name="Yes").click()
    message.locator("select[data-action-id=demo_pick]").select_option("100K")
    message.locator("details.bk-overflow summary").click()
    message.get_by_role("menuitem", name="Archive").click()
    message.locator(".bk-external-query").fill("qu")
    message.get_by_role("option", name="queue").click()
    message.get_by_role("button", name="Reset").click()
    confirm = page.locator("#confirm")
    assert confirm.locator("text=This clears it.").is_visible()
    confirm.get_by_role("button", name="Yes").click()

    wait_for(lambda: len(recorded(demo_bot).actions) == 5, message="not every control reached the app")
    sent = [
        a.get("value") or (a.get("selected_option") or {}).get("value") for a in recorded(demo_bot).actions
    ]
    assert sent == ["yes", "100K", "archive", "queue", "reset"]
    message.locator("button.replies").click()
    thread = page.locator("#thread")
    thread.locator("text=chose reset with demo_reset").wait_for()
    assert thread.locator("text=Replies go here.").is_visible()


def test_a_modal_shows_the_validation_error_for_a_bad_number_and_saves_a_good_one(
    page: Any, demo_bot: LocalBot
) -> None:
    open_console(page, demo_bot)
    demo_message(page).get_by_role("button", name="Open form").click()
    modal = page.locator("#modal")
    modal.locator("h2 >> text=Demo form").wait_for()
    modal.get_by_label("Name").fill("Checkout")
    modal.get_by_label("Peak requests per second").fill("lots")
    modal.get_by_label("Stage").select_option("10K")
    modal.get_by_label("Component").fill("ca")
    modal.get_by_role("option", name="cache").click()
    modal.get_by_label("Name").press("Enter")  # Enter submits, as in Slack
    error = modal.locator(".bk-error", has_text="Enter a whole number of requests per second")
    error.wait_for()
    assert modal.get_by_label("Name").input_value() == "Checkout"  # typed values survive the error
    assert recorded(demo_bot).submissions == []
    modal.get_by_label("Peak requests per second").fill("1200")
    modal.get_by_role("button", name="Save").click()
    modal.wait_for(state="hidden")
    page.locator("button.replies").click()
    page.locator("#thread >> text=Saved: Checkout, 1200 rps, cache").wait_for()


def test_the_keyboard_works_escape_closes_a_modal_and_focus_returns(page: Any, demo_bot: LocalBot) -> None:
    open_console(page, demo_bot)
    message = demo_message(page)
    opener = message.get_by_role("button", name="Open form")
    opener.focus()
    page.keyboard.press("Enter")
    modal = page.locator("#modal")
    modal.locator("h2 >> text=Demo form").wait_for()
    assert page.evaluate("document.activeElement.closest('#modal') !== null")  # focus moved into it
    page.keyboard.press("Escape")
    modal.wait_for(state="hidden")
    wait_for(lambda: len(recorded(demo_bot).closed) == 1, message="view_closed was not sent")
    # Focus returns once the page has drawn the state after the close (a moment later under load).
    wait_for(
        lambda: page.evaluate("document.activeElement.textContent") == "Open form",
        message="focus did not return to the button that opened the modal",
    )


def test_each_person_sees_their_own_ephemerals_and_home(page: Any, demo_bot: LocalBot) -> None:
    open_console(page, demo_bot)
    demo_message(page)
    page.locator("#acting-as").select_option(MEMBER)
    page.locator("#sidebar .tz >> text=America/New_York").wait_for()
    page.locator("#main >> time >> text=11:30 AM").wait_for()  # Sam reads the same date in New York
    assert page.locator("#main article.ephemeral").count() == 0
    page.locator("#sidebar a[data-surface=home]").click()
    home = page.locator("#main .home")
    # Opening the tab sent app_home_opened to the app, as Slack does, and the app published its Home
    # (which must land before the view published below, or it would replace that one).
    wait_for(
        lambda: (
            (a := demo_bot.local.actor) and a.last_payload.get("event", {}).get("type") == "app_home_opened"
        )
    )
    home.locator(".bk-header").first.wait_for()
    # A view the app publishes later replaces it, and its buttons send block_actions from the view.
    demo_bot.act("send", MEMBER, channel=PAYMENTS, text="/scale-check demo home")
    home.locator("text=this is your Home tab").wait_for()
    home.get_by_role("button", name="Ping").click()
    home.locator("text=Pinged.").wait_for()


def test_a_page_left_open_across_a_restart_carries_on(page: Any, demo_bot: LocalBot) -> None:
    open_console(page, demo_bot)
    message = demo_message(page)
    message.get_by_role("button", name="Yes").click()
    message.locator("button.replies", has_text="2 replies").wait_for()
    demo_bot.restart()
    message.get_by_role("button", name="No").click()
    message.locator("button.replies", has_text="3 replies").wait_for(timeout=10000)
    message.locator("button.replies").click()
    page.locator("#thread >> text=chose no with demo_answer_no").wait_for()
