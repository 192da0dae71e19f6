"""A team's buttons on the App Home, each clicked as Slack sends it (a signed block_actions payload from the
Home tab): they run the team's own subcommand, post in the team's channel, and tell the person where; and
the Home tab shows a team's least headroom at 10x and its tech-debt trend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.debt.refs import DebtForm
from bot.home.render import ACTION_CHECK, ACTION_DEBT, ACTION_METRICS, ACTION_PREMORTEM
from localslack import FakeSlack
from tests.digest_support import TinyPrometheus, add_sprints, text_of
from tests.harness import BotServer, Seeded

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DIGEST = "C0DIGEST"
PAYMENTS_BUTTONS = "home.team.C0PAYMENTS"


@pytest.fixture
def prom() -> Iterator[TinyPrometheus]:
    server = TinyPrometheus()
    yield server
    server.close()


@pytest.fixture
def buttons_bot(make_bot: Any, fake: FakeSlack, seeded: Seeded, prom: TinyPrometheus) -> BotServer:
    fake.add_channel(seeded.team_id, DIGEST, "scale-digest", members=[seeded.manager])
    config = AppConfig.model_validate(
        {
            "defaults": {"metrics": {"retries": 0, "cache_ttl_seconds": 0}},
            "sources": {"prom": {"kind": "prometheus", "url": prom.url}},
            "teams": [
                {
                    "name": "Payments",
                    "channel": seeded.channel,
                    "leads": [seeded.lead],
                    "managers": [seeded.manager],
                    "metrics": {
                        "source": "prom",
                        "service": "payments",
                        "signals": {
                            "p95_read_latency": {},
                            "db_pool": {"kind": "saturation", "query": "max(db_pool_utilisation)"},
                        },
                    },
                }
            ],
            "digest": {"channel": DIGEST, "timezone": "Europe/Berlin", "managers": [seeded.manager]},
        }
    )
    bot: BotServer = make_bot(config=config, clock=ManualClock(NOW))
    bot.db(add_sprints, seeded.team_id, seeded.channel, [(10, 50), (12, 50), (14, 50)], NOW.date(), NOW)
    return bot


def home_of(fake: FakeSlack, seeded: Seeded, user: str) -> dict[str, Any]:
    fake.actor().open_home(seeded.team_id, user)
    return fake.wait_for(lambda: fake.home(user), timeout=15)


def click(fake: FakeSlack, seeded: Seeded, user: str, action_id: str) -> None:
    home = home_of(fake, seeded, user)
    response = fake.actor().click_in_view(
        seeded.team_id, user, home["id"], action_id, block_id=PAYMENTS_BUTTONS
    )
    assert response.status_code == 200


def notice(fake: FakeSlack, user: str, words: str) -> str:
    """The Home tab's answer to the click, once it says `words`."""
    return str(fake.wait_for(lambda: words in (t := text_of(fake.home(user) or {})) and t, timeout=15))


