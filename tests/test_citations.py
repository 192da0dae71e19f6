"""Users read an article's title, never a seed file name: the console, its threads, the App Home, the
pre-mortem export and the digest preview, driven in local mode and searched for `00N_<hex>` and `00N_…`.

Every test that uses the Slack fake also checks what the bot sent it (the `fake` fixture in conftest);
this one covers the console's own pages, which render what was sent through the console's HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import seeds
from tests.browser.harness import ADMIN, LEAD, PAYMENTS, SEARCH, LocalBot, wait_for
from tests.helpers.citations import SEED_FILE, cited_files, seed_file_names, sent_text

TITLE_004 = "Your System Does Not Need to Scale to a Million Users on Day One"


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalBot]:
    bot = LocalBot(f"sqlite:///{tmp_path}/scalebot.sqlite3")
    bot.start()
    yield bot
    bot.close()


def pages(bot: LocalBot, user: str) -> Iterator[tuple[str, str]]:
    """The console's panes for every channel, every thread in them, and the App Home."""
    for channel in (PAYMENTS, SEARCH):
        state = bot.page_state(user, channel)
        main = str(state["panes"]["main"]["html"])
        yield f"#{channel}", main
        for thread in sorted(set(re.findall(r'data-thread="([0-9.]+)"', main))):
            panes = bot.page_state(user, channel, thread=thread)["panes"]
            yield f"#{channel} thread {thread}", " ".join(str(p.get("html", "")) for p in panes.values())
    home = bot.page_state(user, PAYMENTS, surface="home")["panes"]
    yield "App Home", " ".join(str(p.get("html", "")) for p in home.values())


def sent_count(bot: LocalBot) -> int:
    """How many messages, updates, modals and response_url posts the bot has sent so far."""
    with bot.store.lock:
        calls = [c for c in bot.store.calls if c.method.startswith(("chat.", "views."))]
        return len(calls) + len(bot.store.response_url_posts)


def test_the_pattern_finds_a_file_name_and_its_short_form_and_the_seeds_map_both() -> None:
    text = "see 004_26b48070c33732f0.txt and (`001_…`) but not 2004_x or 005_…"
    assert len(seed_file_names(text)) == 2
    assert cited_files([("chat.postMessage", text)])[0].startswith("chat.postMessage: …see 004_")
    assert seeds.title("004_…") == seeds.title("004_26b48070c33732f0.txt") == TITLE_004
    assert seeds.cite_in_text("(004_26b48070c33732f0.txt)") == f"(“{TITLE_004}” by Eric Hanson)"
    assert not SEED_FILE.search(seeds.cite_in_text("from 000_aa66b6538f11a31c.txt and 003_…"))


def test_nothing_the_console_shows_or_the_bot_sends_names_a_seed_file(local: LocalBot) -> None:
    commands = [
        "/scale-check",
        "/scale-check metrics",
        "/scale-check debt",
        "/scale-check debt 24 of 100",
        "/scale-check premortem <@U0LEAD>",
        "/scale-check premortem status",
        "/scale-check premortem export",
        "/scale-check digest",
    ]
    for command in commands:
        before = sent_count(local)
        assert local.act("send", ADMIN, channel=PAYMENTS, text=command)["ok"]
        wait_for(lambda b=before: sent_count(local) > b, message=f"{command} got no answer")
    # Help is answered in the ack, so it shows on the page without a Web API call.
    assert local.act("send", ADMIN, channel=PAYMENTS, text="/scale-check help")["ok"]
    wait_for(
        lambda: "are we ready for 10x?" in str(local.page_state(ADMIN)["panes"]["main"]["html"]),
        message="/scale-check help got no answer",
    )
    assert local.act("home", LEAD)["ok"]
    wait_for(
        lambda: (
            "Your teams at a glance"
            in " ".join(text for where, text in pages(local, LEAD) if where == "App Home")
        ),
        message="the App Home was not published",
    )

    shown = [*pages(local, ADMIN), *pages(local, LEAD), *sent_text(local.store)]
    everything = "\n".join(text for _, text in shown)
    assert cited_files(shown) == []
    # The flows ran: the checklist's parts, the pre-mortem prompt with its framing sentence, the export.
    assert "Surge signals" in everything and "Scalability audit" in everything
    assert "In the product–engineering sync described in “Scalability is a strategic necessity" in everything
    assert "the tech lead answered" in everything and "# Pre-mortem" in everything
    assert "So, are we ready for 1,000,000 users?" in everything  # a part's intro cites its article
