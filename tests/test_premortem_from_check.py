"""A finished signal check's summary starts a pre-mortem: with the team's leads from the config, or with
the leads its starter picks."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import AppConfig, TeamConfig
from bot.premortem.render import ACTION_START_FROM_CHECK
from bot.premortem.render_modals import LEADS_ACTION, LEADS_BLOCK
from localslack import FakeSlack
from storage import premortem as repo
from tests.checklist_driver import Driver as CheckDriver
from tests.checklist_driver import pace_quickly
from tests.harness import Seeded
from tests.premortem_driver import Driver, all_text
from tests.premortem_driver import pace_quickly as pace_premortem_quickly

CONFIG = AppConfig(
    teams=[
        TeamConfig(name="Payments", channel="C0PAYMENTS", leads=["U0LEAD1", "U0LEAD2"]),
        TeamConfig(name="Search", channel="C0SEARCH"),
    ]
)


@pytest.fixture(autouse=True)
def _quick_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    pace_quickly(monkeypatch)
    pace_premortem_quickly(monkeypatch)


def finished_check(make_bot: Any, fake: FakeSlack, seeded: Seeded, channel: str) -> CheckDriver:
    check = CheckDriver(fake, seeded, make_bot(config=CONFIG), fake.actor(), channel=channel)
    check.start(seeded.manager)
    check.answer_all(["yes"] * 6, "no")
    check.verdict()
    fake.wait_for(lambda: "Start a pre-mortem" in all_text(check.root()), message="the button on the summary")
    return check


def test_the_summary_of_a_finished_check_starts_a_pre_mortem_with_the_teams_leads(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    check = finished_check(make_bot, fake, seeded, seeded.channel)
    check.click_root(seeded.manager, ACTION_START_FROM_CHECK)
    pm = Driver(fake, seeded, check.bot, check.actor)
    fake.wait_for(lambda: pm.roots(), message="the pre-mortem's root")
    pm.root_ts = pm.roots()[-1]["ts"]
    fake.wait_for(lambda: pm.thread())
    assert f"<@{seeded.lead}>, <@{seeded.lead2}>: *If our active users" in all_text(pm.prompt())
    row = check.bot.db(repo.get, seeded.team_id, 1)
    assert (row.origin_check, row.started_by) == (1, seeded.manager)


def test_without_leads_in_the_config_the_starter_picks_them(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    check = finished_check(make_bot, fake, seeded, seeded.other_channel)
    check.click_root(seeded.manager, ACTION_START_FROM_CHECK)
    (view,) = fake.wait_for(lambda: fake.views_for(seeded.manager), message="the lead picker")
    fake.actor().submit_view(
        seeded.team_id, seeded.manager, view["id"], {LEADS_BLOCK: {LEADS_ACTION: [seeded.lead3]}}
    )
    pm = Driver(fake, seeded, check.bot, check.actor, channel=seeded.other_channel)
    fake.wait_for(lambda: pm.roots(), message="the pre-mortem's root")
    assert check.bot.db(repo.get, seeded.team_id, 1).origin_check == 1
