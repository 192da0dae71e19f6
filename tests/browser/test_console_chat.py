"""The console behaves like a chat client: the messages scroll in their pane (the page, the message box
and the sidebar stay put), new messages and thread replies come into view unless the reader scrolled
up, images fit their pane and open at full size, a clicked button is pending until its answer, slow work
shows that it is working, and a modal left open across a reload still closes.

A test-only capability (`/scale-check chat …`) posts through the app's real Slack client; its slow
answers wait for the test to release them, so nothing here depends on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from bot import blocks as bk
from bot.local import TEAM_ID
from handlers.base import Ctx, Listeners
from handlers.router import Subcommand
from localslack.methods.views import open_modal_of
from tests.browser.harness import LEAD, MANAGER, MEMBER, PAYMENTS, LocalBot, wait_for

pytestmark = pytest.mark.browser

CHART_SIZE = (1600, 900)  # wider than any pane at the tests' 1360 × 860 viewport


def png(width: int, height: int) -> bytes:
    """A black-and-white PNG with a diagonal band, made without an imaging library."""
    rows = []
    for y in range(height):
        row = bytearray((width + 7) // 8)
        for x in range(max(0, y * width // height - 40), min(width, y * width // height + 40)):
            row[x // 8] |= 0x80 >> (x % 8)
        rows.append(b"\x00" + bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


class Chat:
    """The capability's state: threads it started, and the gate its slow answers wait at."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.thread_ts = ""

    async def wait(self) -> None:
        released = await asyncio.to_thread(self.release.wait, 30)
        assert released, "the test never released the slow answer"


def register_chat(app: FastAPI) -> Chat:
    state = app.state.scalebot
    listeners = Listeners(state.bolt, state.rt, state.router)
    chat = Chat()
    app.state.chat = chat

    async def run(ctx: Ctx, args: str) -> None:
        channel = ctx.channel_id or ""
        word, _, rest = args.strip().partition(" ")
        if word == "fill":
            for n in range(1, int(rest) + 1):
                await ctx.client.chat_postMessage(
                    channel=channel, text=f"Filler {n}: what breaks first at 10x?"
                )
        elif word == "thread":
            root = await ctx.client.chat_postMessage(channel=channel, text="A long thread")
            chat.thread_ts = root["ts"]
            for n in range(1, int(rest) + 1):
                await ctx.client.chat_postMessage(
                    channel=channel, thread_ts=chat.thread_ts, text=f"Reply {n}"
                )
        elif word == "reply":
            await ctx.client.chat_postMessage(channel=channel, thread_ts=chat.thread_ts, text=f"Reply {rest}")
        elif word == "chart":
            url = "data:image/png;base64," + base64.b64encode(png(*CHART_SIZE)).decode()
            root = await ctx.client.chat_postMessage(
                channel=channel, **bk.message("A wide chart", [bk.image(url, "a wide chart", "A wide chart")])
            )
            chat.thread_ts = root["ts"]
            await ctx.client.files_upload_v2(
                channel=channel,
                thread_ts=root["ts"],
                content=png(*CHART_SIZE),
                filename="wide-chart.png",
                title="Wide chart",
                alt_txt="a wide uploaded chart",
            )
        elif word == "button":
            await ctx.client.chat_postMessage(
                channel=channel,
                **bk.message("Slow button", [bk.actions(bk.button("Slow", "chat_slow", "slow"))]),
            )
        elif word == "slow":
            await chat.wait()
            await ctx.client.chat_postMessage(channel=channel, text="Slow answer")
        elif word == "modal":
            await ctx.client.views_open(
                trigger_id=ctx.trigger_id,
                view=bk.modal(
                    "Left open",
                    [bk.input_block("Note", {"type": "plain_text_input", "action_id": "v"}, block_id="n")],
                    callback_id="chat_modal",
                    submit="Save",
                ),
            )

    async def slow(ctx: Ctx, action: dict[str, Any]) -> None:
        await chat.wait()
        message = ctx.body["message"]
        await ctx.client.chat_update(
            channel=ctx.channel_id or "",
            ts=message["ts"],
            **bk.message("Done: the slow answer", [bk.section("Done: the slow answer")]),
        )

    async def submitted(ctx: Ctx, view: dict[str, Any]) -> None:
        return None

    listeners.router.add(
        Subcommand("chat", "chat-client behaviour (tests only)", "", "/scale-check chat", run)
    )
    listeners.action("chat_slow", slow)
    listeners.view("chat_modal", submitted)
    return chat


