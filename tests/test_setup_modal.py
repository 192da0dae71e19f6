"""`/scale-check setup`: who may open it, errors shown in the modal, what it stores winning over the config
file (and the answer saying so), a changed schedule rescheduling the digest job, the digest's fields
stored only when changed and only by those who may, and the workspace's own time zone as the default."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.digest import jobs
from bot.digest.service import schedule_for
from bot.setup import rules as r
from bot.setup.modal import CHANNEL_PICKED
from bot.teams import resolve_team
from localslack import FakeSlack
from storage import digest as digest_repo
from storage import teams as teams_repo
from tests.digest_support import text_of
from tests.harness import BotServer, Seeded, wait_until

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DIGEST = "C0DIGEST"
FRIDAY_1630_BERLIN = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)


@pytest.fixture
def setup_bot(make_bot: Any, fake: FakeSlack, seeded: Seeded) -> BotServer:
    fake.add_channel(seeded.team_id, DIGEST, "scale-digest", members=[seeded.manager, seeded.admin])
    fake.add_channel(seeded.team_id, "C0NOBOT", "no-bot-here", members=[seeded.manager], bot_member=False)
    config = AppConfig.model_validate(
        {
            "sources": {"prom": {"kind": "prometheus", "url": "http://127.0.0.1:9"}},
            "teams": [
                {
                    "name": "Payments",
                    "channel": seeded.channel,
                    "leads": [seeded.lead],
                    "managers": [seeded.manager],
                    "metrics": {
                        "source": "prom",
                        "signals": {"db_pool": {"kind": "saturation", "query": "max(db_pool_utilisation)"}},
                    },
                }
            ],
            "digest": {
                "channel": DIGEST,
                "day": "monday",
                "time": "09:00",
                "timezone": "UTC",
                "managers": [seeded.manager],
            },
        }
    )
    bot: BotServer = make_bot(config=config, clock=ManualClock(NOW))
    return bot


def open_setup(fake: FakeSlack, seeded: Seeded, user: str) -> dict[str, Any]:
    fake.actor().slash_command(seeded.team_id, user, seeded.channel, "setup")
    return fake.wait_for(lambda: (fake.views_for(user) or [None])[-1], timeout=10)


def test_someone_neither_admin_nor_the_teams_manager_is_told_who_can_and_no_modal_opens(
    setup_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    fake.actor().slash_command(seeded.team_id, seeded.member, seeded.channel, "setup")
    answer = fake.wait_for(lambda: next(iter(fake.ephemerals(seeded.member)), None), timeout=10)
    assert answer["text"] == (
        f"Only workspace admins and Payments' managers (<@{seeded.manager}>) can set up this team."
    )
    assert fake.views_for(seeded.member) == [] and not fake.calls("views.open")


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_the_teams_manager_and_a_workspace_admin_get_the_modal_prefilled_from_the_file(
    setup_bot: BotServer, fake: FakeSlack, seeded: Seeded, who: str
) -> None:
    view = open_setup(fake, seeded, getattr(seeded, who))
    shown = text_of({"blocks": view["blocks"]})
    assert "The config file declares <#C0PAYMENTS> as “Payments”" in shown
    assert "wins over the file for this channel" in shown
    assert "now Mondays at 09:00 (UTC), from the config file" in shown
    values = view["state"]["values"]
    assert values[r.B_NAME][r.ACTION]["value"] == "Payments"
    assert values[r.B_LEADS][r.ACTION]["selected_users"] == [seeded.lead]
    assert len(view["blocks"]) <= 100


def test_mistakes_are_shown_under_their_inputs_and_nothing_is_stored(
    setup_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    view = open_setup(fake, seeded, seeded.manager)
    submission = fake.actor().submit_view(
        seeded.team_id,
        seeded.manager,
        view["id"],
        {
            r.B_TZ: {r.ACTION: "Mars/Olympus_Mons"},
            r.B_SERVICE: {r.ACTION: 'pay"ments} or vector(1)'},
            r.B_SOURCE: {r.ACTION: None},
            r.B_SIGNALS: {r.ACTION: ["prom:p95_latency"]},
        },
    )
    assert submission.response_action == "errors"
    assert submission.errors == {
        r.B_TZ: "“Mars/Olympus_Mons” is not a time zone; use an IANA name like Europe/Berlin or America/New_York.",
        r.B_SERVICE: (
            "A service is the `service` label value of the team's metrics: letters, digits and . _ - : / "
            "(up to 63), like payments-api."
        ),
        r.B_SIGNALS: "Pick the data source these signals come from first.",
    }
    assert setup_bot.db(teams_repo.find, seeded.team_id, seeded.channel).setup is None
    assert setup_bot.db(digest_repo.get_schedule, seeded.team_id) is None


def test_a_digest_channel_without_the_bot_is_refused_in_the_modal(
    setup_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    view = open_setup(fake, seeded, seeded.manager)
    submission = fake.actor().submit_view(
        seeded.team_id, seeded.manager, view["id"], {r.B_DIGEST_CHANNEL: {r.ACTION: "C0NOBOT"}}
    )
    assert submission.errors == {
        r.B_DIGEST_CHANNEL: "I'm not in #no-bot-here: `/invite @scalebot` there, then save again."
    }


def test_what_setup_stores_wins_over_the_file_the_answer_says_so_and_the_digest_is_rescheduled(
    setup_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    bot = setup_bot
    rt = bot.rt
    bot.call(jobs.ensure_workspace(rt, seeded.team_id))
    assert rt.scheduler is not None
    before = rt.scheduler.job(jobs.job_id(seeded.team_id))
    assert before is not None and before.next_run == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

    view = open_setup(fake, seeded, seeded.manager)
    submission = fake.actor().submit_view(
        seeded.team_id,
        seeded.manager,
        view["id"],
        {
            r.B_NAME: {r.ACTION: "Payments Core"},
            r.B_SERVICE: {r.ACTION: "payments-api"},
            r.B_SIGNALS: {r.ACTION: ["prom:p95_read_latency", "prom:db_pool"]},
            r.B_LEADS: {r.ACTION: [seeded.lead2, seeded.lead3]},
            r.B_DAY: {r.ACTION: "friday"},
            r.B_TIME: {r.ACTION: "16:30"},
            r.B_TZ: {r.ACTION: "Europe/Berlin"},
            r.B_DIGEST_MANAGERS: {r.ACTION: [seeded.manager]},
        },
    )
    assert submission.response_action == "close"
    answer = fake.wait_for(
        lambda: next(iter(fake.ephemerals(seeded.manager, seeded.channel)), None), timeout=10
    )
    text = answer["text"]
    assert "Saved: <#C0PAYMENTS> is team *Payments Core*" in text
    assert "metrics from prom, service `payments-api`, signals: db_pool, p95_read_latency" in text
    assert "The config file also declares <#C0PAYMENTS> (as “Payments”): what you saved here wins" in text
    assert "Weekly digest: Fridays at 16:30 (Europe/Berlin) in <#C0DIGEST>" in text
    assert "The config file sets a digest schedule for this workspace too: the one saved here wins." in text

    row = bot.db(teams_repo.find, seeded.team_id, seeded.channel)
    team = resolve_team(rt.config, seeded.team_id, seeded.channel, row.name, row.setup)
    assert (team.name, team.source, team.also_in_file) == ("Payments Core", "setup", True)
    assert team.leads == (seeded.lead2, seeded.lead3) and team.managers == (seeded.manager,)
    assert team.metrics is not None and team.metrics.service == "payments-api"
    assert set(team.metrics.signals) == {"p95_read_latency", "db_pool"}
    assert team.metrics.signals["db_pool"].query == "max(db_pool_utilisation)"  # the file's, not typed

    schedule = bot.call(schedule_for(rt, seeded.team_id))
    assert (schedule.day, schedule.time, schedule.timezone, schedule.from_setup) == (
        "friday",
        "16:30",
        "Europe/Berlin",
        True,
    )
    after = wait_until(
        lambda: (j := rt.scheduler.job(jobs.job_id(seeded.team_id))) and j.next_run != before.next_run and j,
        timeout=5,
    )
    assert after.next_run == FRIDAY_1630_BERLIN


def test_picking_another_channel_in_the_modal_fills_in_that_team_and_warns_who_may_save(
    setup_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    view = open_setup(fake, seeded, seeded.manager)
    fake.actor().select_in_view(
        seeded.team_id, seeded.manager, view["id"], CHANNEL_PICKED, seeded.other_channel
    )
    updated = fake.wait_for(
        lambda: (
            (v := fake.view(view["id"]))
            and v["state"]["values"][r.B_NAME][r.ACTION]["value"] == "search"
            and v
        ),
        timeout=10,
    )
    shown = text_of({"blocks": updated["blocks"]})
    assert "Only workspace admins and the team's managers (none named yet) can set up this team." in shown
    submission = fake.actor().submit_view(seeded.team_id, seeded.manager, view["id"], {})
    assert submission.errors == {
        r.B_CHANNEL: "Only workspace admins and the team's managers (none named yet) can set up this team."
    }


def test_saving_a_team_without_touching_the_digest_stores_no_digest_schedule(
    setup_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    view = open_setup(fake, seeded, seeded.admin)
    submission = fake.actor().submit_view(
        seeded.team_id, seeded.admin, view["id"], {r.B_NAME: {r.ACTION: "Payments Core"}}
    )
    assert submission.response_action == "close"
    wait_until(lambda: setup_bot.db(teams_repo.find, seeded.team_id, seeded.channel).name == "Payments Core")
    assert setup_bot.db(digest_repo.get_schedule, seeded.team_id) is None  # the file's digest still rules
    answer = fake.wait_for(
        lambda: next(iter(fake.ephemerals(seeded.admin, seeded.channel)), None), timeout=10
    )
    assert "the one saved here wins" not in answer["text"]


def test_a_teams_manager_who_is_not_the_digests_sees_the_digest_read_only_and_cannot_change_it(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    fake.add_channel(seeded.team_id, DIGEST, "scale-digest", members=[seeded.manager])
    config = AppConfig.model_validate(
        {
            "teams": [{"name": "Payments", "channel": seeded.channel, "managers": [seeded.lead]}],
            "digest": {"channel": DIGEST, "timezone": "UTC", "managers": [seeded.manager]},
        }
    )
    bot: BotServer = make_bot(config=config, clock=ManualClock(NOW))
    view = open_setup(fake, seeded, seeded.lead)
    shown = text_of({"blocks": view["blocks"]})
    assert "Mondays at 09:00 (UTC), in <#C0DIGEST>; DM copies to <@U0MGR1>" in shown
    assert f"Only workspace admins and the digest's managers (<@{seeded.manager}>) can change" in shown
    assert not {r.B_DIGEST_CHANNEL, r.B_DAY, r.B_TIME, r.B_TZ} & set(view["state"]["values"])
    assert fake.actor().submit_view(seeded.team_id, seeded.lead, view["id"], {}).response_action == "close"
    wait_until(lambda: bot.db(teams_repo.find, seeded.team_id, seeded.channel).setup is not None)
    assert bot.db(digest_repo.get_schedule, seeded.team_id) is None


def test_without_a_zone_in_the_file_the_digest_defaults_to_the_workspace_owners_time_zone(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    fake.add_user(seeded.team_id, "U0OWNER1", "olga", tz="America/Chicago", is_owner=True)
    fake.add_channel(seeded.team_id, DIGEST, "scale-digest", members=[seeded.manager])
    config = AppConfig.model_validate(
        {
            "teams": [{"name": "Payments", "channel": seeded.channel, "managers": [seeded.manager]}],
            "digest": {"channel": DIGEST, "managers": [seeded.manager]},
        }
    )
    bot: BotServer = make_bot(config=config, clock=ManualClock(NOW))
    schedule = bot.call(schedule_for(bot.rt, seeded.team_id))
    assert (schedule.timezone, schedule.zone_source) == ("America/Chicago", "workspace")
    assert schedule.next_run(NOW) == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # Monday 09:00 in Chicago
    view = open_setup(fake, seeded, seeded.manager)
    assert view["state"]["values"][r.B_TZ][r.ACTION]["value"] == "America/Chicago"
    shown = text_of({"blocks": view["blocks"]})
    assert "Mondays at 09:00 (America/Chicago)" in shown
    assert "America/Chicago is the workspace's time zone" in shown
    # Saved untouched, the default is not stored: it stays the workspace's.
    fake.actor().submit_view(seeded.team_id, seeded.manager, view["id"], {})
    wait_until(lambda: bot.db(teams_repo.find, seeded.team_id, seeded.channel) is not None)
    assert bot.db(digest_repo.get_schedule, seeded.team_id) is None


def test_a_slow_zone_lookup_does_not_hold_the_modal_back_and_still_fills_the_cache(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    fake.add_user(seeded.team_id, "U0OWNER1", "olga", tz="America/Chicago", is_owner=True)
    config = AppConfig.model_validate(
        {"teams": [{"name": "Payments", "channel": seeded.channel, "managers": [seeded.manager]}]}
    )
    bot: BotServer = make_bot(config=config, clock=ManualClock(NOW))
    bot.call(bot.rt.cache.delete(f"digest:zone:{seeded.team_id}"))  # as if a day had passed
    fake.stall_next("users.info", 2.0, times=5)
    fake.stall_next("users.list", 2.0, times=5)
    started = time.perf_counter()
    schedule = bot.call(schedule_for(bot.rt, seeded.team_id, zone_budget=0.3))
    assert time.perf_counter() - started < 1.5
    assert schedule.timezone == "UTC" and schedule.zone_source != "workspace"
    # The lookup went on in the background; the next caller gets the workspace's zone from the cache.
    wait_until(lambda: bot.call(bot.rt.cache.get(f"digest:zone:{seeded.team_id}")) is not None, timeout=10)
    assert bot.call(schedule_for(bot.rt, seeded.team_id, zone_budget=0.3)).timezone == "America/Chicago"


def test_a_teams_manager_picks_a_channel_for_their_own_digest_and_it_goes_there(
    setup_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    from bot.digest import service
    from bot.digest.model import Week
    from tests.digest_support import part

    fake.add_channel(seeded.team_id, "C0MINE", "maria-digest", members=[seeded.manager])
    admin_view = open_setup(fake, seeded, seeded.admin)
    assert not any(b.get("block_id") == r.B_OWN_DIGEST for b in admin_view["blocks"])  # manages no team

    view = open_setup(fake, seeded, seeded.manager)
    (own,) = [b for b in view["blocks"] if b.get("block_id") == r.B_OWN_DIGEST]
    assert own["label"]["text"] == "Your own digest" and "initial_conversation" not in own["element"]
    refused = fake.actor().submit_view(
        seeded.team_id, seeded.manager, view["id"], {r.B_OWN_DIGEST: {r.ACTION: "C0NOBOT"}}
    )
    assert refused.response_action == "errors" and "I'm not in #no-bot-here" in refused.errors[r.B_OWN_DIGEST]
    submission = fake.actor().submit_view(
        seeded.team_id, seeded.manager, view["id"], {r.B_OWN_DIGEST: {r.ACTION: "C0MINE"}}
    )
    assert submission.response_action == "close"
    schedule = wait_until(
        lambda: (
            (s := setup_bot.call(schedule_for(setup_bot.rt, seeded.team_id))).manager_channel(seeded.manager)
            and s
        )
    )
    assert schedule.manager_channel(seeded.manager) == "C0MINE"
    assert setup_bot.db(digest_repo.get_schedule, seeded.team_id) is None  # the file's digest still rules

    setup_bot.call(
        service.send_week(setup_bot.rt, seeded.team_id, Week.of(NOW, "UTC"), NOW, reason="now"), timeout=60
    )
    (mine,) = [m for m in fake.messages("C0MINE") if part(m) == "manager"]
    assert "Your teams · scalability digest" in text_of(mine) and "*Payments*" in text_of(mine)
    again = open_setup(fake, seeded, seeded.manager)
    (own,) = [b for b in again["blocks"] if b.get("block_id") == r.B_OWN_DIGEST]
    assert own["element"]["initial_conversation"] == "C0MINE"
