"""Local mode's first start stores a team setup and a digest schedule, so the console's manager (Maria) can
open `/scale-check setup` and post the digest at once, through the console's signed requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.digest import slack_calls
from bot.local import TEAM_ID
from storage import digest as digest_repo
from storage import teams as teams_repo
from tests.browser.harness import ADMIN, LEAD, MANAGER, MANAGERS, PAYMENTS, SEARCH, LocalBot, wait_for


@pytest.fixture(autouse=True)
def quick_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack_calls, "POST_INTERVAL", 0.01)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalBot]:
    bot = LocalBot(f"sqlite:///{tmp_path}/scalebot.sqlite3")
    bot.start()
    yield bot
    bot.close()


def html_of(bot: LocalBot, user: str, channel: str) -> str:
    return str(bot.page_state(user, channel)["panes"]["main"]["html"])


def test_the_first_start_sets_up_two_teams_and_the_digest_as_the_setup_modal_would(local: LocalBot) -> None:
    for channel, name in ((PAYMENTS, "Payments"), (SEARCH, "Search")):
        row = local.db(teams_repo.find, TEAM_ID, channel)
        assert row is not None and row.name == name and row.setup_by == ADMIN
        assert row.setup == {"name": name, "leads": [LEAD], "managers": [MANAGER]}
    schedule = local.db(digest_repo.get_schedule, TEAM_ID)
    assert schedule is not None and schedule.as_dict() == {
        "channel": MANAGERS,
        "day": "monday",
        "time": "09:00",
        "timezone": "Europe/London",
        "managers": [MANAGER],
    }


def test_maria_posts_the_digest_now_in_local_mode(local: LocalBot) -> None:
    assert local.act("send", MANAGER, channel=PAYMENTS, text="/scale-check digest now")["ok"]
    answer = wait_for(
        lambda: "digest in" in (h := html_of(local, MANAGER, PAYMENTS)) and h,
        timeout=30,
        message="no answer to digest now",
    )
    assert "Posted this week" in answer and "Only the workspace" not in answer
    with local.store.lock:
        posted = [
            m
            for m in local.store.messages.get(MANAGERS, [])
            if ((m.metadata or {}).get("event_payload") or {}).get("part") == "parent"
        ]
    assert len(posted) == 1 and "Scalability digest" in posted[0].text
    assert "Payments" in html_of(local, MANAGER, MANAGERS)


def test_maria_opens_the_setup_modal_for_her_team_with_the_digest_editable(local: LocalBot) -> None:
    assert local.act("send", MANAGER, channel=SEARCH, text="/scale-check setup")["ok"]
    view = wait_for(lambda: local.page_state(MANAGER, SEARCH)["view"], timeout=15, message="no modal")
    modal = local.page_state(MANAGER, SEARCH)["panes"]["modal"]["html"]
    assert "Set up a team" in modal and 'value="Search"' in modal
    assert "Mondays at 09:00 (Europe/London), set here before" in modal
    assert view["id"]
