"""Bad input and the controls around a pre-mortem: starting without leads, a lead outside the channel,
a modal submitted twice, answers and votes after the reveal, undoing a merge, permissions, a past due
date and a deactivated owner."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import AppConfig, Defaults, TeamConfig
from bot.metrics.config import MetricsDefaults, PrometheusSource, SignalConfig, TeamMetricsConfig
from bot.premortem.grouping import component_key, group_id
from bot.premortem.render import (
    ACTION_ANSWER,
    ACTION_CANCEL,
    ACTION_CLOSE,
    ACTION_EXTEND,
    ACTION_REPLACE,
    ACTION_SPLIT,
    ACTION_UNVOTE,
    ACTION_VOTE,
)
from bot.premortem.render_modals import LEADS_ACTION, LEADS_BLOCK, REASON
from bot.premortem.render_plan import ACTION_MITIGATE, ACTION_OVERRIDE, ACTION_STATUS
from localslack import FakeSlack
from storage import premortem as repo
from storage import premortem_mitigations as mitigations_repo
from tests.harness import Seeded
from tests.helpers.metrics_fakes import FakePrometheus, prom_body, prom_value
from tests.premortem_driver import Driver, all_text, pace_quickly

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PAYMENTS = AppConfig(
    teams=[
        TeamConfig(name="Payments", channel="C0PAYMENTS", managers=["U0MGR1"]),
        TeamConfig(name="Search", channel="C0SEARCH", leads=["U0LEAD2", "U0LEAD3"]),
    ]
)


@pytest.fixture(autouse=True)
def _quick_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    pace_quickly(monkeypatch)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def driver(make_bot: Any, fake: FakeSlack, seeded: Seeded, clock: ManualClock) -> Driver:
    return Driver(fake, seeded, make_bot(config=PAYMENTS, clock=clock), fake.actor())


def gid(name: str) -> str:
    return group_id(component_key(name))


def one_risk(name: str, why: str = "it breaks") -> list[dict[str, Any]]:
    return [{"other": name, "why": why}]


def to_planning(d: Driver) -> None:
    """One lead, one answer (so the reveal is immediate), one vote, voting closed."""
    s = d.seeded
    d.start(s.manager, s.lead)
    d.answer(s.lead, one_risk("Database writes"))
    d.click(s.member, d.find("The answers:"), ACTION_VOTE, block_id=f"vote:{gid('Database writes')}")
    d.fake.wait_for(lambda: "1 vote" in all_text(d.find("The answers:")))
    d.click(s.manager, d.find("Close voting"), ACTION_CLOSE)
    d.find_top()


def test_without_leads_the_starter_picks_them_and_a_second_start_points_to_the_running_one(
    driver: Driver, fake: FakeSlack
) -> None:
    d, s = driver, driver.seeded
    d.actor.slash_command(s.team_id, s.manager, s.channel, "premortem")
    (view,) = fake.wait_for(lambda: fake.views_for(s.manager), message="the lead picker")
    assert view["title"]["text"] == "Start a pre-mortem"
    fake.actor().submit_view(
        s.team_id, s.manager, view["id"], {LEADS_BLOCK: {LEADS_ACTION: [s.lead, s.lead2]}}
    )
    fake.wait_for(lambda: d.roots(), message="the pre-mortem's root")
    d.root_ts = d.roots()[-1]["ts"]
    fake.wait_for(lambda: d.thread())
    assert f"<@{s.lead}>, <@{s.lead2}>: *If our active users" in all_text(d.prompt())

    d.actor.slash_command(s.team_id, s.member, s.channel, f"premortem <@{s.lead3}|chen>")
    said = d.wait_ephemeral(s.member, "already running")
    assert f"A pre-mortem is already running here (started by <@{s.manager}>)" in said
    assert len(d.roots()) == 1


def test_the_teams_leads_from_the_config_are_asked_when_none_are_mentioned(driver: Driver) -> None:
    d, s = driver, driver.seeded
    d.channel = s.other_channel
    d.start(s.member)
    assert f"<@{s.lead2}>, <@{s.lead3}>: *If our active users" in all_text(d.prompt())


def test_words_that_are_not_mentions_get_the_usage_in_the_ack(driver: Driver, fake: FakeSlack) -> None:
    s = driver.seeded
    driver.actor.slash_command(s.team_id, s.lead, s.channel, "premortem ana bo")
    (said,) = fake.ephemerals(s.lead)
    assert "Mention the tech leads (type `@` and pick them), or use `status` or `export`." in said["text"]
    assert not driver.roots()


def test_a_lead_not_in_the_channel_is_told_and_the_starter_replaces_them(
    driver: Driver, fake: FakeSlack
) -> None:
    d, s = driver, driver.seeded
    d.start(s.lead, s.lead2, s.outsider)
    said = d.wait_ephemeral(s.lead, "not in this channel")
    assert f"<@{s.outsider}> not in this channel: told by DM, and you can replace them" in said
    (told,) = fake.wait_for(lambda: d.dms(s.outsider))
    assert "you are not in <#C0PAYMENTS>. Join the channel to answer" in told["text"]
    block = f"replace:1:{s.outsider}"
    assert f"<@{s.outsider}> is not in this channel" in all_text(d.prompt())

    # Someone else may not; the starter may, with someone who is in the channel.
    d.actor.select(s.team_id, s.member, s.channel, d.prompt()["ts"], ACTION_REPLACE, s.lead3, block)
    assert "(who started it), the team's managers or an admin can replace a lead" in d.wait_ephemeral(
        s.member, "Only"
    )
    d.actor.select(s.team_id, s.lead, s.channel, d.prompt()["ts"], ACTION_REPLACE, s.lead3, block)
    d.find(f"<@{s.lead3}> replaces <@{s.outsider}> as a lead")
    fake.wait_for(lambda: "not in this channel" not in all_text(d.prompt()))
    assert f"⏳ <@{s.lead3}>" in all_text(d.prompt()) and f"<@{s.outsider}>" not in all_text(d.prompt())


def test_an_answer_submitted_twice_counts_once_and_an_edit_replaces_it(
    driver: Driver, fake: FakeSlack
) -> None:
    d, s = driver, driver.seeded
    d.start(s.manager, s.lead, s.lead2)
    d.answer(s.lead, [{"other": "Queue", "why": "one consumer"}, {"other": "CDN", "why": "origin pulls"}])
    resent = d.actor._post_interaction(d.actor.last_payload)  # Slack's retry of the same submission
    assert resent.status_code == 200
    fake.wait_for(lambda: "1 of 2 leads answered" in all_text(d.root()))
    stored = d.bot.db(repo.load, s.team_id, 1)
    assert [(r.rank, r.component) for r in stored.risks] == [(1, "Queue"), (2, "CDN")]

    view = d.open_answer(s.lead)
    shown = fake.view(view)
    assert shown is not None and shown["title"]["text"] == "Edit your answer"
    assert (
        shown["state"]["values"]["risk2_component"]["premortem:component"]["selected_option"]["value"]
        == "CDN"
    )
    d.actor.submit_view(
        s.team_id,
        s.lead,
        view,
        {
            "risk1_other": {"value": "Job queue"},
            "risk2_component": {"premortem:component": None},
            "risk2_why": {"value": ""},
        },
    )
    fake.wait_for(lambda: [r.component for r in d.bot.db(repo.load, s.team_id, 1).risks] == ["Job queue"])
    assert "1 of 2 leads answered" in all_text(d.root())


def test_answers_after_the_deadline_and_votes_after_voting_closed_get_a_clear_sentence(
    driver: Driver, fake: FakeSlack, clock: ManualClock
) -> None:
    d, s = driver, driver.seeded
    d.start(s.manager, s.lead, s.lead2)
    d.answer(s.lead, one_risk("Queue"))
    late = d.open_answer(s.lead2)  # open before the deadline…
    clock.set(T0 + timedelta(hours=49))
    refused = d.answer(s.lead2, one_risk("Cache"), late)  # …submitted after it
    assert refused.response_action == "errors"
    # The deadline job may have revealed the answers already (it runs as soon as the clock passes it):
    # either way the lead is told why and that nothing was added.
    assert refused.errors in (
        {
            "risk1_component": "The deadline has passed, so answers are closed and are being revealed in the "
            "thread. Your answer was not added; copy it before closing."
        },
        {
            "risk1_component": "The answers were revealed, so answers are closed: vote on the risks in the "
            "thread instead. Your answer was not added; copy it before closing."
        },
    )
    d.find("The answers: 1 risk, 1 component")
    assert "the deadline passed with 1 of 2 leads answered" in all_text(d.prompt())
    assert [r.component for r in d.bot.db(repo.load, s.team_id, 1).risks] == ["Queue"]

    d.click(s.member, d.find("The answers:"), ACTION_VOTE, block_id=f"vote:{gid('Queue')}")
    stale_vote = d.actor.last_payload
    fake.wait_for(lambda: "1 vote" in all_text(d.find("The answers:")))
    d.click(s.lead, d.find("Close voting"), ACTION_CLOSE)
    d.find_top()
    d.actor._post_interaction(stale_vote)  # a click on the vote button as it was before voting closed
    said = d.wait_ephemeral(s.member, "Voting has closed")
    assert said.startswith("Voting has closed and the top three risks are being mitigated")
    assert len(d.bot.db(repo.load, s.team_id, 1).votes) == 1


def test_a_lead_undoes_a_merge_and_the_votes_carry_over_to_each_part(driver: Driver, fake: FakeSlack) -> None:
    d, s = driver, driver.seeded
    d.start(s.manager, s.lead, s.lead2)
    d.answer(s.lead, one_risk("DB writes", "primary is full"))
    d.answer(s.lead2, one_risk("database writes", "the ledger table locks"))
    merged = gid("DB writes")
    d.click(s.member, d.find("The answers: 2 risks, 1 component"), ACTION_VOTE, block_id=f"vote:{merged}")
    fake.wait_for(lambda: "1 vote" in all_text(d.find("The answers:")))
    d.click(s.member, d.find("The answers:"), ACTION_SPLIT, block_id=f"vote:{merged}")
    assert "Only this pre-mortem's leads" in d.wait_ephemeral(s.member, "undo a merge")
    d.click(s.lead2, d.find("The answers:"), ACTION_SPLIT, block_id=f"vote:{merged}")
    reveal = all_text(d.find("The answers: 2 risks, 2 components"))
    assert f"*DB writes* · 1 vote (<@{s.member}>)" in reveal
    assert f"*database writes* · 1 vote (<@{s.member}>)" in reveal
    assert ACTION_SPLIT not in reveal


def test_only_the_starter_managers_or_admins_extend_or_cancel(driver: Driver, fake: FakeSlack) -> None:
    d, s = driver, driver.seeded
    d.start(s.lead, s.lead2)
    d.click(s.member, d.prompt(), ACTION_EXTEND)
    assert "can extend the deadline" in d.wait_ephemeral(s.member, "Only")
    d.click(s.manager, d.prompt(), ACTION_EXTEND)
    later = int((T0 + timedelta(hours=72)).timestamp())
    assert f"The deadline is <!date^{later}^" in d.wait_ephemeral(s.manager, "The deadline is")
    fake.wait_for(lambda: f"*Deadline:* <!date^{later}^" in all_text(d.prompt()))
    assert d.bot.db(repo.get, s.team_id, 1).deadline.replace(tzinfo=UTC) == T0 + timedelta(hours=72)

    d.click(s.admin, d.prompt(), ACTION_CANCEL)
    fake.wait_for(lambda: f"Cancelled by <@{s.admin}>" in all_text(d.prompt()))
    assert f"Cancelled by <@{s.admin}>" in all_text(d.root()) and "Add my answer" not in all_text(d.prompt())
    d.actor.slash_command(s.team_id, s.lead, s.channel, f"premortem <@{s.lead3}>")  # a new one may start
    fake.wait_for(lambda: len(d.roots()) == 2)


def test_a_deadline_with_no_answers_closes_it_and_frees_the_channel(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, clock: ManualClock
) -> None:
    bot = make_bot(config=PAYMENTS, clock=clock, run_scheduler=True)
    d, s = Driver(fake, seeded, bot, fake.actor()), seeded
    d.start(s.manager, s.lead, s.lead2)
    clock.set(T0 + timedelta(hours=49))
    scheduler = d.bot.rt.scheduler
    assert scheduler is not None
    scheduler.wakeup()  # the deadline job looks at the moved clock now
    fake.wait_for(
        lambda: "no lead had named a risk" in all_text(d.prompt()), message="closed at the deadline"
    )
    assert "no lead had named a risk" in all_text(d.root())
    assert "Add my answer" not in all_text(d.prompt())
    assert d.bot.db(repo.get, s.team_id, 1).status == "cancelled"
    assert not any("The answers:" in all_text(m) for m in d.thread())  # nothing to vote on
    d.actor.slash_command(s.team_id, s.manager, s.channel, f"premortem <@{s.lead3}>")
    fake.wait_for(lambda: len(d.roots()) == 2, message="a new pre-mortem may start")


def test_an_answer_saved_as_the_deadline_passes_is_revealed_not_closed_over(driver: Driver) -> None:
    d, s = driver, driver.seeded
    d.start(s.manager, s.lead, s.lead2)
    d.answer(s.lead, one_risk("Queue"))  # saved after the deadline job loaded "no answers"
    assert d.bot.db(repo.close_unanswered, s.team_id, 1, T0 + timedelta(hours=49)) is False
    assert d.bot.db(repo.get, s.team_id, 1).status == "collecting"


def test_a_pre_mortem_can_be_cancelled_while_voting(driver: Driver, fake: FakeSlack) -> None:
    d, s = driver, driver.seeded
    d.start(s.manager, s.lead)
    d.answer(s.lead, one_risk("Queue"))
    d.click(s.member, d.find("The answers:"), ACTION_CANCEL, block_id="close:1")
    assert "can cancel it" in d.wait_ephemeral(s.member, "Only")
    d.click(s.manager, d.find("The answers:"), ACTION_CANCEL, block_id="close:1")
    fake.wait_for(lambda: f"Cancelled by <@{s.manager}>" in all_text(d.root()))
    fake.wait_for(lambda: ACTION_VOTE not in all_text(d.find("The answers:")), message="the ballot closed")
    reveal = all_text(d.find("The answers:"))
    assert "*Queue*" in reveal and ACTION_CANCEL not in reveal
    d.actor.slash_command(s.team_id, s.lead, s.channel, f"premortem <@{s.lead2}>")
    fake.wait_for(lambda: len(d.roots()) == 2, message="a new pre-mortem may start")


def test_components_of_revealed_pre_mortems_are_suggested_and_hidden_ones_are_not(
    driver: Driver, fake: FakeSlack
) -> None:
    d, s = driver, driver.seeded
    to_planning(d)  # "Database writes", revealed and planned
    d.start(s.manager, s.lead, s.lead2)
    d.answer(s.lead, one_risk("Secret ledger shard"))
    fake.wait_for(lambda: f"✅ <@{s.lead}>" in all_text(d.prompt()))
    view = d.open_answer(s.lead2)
    offered = [o["value"] for o in d.suggest(s.lead2, view, 1, "")]
    assert offered == ["Database writes"]


def test_the_mitigation_modal_refuses_a_past_due_date_and_a_deactivated_owner(
    driver: Driver, fake: FakeSlack
) -> None:
    d, s = driver, driver.seeded
    to_planning(d)
    view = d.open_modal(
        s.lead,
        lambda: d.click(s.lead, d.find_top(), ACTION_MITIGATE, block_id=f"plan:{gid('Database writes')}"),
    )
    actor = fake.actor()
    past = actor.submit_view(
        s.team_id,
        s.lead,
        view,
        {"plan": {"value": "Batch the ledger writes"}, "owner": {"value": s.member}, "due": {"value": "2026-11-20"},
         "verify": {"value": "load_test"}},
    )  # fmt: skip
    assert past.errors == {"due": "The due date 2026-11-20 is in the past; pick today or later."}
    fake.deactivate_user(s.member)  # the owner leaves while the modal is open
    saving = actor.submit_view(s.team_id, s.lead, view, {"due": {"value": "2026-12-04"}})
    assert saving.response_action == "update"
    shown = fake.wait_for(lambda: (v := fake.view(view)) and "is deactivated" in all_text(v) and v)
    assert f"<@{s.member}> is deactivated; pick another owner." in all_text(shown)
    assert shown["state"]["values"]["plan"]["value"]["value"] == "Batch the ledger writes"
    assert d.bot.db(mitigations_repo.for_premortem, s.team_id, 1) == []

    actor.submit_view(s.team_id, s.lead, view, {"owner": {"value": s.lead2}})
    fake.wait_for(lambda: "got it by DM" in all_text(fake.view(view)))
    (row,) = d.bot.db(mitigations_repo.for_premortem, s.team_id, 1)
    assert (row.owner, row.due.isoformat(), row.created_by) == (s.lead2, "2026-12-04", s.lead)
    resent = actor._post_interaction(actor.last_payload)  # the same submission again: nothing twice
    assert resent.status_code == 200
    assert len(d.bot.db(mitigations_repo.for_premortem, s.team_id, 1)) == 1
    fake.wait_for(lambda: len(d.dms(s.lead2)) == 1)
    assert "You own a mitigation" in d.dms(s.lead2)[0]["text"]


def test_a_vote_from_someone_not_in_the_channel_is_refused_with_why(driver: Driver, fake: FakeSlack) -> None:
    d, s = driver, driver.seeded
    d.start(s.manager, s.lead)
    d.answer(s.lead, one_risk("Queue"))
    block = f"vote:{gid('Queue')}"
    # Olly saw the ballot while in the channel, left, and clicks Vote in the view still open.
    fake.join(s.channel, s.outsider)
    d.click(s.outsider, d.find("The answers:"), ACTION_UNVOTE, block_id=block)
    d.wait_ephemeral(s.outsider, "You had not voted")
    stale = d.actor.last_payload
    stale["actions"][0].update(action_id=ACTION_VOTE, text={"type": "plain_text", "text": "Vote"})
    fake.leave(s.channel, s.outsider)
    d.actor._post_interaction(stale)
    said = d.wait_ephemeral(s.outsider, "vote on its pre-mortem")
    assert said == (
        "Only people in <#C0PAYMENTS> vote on its pre-mortem, and you are not in it, so your vote was not "
        "counted. Join the channel, then vote again."
    )
    assert d.bot.db(repo.load, s.team_id, 1).votes == []
    assert "*Queue* · 0 votes" in all_text(d.find("The answers:"))

    fake.join(s.channel, s.outsider)  # back in the channel, the vote counts (no stale member list)
    d.click(s.outsider, d.find("The answers:"), ACTION_VOTE, block_id=block)
    fake.wait_for(lambda: f"1 vote (<@{s.outsider}>)" in all_text(d.find("The answers:")))


QUEUE = 'max(queue_depth_utilisation{team="payments"})'


def with_metrics(url: str) -> AppConfig:
    return AppConfig(
        defaults=Defaults(metrics=MetricsDefaults(cache_ttl_seconds=0, retries=0)),
        sources={"prom": PrometheusSource(kind="prometheus", url=url, timeout_seconds=1)},  # type: ignore[arg-type]
        teams=[
            TeamConfig(
                name="Payments",
                channel="C0PAYMENTS",
                managers=["U0MGR1"],
                metrics=TeamMetricsConfig(
                    source="prom",
                    default_signals=False,
                    signals={"queue_depth": SignalConfig(query=QUEUE, kind="saturation")},
                ),
            )
        ],
    )


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    fake_prometheus = FakePrometheus({QUEUE: prom_value(0.05)})
    yield fake_prometheus
    fake_prometheus.close()


def override_form(d: Driver, user: str) -> str:
    """`user` clicks Done on the metric-verified mitigation, is offered "Mark done anyway", opens it."""
    s = d.seeded
    before = len(d.fake.ephemerals(user))
    d.click(user, d.find_top(), f"{ACTION_STATUS}:done", block_id=f"plan:{gid('Queue depth')}")
    offer = d.fake.wait_for(
        lambda: next((e for e in d.fake.ephemerals(user)[before:] if "I can't read" in str(e["text"])), None),
        message="the offer to mark it done anyway",
    )
    return d.open_modal(user, lambda: d.actor.click(s.team_id, user, s.channel, offer["ts"], ACTION_OVERRIDE))


def metric_verified(make_bot: Any, fake: FakeSlack, seeded: Seeded, url: str) -> Driver:
    """Voting closed on one risk, its mitigation verified by `queue_depth < 0.1`."""
    d, s = (
        Driver(fake, seeded, make_bot(config=with_metrics(url), clock=ManualClock(T0)), fake.actor()),
        seeded,
    )
    d.start(s.manager, s.lead)
    d.answer(s.lead, one_risk("Queue depth"))
    d.click(s.manager, d.find("Close voting"), ACTION_CLOSE)
    view = d.open_modal(
        s.manager,
        lambda: d.click(s.manager, d.find_top(), ACTION_MITIGATE, block_id=f"plan:{gid('Queue depth')}"),
    )
    fake.actor().submit_view(
        s.team_id,
        s.manager,
        view,
        {"plan": {"value": "Add consumers"}, "owner": {"value": s.lead}, "due": {"value": "2026-12-01"},
         "verify": {"value": "metric"}, "metric": {"value": "queue_depth"}, "target": {"value": "< 0.1"}},
    )  # fmt: skip
    fake.wait_for(lambda: "got it by DM" in all_text(fake.view(view)), message="the mitigation saved")
    return d


def test_mark_done_anyway_is_refused_when_the_metric_came_back_while_the_form_was_open(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, prometheus: FakePrometheus
) -> None:
    d, s = metric_verified(make_bot, fake, seeded, prometheus.url), seeded
    prometheus.behaviours[QUEUE] = prom_body({"status": "error", "error": "down"}, status=503)
    view = override_form(d, s.manager)
    prometheus.behaviours[QUEUE] = prom_value(0.05)  # the source is back before the form is sent

    refused = fake.actor().submit_view(
        s.team_id, s.manager, view, {REASON: {"value": "Load test passed on staging"}}
    )

    assert refused.response_action == "errors"
    assert refused.errors == {
        REASON: "queue_depth can be read again (5% now), so it can't be marked done without it: close this "
        "form and use “Done”, which checks the target."
    }
    (row,) = d.bot.db(mitigations_repo.for_premortem, s.team_id, 1)
    assert (row.status, row.override_reason) == ("open", None)


def test_mark_done_anyway_is_refused_when_someone_closed_the_item_while_the_form_was_open(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, prometheus: FakePrometheus
) -> None:
    d, s = metric_verified(make_bot, fake, seeded, prometheus.url), seeded
    prometheus.behaviours[QUEUE] = prom_body({"status": "error", "error": "down"}, status=503)
    mine = override_form(d, s.manager)
    theirs = override_form(d, s.admin)
    closed = fake.actor().submit_view(s.team_id, s.admin, theirs, {REASON: {"value": "Replaced the queue"}})
    assert closed.response_action == "close" and closed.errors is None
    fake.wait_for(lambda: "Marked done without the metric by <@U0ADMIN1>" in all_text(d.find("*Plan:* Add")))

    refused = fake.actor().submit_view(
        s.team_id, s.manager, mine, {REASON: {"value": "Load test passed on staging"}}
    )

    assert refused.errors == {
        REASON: "“Queue depth” is already done, so there is nothing to mark done. Close this form."
    }
    (row,) = d.bot.db(mitigations_repo.for_premortem, s.team_id, 1)
    assert (row.status, row.override_by, row.override_reason) == ("done", s.admin, "Replaced the queue")
    assert [e.status for e in d.bot.db(mitigations_repo.events, s.team_id, row.id)] == ["open", "done"]


def test_in_an_evening_in_utc_minus_8_today_is_a_due_date_and_overdue_follows_the_owners_calendar(
    driver: Driver, fake: FakeSlack, clock: ManualClock
) -> None:
    d, s = driver, driver.seeded
    west = "U0WEST1"
    fake.add_user(s.team_id, west, "wes", tz="America/Los_Angeles")
    fake.join(s.channel, west)
    clock.set(datetime(2026, 11, 24, 5, 0, tzinfo=UTC))  # 21:00 on Nov 23 in Los Angeles (UTC−8)
    d.start(west, s.lead)
    d.answer(s.lead, one_risk("Database writes"))
    d.click(west, d.find("Close voting"), ACTION_CLOSE)
    top = d.find_top()
    view = d.open_modal(
        west, lambda: d.click(west, top, ACTION_MITIGATE, block_id=f"plan:{gid('Database writes')}")
    )
    form = fake.view(view)
    assert form is not None
    (due,) = [b for b in form["blocks"] if b.get("block_id") == "due"]
    assert due["element"]["initial_date"] == "2026-11-23"  # their today, not UTC's

    saving = fake.actor().submit_view(
        s.team_id,
        west,
        view,
        {"plan": {"value": "Batch the ledger writes"}, "owner": {"value": west}, "due": {"value": "2026-11-23"},
         "verify": {"value": "load_test"}},
    )  # fmt: skip
    assert saving.response_action == "update" and saving.errors is None
    fake.wait_for(lambda: "got it by DM" in all_text(fake.view(view)), message="the mitigation saved")
    (row,) = d.bot.db(mitigations_repo.for_premortem, s.team_id, 1)
    assert (row.due.isoformat(), row.owner_tz) == ("2026-11-23", "America/Los_Angeles")
    # Still Nov 23 where the owner is, so not overdue (in UTC it would be a day late already).
    assert "overdue" not in all_text(d.find("*Plan:* Batch"))
    d.actor.slash_command(s.team_id, s.member, s.channel, "premortem status")
    assert d.wait_ephemeral(s.member, "open mitigation") == "1 open mitigation for Payments"

    clock.set(datetime(2026, 11, 24, 8, 30, tzinfo=UTC))  # 00:30 on Nov 24 in Los Angeles
    d.actor.slash_command(s.team_id, s.manager, s.channel, "premortem status")
    assert d.wait_ephemeral(s.manager, "open mitigation") == "1 open mitigation for Payments, 1 overdue"
    listing = all_text(fake.ephemerals(s.manager)[-1])
    assert "due 2026-11-23 :warning: *overdue by 1 day*" in listing


def test_a_button_whose_value_is_not_ours_is_answered_with_a_sentence(driver: Driver) -> None:
    """A forged or mangled value (a pre-mortem id that is not a number) is told to the clicker in words."""
    d, s = driver, driver.seeded
    d.start(s.manager, s.lead)
    prompt = d.prompt()
    stored = d.fake.store.find_message(s.channel, prompt["ts"])
    assert stored is not None
    with d.fake.store.lock:
        for block in stored.blocks or []:
            for element in block.get("elements") or []:
                if element.get("action_id") == ACTION_ANSWER:
                    element["value"] = '{"pm":"seven"}'
    d.click(s.lead, prompt, ACTION_ANSWER)  # Slack gets a 200
    said = d.wait_ephemeral(s.lead, "That button is not one of mine any more")
    assert "premortem status" in said and "error id" not in said
    assert d.fake.views_for(s.lead) == []  # no form opened
