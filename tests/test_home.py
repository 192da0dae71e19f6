"""The App Home: published on `app_home_opened` with each of the person's teams at a glance (managers see
every team), buttons for the common commands (setting a team up only for those who may), the next digest
in their zone, within Slack's view limits; a channel where someone only ran a command is no team."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.digest.model import Week
from bot.digest.service import build
from bot.home.render import ACTION_PREVIEW, ACTION_SETUP
from localslack import FakeSlack
from storage import teams as teams_repo
from tests.digest_support import add_check, add_premortem, add_sprints, text_of
from tests.harness import BotServer, Seeded

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DIGEST = "C0DIGEST"


@pytest.fixture
def home_bot(make_bot: Any, fake: FakeSlack, seeded: Seeded) -> BotServer:
    fake.add_channel(seeded.team_id, DIGEST, "scale-digest", members=[seeded.manager])
    config = AppConfig.model_validate(
        {
            "teams": [
                {
                    "name": "Payments",
                    "channel": seeded.channel,
                    "leads": [seeded.lead],
                    "managers": [seeded.manager],
                }
            ],
            "digest": {"channel": DIGEST, "timezone": "Europe/Berlin"},
        }
    )
    bot: BotServer = make_bot(config=config, clock=ManualClock(NOW))

    def write(session: Any) -> None:
        add_check(
            session,
            seeded.team_id,
            seeded.channel,
            "Payments",
            "prepare_now",
            "100K",
            NOW - timedelta(days=3),
        )
        add_sprints(session, seeded.team_id, seeded.channel, [(12, 50), (12, 50), (12, 50)], NOW.date(), NOW)
        # search has records (a sprint), so it is a team though nobody set it up
        teams_repo.remember(session, seeded.team_id, seeded.other_channel, "search", NOW)
        add_sprints(session, seeded.team_id, seeded.other_channel, [(5, 50)], NOW.date(), NOW)
        add_premortem(
            session,
            seeded.team_id,
            seeded.channel,
            "Payments",
            NOW - timedelta(days=10),
            [("database", "add a read replica", seeded.lead, NOW.date() - timedelta(days=1), "open")],
        )

    bot.db(write)
    return bot


def home_of(fake: FakeSlack, seeded: Seeded, user: str) -> dict[str, Any]:
    fake.actor().open_home(seeded.team_id, user)
    return fake.wait_for(lambda: fake.home(user), timeout=10)


def test_a_member_sees_their_teams_at_a_glance_and_the_next_digest_in_their_time_zone(
    home_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    home = home_of(fake, seeded, seeded.member)
    shown = text_of({"blocks": home["blocks"]})
    assert "Your teams at a glance." in shown
    assert "*Payments* · <#C0PAYMENTS>" in shown and "*search* · <#C0SEARCH>" in shown
    assert "*Verdict*\nPrepare for a surge now · stage 100K" in shown
    assert "*Tech debt (rolling)*\n24% in band · steady `▄▄▄`" in shown
    assert "*Open mitigations*\n1 open (1 overdue :red_circle:)" in shown
    assert "*Open mitigations*\nno pre-mortem yet" in shown  # search
    assert "*Headroom at 10x (least)*\nnot set up" in shown
    # Monday 09:00 in Berlin, shown in the reader's own zone by Slack.
    monday = int(datetime(2026, 11, 30, 8, 0, tzinfo=UTC).timestamp())
    assert f"Next digest: <!date^{monday}^{{date_long_pretty}} at {{time}}|" in shown
    assert "(your time zone, Europe/Berlin) in <#C0DIGEST>" in shown
    buttons = [e["action_id"] for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons[:2] == ["home.preview", "home.refresh"]  # a member may not set a team up
    assert len(home["blocks"]) <= 100


def test_someone_in_no_team_is_told_how_to_start(
    home_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    shown = text_of({"blocks": home_of(fake, seeded, seeded.outsider)["blocks"]})
    assert "You are in no team yet" in shown and "*Payments*" not in shown


def test_someone_who_joined_a_big_channel_last_sees_their_team(
    home_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    """The channel's members are read page by page: one who is on no first page still sees the team."""
    for i in range(1050):  # more than the largest page Slack gives (1,000)
        fake.add_user(seeded.team_id, f"U0CROWD{i:04d}", f"crowd{i}")
        fake.join(seeded.channel, f"U0CROWD{i:04d}")
    fake.join(seeded.channel, seeded.outsider)
    shown = text_of({"blocks": home_of(fake, seeded, seeded.outsider)["blocks"]})
    assert "*Payments* · <#C0PAYMENTS>" in shown and "You are in no team yet" not in shown
    pages = [c for c in fake.calls("conversations.members") if c.args.get("channel") == seeded.channel]
    assert len(pages) >= 2