@pytest.fixture
def chat_bot(tmp_path: Path) -> Iterator[LocalBot]:
    bot = LocalBot(f"sqlite:///{tmp_path}/scalebot.sqlite3", setup=register_chat)
    bot.start()
    yield bot
    bot.close()


def chat_of(bot: LocalBot) -> Chat:
    assert bot.app is not None
    return bot.app.state.chat  # type: ignore[no-any-return]


def open_console(page: Any, bot: LocalBot) -> None:
    page.goto(f"{bot.url}/console?user={LEAD}&channel={PAYMENTS}")
    page.wait_for_selector("#composer-input")


def command(bot: LocalBot, text: str, user: str = LEAD) -> None:
    """A command typed by someone else in another window: it reaches the page only by polling."""
    assert bot.act("send", user, channel=PAYMENTS, text=text).get("ok", True) is not False


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found  # type: ignore[no-any-return]


def scroll_of(page: Any, selector: str) -> dict[str, float]:
    return page.eval_on_selector(  # type: ignore[no-any-return]
        selector, "el => ({top: el.scrollTop, height: el.scrollHeight, client: el.clientHeight})"
    )


def at_end(page: Any, selector: str) -> bool:
    s = scroll_of(page, selector)
    return s["height"] - s["top"] - s["client"] < 4


def scroll_to_top(page: Any, selector: str) -> None:
    page.eval_on_selector(selector, "el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")


def test_the_messages_scroll_in_their_pane_and_follow_the_newest_unless_scrolled_up(
    page: Any, chat_bot: LocalBot
) -> None:
    open_console(page, chat_bot)
    page.fill("#composer-input", "/scale-check chat fill 40")
    page.press("#composer-input", "Enter")
    page.locator("#main article", has_text="Filler 40:").wait_for()

    # The page itself never scrolls: the message box and the sidebar stay where they are.
    viewport = page.viewport_size
    assert page.evaluate("document.scrollingElement.scrollHeight") <= viewport["height"]
    composer = box(page, "#composer")
    assert composer["y"] + composer["height"] <= viewport["height"]
    assert box(page, "#sidebar")["y"] == 0
    main = scroll_of(page, "#main")
    assert main["height"] > main["client"], "40 messages should overflow the pane"

    # The newest message is in view; the reader scrolls up and a new message does not move them.
    wait_for(lambda: at_end(page, "#main"), message="the pane did not follow the newest message")
    # The reader scrolls up with the wheel: the messages move, the page does not.
    page.mouse.move(700, 300)
    page.mouse.wheel(0, -100000)
    wait_for(lambda: scroll_of(page, "#main")["top"] == 0, message="the wheel did not scroll the messages")
    assert page.evaluate("window.scrollY") == 0
    assert box(page, "#sidebar")["y"] == 0 and box(page, "#composer")["y"] == composer["y"]
    command(chat_bot, "a plain message while Ana reads the history", user=MEMBER)
    page.locator("#main article", has_text="while Ana reads the history").wait_for(state="attached")
    assert scroll_of(page, "#main")["top"] < 4, "a new message pulled a reader who had scrolled up"
    page.locator("#new-below").wait_for()
    page.click("#new-below")
    assert at_end(page, "#main")

    # Back at the end, the next message scrolls into view by itself.
    command(chat_bot, "one more from Sam", user=MEMBER)
    newest = page.locator("#main article", has_text="one more from Sam")
    newest.wait_for()
    wait_for(lambda: at_end(page, "#main"), message="the newest message did not scroll into view")
    pane = box(page, "#main")
    shown = newest.bounding_box()
    assert shown is not None and shown["y"] + shown["height"] <= pane["y"] + pane["height"] + 1
    assert box(page, "#composer")["y"] == composer["y"]


