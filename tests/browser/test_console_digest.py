"""The digest in the console: the digest channel shows the scale readiness canvas as a tab beside its
messages, with every team's row in a table, and a manager's own digest is in their messages with the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import MANAGER, MANAGERS, PAYMENTS, LocalBot

pytestmark = pytest.mark.browser


def test_the_canvas_tab_shows_every_team_and_the_manager_has_their_digest(page: Any, tmp_path: Path) -> None:
    bot = LocalBot(f"sqlite:///{tmp_path}/digest.sqlite3")
    bot.start()
    try:
        page.goto(f"{bot.url}/console?user={MANAGER}&channel={PAYMENTS}")
        page.wait_for_selector("#composer-input")
        page.fill("#composer-input", "/scale-check digest now")
        page.press("#composer-input", "Enter")
        page.locator("#main article.ephemeral", has_text="this week's digest in").wait_for(timeout=60000)

        page.goto(f"{bot.url}/console?user={MANAGER}&channel={MANAGERS}")
        tab = page.locator(".channel-tabs a[data-surface=canvas]")
        tab.wait_for()
        assert "Scale readiness" in tab.inner_text()
        tab.click()
        table = page.locator("#main article.canvas table")
        table.wait_for()
        assert page.locator("#main article.canvas h1").inner_text() == "Scale readiness"
        headers = page.locator("#main article.canvas th").all_inner_texts()
        assert headers[:4] == ["Team", "Verdict · stage", "Last check", "Tech debt (band 20–30%)"]
        rows = page.locator("#main article.canvas tbody tr").all_inner_texts()
        assert (
            len(rows) == 2
            and rows[0].startswith("Payments #payments")
            and rows[1].startswith("Search #search")
        )
        assert page.locator("#composer").is_hidden()  # a canvas is not a place to type messages

        page.locator(".channel-tabs a[data-surface=channel]").click()
        page.locator("#main article", has_text="Scalability digest").first.wait_for()

        page.locator("[data-surface=home]").click()
        page.goto(f"{bot.url}/console?user={MANAGER}&surface=messages")
        mine = page.locator("#main article", has_text="Your teams · scalability digest")
        mine.wait_for()
        text = mine.inner_text()
        assert "The 2 teams you manage, agenda first" in text
        assert "Payments" in text and "Search" in text
    finally:
        bot.close()