def test_a_manager_sees_every_team_and_the_tab_stays_within_100_blocks(
    home_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    def many(session: Any) -> None:
        for i in range(40):
            setup = {"name": f"team-{i:02d}", "leads": [], "managers": []}
            teams_repo.save_setup(session, seeded.team_id, f"C0TEAM{i:02d}", setup, seeded.admin, NOW)

    home_bot.db(many)
    home = home_of(fake, seeded, seeded.manager)
    shown = text_of({"blocks": home["blocks"]})
    assert "As a manager you see all 42 teams." in shown
    assert "Showing 25 of 42 teams; the weekly digest has them all." in shown
    assert len(home["blocks"]) <= 100


def test_the_preview_button_opens_this_weeks_digest_in_a_modal(
    home_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    home = home_of(fake, seeded, seeded.manager)
    fake.actor().click_in_view(seeded.team_id, seeded.manager, home["id"], ACTION_PREVIEW)
    modal = fake.wait_for(
        lambda: (
            (views := fake.views_for(seeded.manager))
            and "Scalability digest" in text_of(views[-1])
            and views[-1]
        ),
        timeout=15,
    )
    shown = text_of(modal)
    assert "Preview only: nothing was posted" in shown and "*Payments* · Prepare for a surge now" in shown
    assert fake.messages(DIGEST) == []


def test_the_setup_button_opens_the_setup_modal_with_no_channel_picked_yet(
    home_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    home = home_of(fake, seeded, seeded.admin)
    fake.actor().click_in_view(seeded.team_id, seeded.admin, home["id"], ACTION_SETUP)
    modal = fake.wait_for(lambda: (fake.views_for(seeded.admin) or [None])[-1], timeout=10)
    assert modal["title"]["text"] == "Set up a team"
    assert "Pick the team's channel" in text_of(modal)


def test_a_refused_setup_and_help_in_a_new_channel_add_no_team_to_the_home_tab_or_the_digest(
    home_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    fake.add_channel(seeded.team_id, "C0RANDOM", "random", members=[seeded.member, seeded.manager])
    actor = fake.actor()
    actor.slash_command(seeded.team_id, seeded.member, "C0RANDOM", "setup")
    refused = fake.wait_for(lambda: next(iter(fake.ephemerals(seeded.member, "C0RANDOM")), None), timeout=10)
    assert "can set up this team" in refused["text"]
    assert actor.slash_command(seeded.team_id, seeded.member, "C0RANDOM", "help").status_code == 200
    assert home_bot.db(teams_repo.find, seeded.team_id, "C0RANDOM") is not None  # the channel is known

    shown = text_of({"blocks": home_of(fake, seeded, seeded.manager)["blocks"]})
    assert "As a manager you see both of the workspace's teams." in shown and "C0RANDOM" not in shown
    week = Week.of(NOW, "Europe/Berlin")
    digest = home_bot.call(build(home_bot.rt, seeded.team_id, week, NOW), timeout=30)
    assert [td.team.channel_id for td in digest.teams] == [seeded.channel, seeded.other_channel]


def test_the_setup_button_shows_only_to_admins_and_managers(
    home_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    def buttons(user: str) -> list[str]:
        home = home_of(fake, seeded, user)
        return [e["action_id"] for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]]

    assert ACTION_SETUP in buttons(seeded.admin) and ACTION_SETUP in buttons(seeded.manager)
    assert ACTION_SETUP not in buttons(seeded.member)
    home = home_of(fake, seeded, seeded.outsider)
    assert "ask a workspace admin or a team's manager to set yours up" in text_of({"blocks": home["blocks"]})


def test_someone_no_longer_a_manager_who_clicks_a_stale_setup_button_is_told_who_can_and_no_modal_opens(
    home_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    setup = {"name": "search", "leads": [], "managers": [seeded.member]}
    home_bot.db(teams_repo.save_setup, seeded.team_id, seeded.other_channel, setup, seeded.admin, NOW)
    home = home_of(fake, seeded, seeded.member)
    setup["managers"] = []
    home_bot.db(teams_repo.save_setup, seeded.team_id, seeded.other_channel, setup, seeded.admin, NOW)
    fake.actor().click_in_view(seeded.team_id, seeded.member, home["id"], ACTION_SETUP)
    told = fake.wait_for(
        lambda: "Only workspace admins" in text_of(h := fake.home(seeded.member) or {}) and h, timeout=10
    )
    assert "teams' managers can set up a team" in text_of(told)
    assert fake.views_for(seeded.member) == [] and not fake.calls("views.open")