def test_thread_replies_scroll_into_view_unless_the_reader_scrolled_up(page: Any, chat_bot: LocalBot) -> None:
    open_console(page, chat_bot)
    command(chat_bot, "/scale-check chat thread 30")
    root = page.locator("#main article", has_text="A long thread")
    root.locator(".replies", has_text="30 replies").wait_for()
    root.locator(".replies").click()
    page.locator("#thread article", has_text="Reply 30").wait_for()
    scroller = "#thread .thread-scroll"
    wait_for(lambda: at_end(page, scroller), message="an opened thread does not show its newest reply")
    assert scroll_of(page, scroller)["height"] > scroll_of(page, scroller)["client"]

    command(chat_bot, "/scale-check chat reply 31")
    reply = page.locator("#thread article", has_text="Reply 31")
    reply.wait_for()
    wait_for(lambda: at_end(page, scroller), message="a new reply did not scroll into view")
    pane, shown = box(page, scroller), reply.bounding_box()
    assert (
        shown is not None
        and pane["y"] <= shown["y"]
        and shown["y"] + shown["height"] <= pane["y"] + pane["height"] + 1
    )

    scroll_to_top(page, scroller)
    command(chat_bot, "/scale-check chat reply 32")
    page.locator("#thread article", has_text="Reply 32").wait_for(state="attached")
    assert scroll_of(page, scroller)["top"] < 4, "a new reply pulled a reader who had scrolled up"


def test_images_and_charts_fit_their_pane_and_open_at_full_size(page: Any, chat_bot: LocalBot) -> None:
    open_console(page, chat_bot)
    command(chat_bot, "/scale-check chat chart")
    chart = page.locator("#main img.bk-image-img")
    chart.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=chart.element_handle())
    assert chart.evaluate("img => img.naturalWidth") == CHART_SIZE[0]
    shown, body = chart.bounding_box(), box(page, "#main article .msg-body")
    assert shown is not None
    assert shown["x"] + shown["width"] <= body["x"] + body["width"] + 1, "the chart overflows its message"
    assert shown["width"] < CHART_SIZE[0]
    # Scaled, not squashed.
    assert abs(shown["width"] / shown["height"] - CHART_SIZE[0] / CHART_SIZE[1]) < 0.05

    chart.click()
    full = page.locator("#lightbox[open] img")
    full.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=full.element_handle())
    opened = full.bounding_box()
    assert opened is not None and round(opened["width"]) == CHART_SIZE[0]
    page.keyboard.press("Escape")
    page.locator("#lightbox[open]").wait_for(state="detached")

    # The uploaded file in the narrower thread pane fits it too.
    page.locator("#main article", has_text="A wide chart").locator(".replies").click()
    upload = page.locator("#thread .file-image img")
    upload.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=upload.element_handle())
    pane, fitted = box(page, "#thread"), upload.bounding_box()
    assert fitted is not None and fitted["x"] + fitted["width"] <= pane["x"] + pane["width"]
    upload.click()
    page.locator("#lightbox[open] img").wait_for()
    page.click("#lightbox [data-lightbox-close]")
    page.locator("#lightbox[open]").wait_for(state="detached")


def test_a_clicked_button_is_pending_and_slow_work_shows_busy_until_the_answer(
    page: Any, chat_bot: LocalBot
) -> None:
    open_console(page, chat_bot)
    command(chat_bot, "/scale-check chat button")
    button = page.locator("#main [data-action-id=chat_slow]")
    button.click()
    # Pending from the click on, and the page says it is working once the answer is late.
    assert button.get_attribute("aria-busy") == "true"
    assert "pending" in (button.get_attribute("class") or "")
    page.locator("#busy").wait_for()
    assert page.get_attribute("#main", "aria-busy") == "true"
    # A second click on a pending button sends nothing more.
    button.click(force=True)

    chat_of(chat_bot).release.set()
    page.locator("#main article", has_text="Done: the slow answer").wait_for()
    page.locator("#busy").wait_for(state="hidden")
    assert page.locator(".pending, [aria-busy=true]").count() == 0
    assert page.get_attribute("#main", "aria-busy") == "false"
    with chat_bot.store.lock:
        clicks = [c for c in chat_bot.store.calls if c.method == "chat.update"]
    assert len(clicks) == 1, "the pending button was clicked through twice"


