"""Local mode's demo metrics in the console, in Chromium, from a fresh start: `/scale-check metrics` in
#payments shows numbers, the database pool first at 10x and the breached read-latency trigger, read from
the demo Prometheus-compatible source over HTTP. This test writes the README's screenshot
(`docs/console.png`), so it always shows what the console really shows.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import ManualClock
from tests.browser.harness import LocalBot

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "console.png"
# A fixed "now" (a Monday afternoon, the demo's busy hours), so the picture changes only when the
# console or the demo's history does.
FROZEN = datetime(2026, 3, 2, 14, 20, tzinfo=UTC)
WITHIN = 5.0  # seconds from pressing Enter to the whole answer on screen


def test_scale_check_metrics_in_payments_shows_the_demo_numbers_within_five_seconds(
    page: Any, tmp_path: Path
) -> None:
    bot = LocalBot(f"sqlite:///{tmp_path}/scalebot.sqlite3", clock=ManualClock(FROZEN))
    bot.start()
    bot.store._clock = lambda: FROZEN.timestamp()  # message times too, for a stable screenshot
    try:
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto(f"{bot.url}/console")
        page.wait_for_selector("#composer-input")
        page.fill("#composer-input", "/scale-check metrics")
        started = time.monotonic()
        page.press("#composer-input", "Enter")
        answer = page.locator("#main article.msg", has_text="Live metrics · Payments")
        answer.locator("text=Breaks first at 10x").wait_for(timeout=WITHIN * 1000)
        answer.locator("text=Scaling triggers").wait_for(timeout=WITHIN * 1000)
        took = time.monotonic() - started
        print(f"\n/scale-check metrics answered in the console in {took:.2f} s")
        text = re.sub(r"\s+", " ", answer.inner_text())
        header = page.locator(".main-head .local-note").inner_text()
        answer.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOT))
    finally:
        bot.close()
    assert took <= WITHIN
    assert re.search(r"p95 read latency \d+ ms[^()]*\(limit 100 ms\)", text), text
    assert re.search(r"availability 99\.\d+%", text), text
    headroom = text.split("Breaks first at 10x", 1)[1]
    assert re.search(r"1\.\s*database pool\s*— headroom ×1\.\d+", headroom), headroom[:300]
    triggers = text.split("Scaling triggers", 1)[1]
    assert re.search(r"p95 read latency\s*\d+ ms[^→]* is over 100 ms", triggers), triggers
    assert "from demo (Prometheus)" in text
    assert "Demo data: generated metrics served by the local demo source" in header
    assert SCREENSHOT.stat().st_size > 20_000