def test_the_home_tab_shows_the_least_headroom_at_10x_and_the_debt_trend(
    buttons_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    shown = text_of({"blocks": home_of(fake, seeded, seeded.lead)["blocks"]})
    assert "*Headroom at 10x (least)*\ndb pool ×1.6 :red_circle:" in shown
    assert "*Tech debt (rolling)*\n24% in band · rising `" in shown
    home = home_of(fake, seeded, seeded.lead)
    (team_buttons,) = [b for b in home["blocks"] if b.get("block_id") == PAYMENTS_BUTTONS]
    assert [e["action_id"] for e in team_buttons["elements"]] == [
        ACTION_CHECK,
        ACTION_METRICS,
        ACTION_DEBT,
        ACTION_PREMORTEM,
    ]
    assert len(home["blocks"]) <= 100


def test_start_a_signal_check_from_home_posts_it_in_the_teams_channel_and_says_where(
    buttons_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    click(fake, seeded, seeded.lead, ACTION_CHECK)
    root = fake.wait_for(
        lambda: next((m for m in fake.messages(seeded.channel) if "Scale check for" in m["text"]), None),
        timeout=15,
    )
    assert "Payments" in root["text"]
    told = notice(fake, seeded.lead, "Started a signal check")
    assert "Started a signal check for *Payments* in <#C0PAYMENTS>" in told and "open it" in told
    # A second click points to the open check instead of starting another.
    click(fake, seeded, seeded.lead, ACTION_CHECK)
    again = notice(fake, seeded.lead, "*Payments* (<#C0PAYMENTS>):")
    assert "Started a signal check" not in again
    assert len([m for m in fake.messages(seeded.channel) if "Scale check for" in m["text"]]) == 1


def test_show_metrics_from_home_opens_the_teams_reading_in_a_modal(
    buttons_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    click(fake, seeded, seeded.lead, ACTION_METRICS)
    modal = fake.wait_for(
        lambda: (v := (fake.views_for(seeded.lead) or [None])[-1]) and "180 ms" in text_of(v) and v,
        timeout=15,
    )
    assert modal["title"]["text"].startswith("Metrics · Payments")
    assert "p95 read latency" in text_of(modal)
    assert fake.messages(seeded.channel) == []  # only the person sees it


def test_record_tech_debt_from_home_opens_the_debt_form_for_the_team(
    buttons_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    click(fake, seeded, seeded.lead, ACTION_DEBT)
    form = fake.wait_for(lambda: (fake.views_for(seeded.lead) or [None])[-1], timeout=15)
    assert form["title"]["text"] == "Tech-debt capacity"
    assert DebtForm.parse(form["private_metadata"]).channel == "C0PAYMENTS"
    assert form["state"]["values"]["sprint"]["value"]["value"] == "Sprint 3"


def test_start_a_pre_mortem_from_home_asks_the_leads_in_the_teams_channel_and_says_where(
    buttons_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    click(fake, seeded, seeded.manager, ACTION_PREMORTEM)
    root = fake.wait_for(
        lambda: next((m for m in fake.messages(seeded.channel) if "Pre-mortem for" in m["text"]), None),
        timeout=15,
    )
    assert "Payments" in root["text"]
    told = notice(fake, seeded.manager, "Started the pre-mortem")
    assert "*Payments* (<#C0PAYMENTS>): Started the pre-mortem" in told


def test_a_stale_team_button_of_someone_who_left_the_teams_channel_starts_nothing(
    buttons_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    home = home_of(fake, seeded, seeded.member)  # Payments is theirs as a member of its channel
    fake.leave(seeded.channel, seeded.member)
    fake.actor().click_in_view(
        seeded.team_id, seeded.member, home["id"], ACTION_CHECK, block_id=PAYMENTS_BUTTONS
    )
    notice(fake, seeded.member, "That team is no longer one of yours here")
    assert not [m for m in fake.messages(seeded.channel) if "Scale check for" in m["text"]]


def test_the_debt_form_of_someone_who_left_the_channel_meanwhile_is_answered_by_dm(
    buttons_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    click(fake, seeded, seeded.lead, ACTION_DEBT)
    form = fake.wait_for(lambda: (fake.views_for(seeded.lead) or [None])[-1], timeout=15)
    fake.leave(seeded.channel, seeded.lead)  # the form stays open; an ephemeral there would fail
    values = {
        "sprint": {"value": "Sprint 3"},
        "capacity": {"value": "50"},
        "debt": {"value": "11"},
        "unit": {"value": "points"},
    }
    fake.actor().submit_view(seeded.team_id, seeded.lead, form["id"], values)
    answered = fake.wait_for(
        lambda: [
            c.args
            for c in fake.calls("chat.postMessage")
            if c.ok and str(c.args.get("channel", "")).startswith("D") and "Sprint 3" in str(c.args)
        ],
        timeout=15,
    )
    assert "22%" in str(answered[-1])
    assert [c.error for c in fake.calls("chat.postEphemeral")] == ["user_not_in_channel"]