def test_a_slow_command_shows_that_it_is_working(page: Any, chat_bot: LocalBot) -> None:
    open_console(page, chat_bot)
    page.fill("#composer-input", "/scale-check chat slow")
    page.press("#composer-input", "Enter")
    page.locator("#busy").wait_for()
    assert page.get_attribute("#main", "aria-busy") == "true"
    assert page.locator("#busy").inner_text().strip() != ""
    chat_of(chat_bot).release.set()
    page.locator("#main article", has_text="Slow answer").wait_for()
    page.locator("#busy").wait_for(state="hidden")
    assert page.get_attribute("#main", "aria-busy") == "false"


def modal_open(bot: LocalBot) -> bool:
    with bot.store.lock:
        return open_modal_of(bot.store, TEAM_ID, LEAD) is not None


@pytest.mark.parametrize("how", ["Escape", "close button"])
def test_a_modal_left_open_closes_after_a_reload(page: Any, chat_bot: LocalBot, how: str) -> None:
    open_console(page, chat_bot)
    command(chat_bot, "/scale-check chat modal")
    page.locator("#modal[open] form.modal").wait_for()
    page.reload()
    page.locator("#modal[open] form.modal").wait_for()
    assert modal_open(chat_bot)
    if how == "Escape":
        page.keyboard.press("Escape")
    else:
        page.get_by_role("button", name="Close").first.click()
    page.locator("#modal[open]").wait_for(state="detached")
    wait_for(lambda: not modal_open(chat_bot), message="the app still has the modal open")
    # The page is usable again, and the modal does not come back with the next reload.
    page.fill("#composer-input", "back to work")
    page.press("#composer-input", "Enter")
    page.locator("#main article", has_text="back to work").wait_for()
    page.reload()
    page.wait_for_selector("#composer-input")
    assert page.locator("#modal[open]").count() == 0


def test_escape_closes_a_modal_even_while_the_server_is_away(page: Any, chat_bot: LocalBot) -> None:
    """Stopping scalebot with a modal open must not leave the reader stuck behind it."""
    open_console(page, chat_bot)
    command(chat_bot, "/scale-check chat modal")
    page.locator("#modal[open] form.modal").wait_for()
    chat_bot.stop()
    page.keyboard.press("Escape")
    page.locator("#modal[open]").wait_for(state="detached")
    page.locator("#toast", has_text="Reconnecting").wait_for()
    # Back again, the app still holds the modal it never heard closed: the page shows it, and it closes.
    chat_bot.start()
    page.locator("#modal[open] form.modal").wait_for(timeout=20000)
    page.get_by_role("button", name="Cancel").click()
    page.locator("#modal[open]").wait_for(state="detached")
    wait_for(lambda: not modal_open(chat_bot), message="the app still has the modal open")


def test_digest_now_shows_that_it_is_working_until_it_answers(page: Any, tmp_path: Path) -> None:
    """The real `/scale-check digest now`: it posts the whole digest to #eng-managers before it answers."""
    bot = LocalBot(f"sqlite:///{tmp_path}/digest.sqlite3")
    bot.start()
    try:
        page.goto(f"{bot.url}/console?user={MANAGER}&channel={PAYMENTS}")
        page.wait_for_selector("#composer-input")
        page.fill("#composer-input", "/scale-check digest now")
        page.press("#composer-input", "Enter")
        page.locator("#busy").wait_for()
        assert page.get_attribute("#main", "aria-busy") == "true"
        answer = page.locator("#main article.ephemeral", has_text="this week's digest in")
        answer.wait_for(timeout=60000)
        page.locator("#busy").wait_for(state="hidden")
        assert page.get_attribute("#main", "aria-busy") == "false"
    finally:
        bot.close()
