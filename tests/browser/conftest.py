"""Fixtures for the console's browser tests: Debian's Chromium through Playwright, and scalebot in local mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.demo import register_demo
from tests.browser.harness import CHROMIUM_ARGS, LocalBot, chromium_or_skip


# Package scope, not session: while Playwright's sync API is running it holds an event loop in the main
# thread, and pytest-asyncio could not run the async tests of the modules after this package.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 860}, locale="en-US")
    context.set_default_timeout(8000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"the page raised: {errors}"


@pytest.fixture
def demo_bot(tmp_path: Path) -> Iterator[LocalBot]:
    bot = LocalBot(f"sqlite:///{tmp_path}/scalebot.sqlite3", setup=register_demo)
    bot.start()
    yield bot
    bot.close()
