"""The local workspace's first run seeds Search's calibration record the way a real workspace gets one:
a pre-mortem started, answered, voted and closed, then what broke reported with `/scale-check incident`,
all as signed requests from the console's actor (nothing written to the tables directly). The console's
App Home then shows the calibration line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.local import TEAM_ID
from localslack.methods.views import home_of
from storage import calibration as repo
from tests.browser.harness import ADMIN, LEAD, LocalBot, wait_for

SEARCH = "C0SEARCH"


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalBot]:
    bot = LocalBot(f"sqlite:///{tmp_path}/scalebot.sqlite3", seed_history=True)
    bot.start()
    yield bot
    bot.close()


def test_the_first_run_seeds_a_calibration_record_through_the_command_and_the_modal(local: LocalBot) -> None:
    outcomes = wait_for(
        lambda: len(found := local.db(repo.outcomes, TEAM_ID, SEARCH)) == 2 and found,
        timeout=180,  # a busy machine: each step waits for the last one's redraw
        message="the seeded incidents",
    )
    assert [(o.component, o.source, o.reporter) for o in outcomes] == [
        ("search index", "incident", ADMIN),
        ("payments queue", "incident", ADMIN),
    ]
    predicted = local.db(repo.predictions, TEAM_ID, SEARCH)
    assert [(p.component, p.place, p.likelihood) for p in predicted] == [
        ("search index", 1, 0.7),
        ("query API", 2, 0.4),
        ("autocomplete", 3, None),
    ]
    with local.store.lock:
        seeded = [
            m
            for m in local.store.messages[SEARCH]
            if m.text.startswith("Pre-mortem for Search") and m.ts == (m.thread_ts or m.ts)
        ]
    assert len(seeded) == 1  # started with the command, as anyone would

    line = (
        "Search's pre-mortems: 1 of 1 top risks happened within 90 days (the top one: 1 of 1), 2 still open; "
        "1 surprise: payments queue; Brier score 0.09 over 1 stated likelihood"
    )
    assert local.local.actor is not None
    local.local.actor.open_home(TEAM_ID, LEAD)

    def home() -> str:
        with local.store.lock:
            view = home_of(local.store, TEAM_ID, LEAD)
            return json.dumps(view.spec if view else None, ensure_ascii=False)

    wait_for(lambda: line in home(), timeout=60, message="the App Home showing the line")
    assert "Search&#x27;s pre-mortems: 1 of 1 top risks" in str(local.page_state(LEAD, surface="home"))

    local.restart()  # a restored workspace is not seeded again
    wait_for(lambda: local.local.actor is not None)
    assert len(local.db(repo.outcomes, TEAM_ID, SEARCH)) == 2
