"""Bad input and the controls around a pre-mortem: starting without leads, a lead outside the channel,
a modal submitted twice, answers and votes after the reveal, undoing a merge, permissions, a past due
date and a deactivated owner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import AppConfig, TeamConfig
from bot.premortem.grouping import component_key, group_id
from bot.premortem.render import (
    ACTION_CANCEL,
    ACTION_CLOSE,
    ACTION_EXTEND,
    ACTION_REPLACE,
    ACTION_SPLIT,
    ACTION_VOTE,
)
from bot.premortem.render_modals import LEADS_ACTION, LEADS_BLOCK
from bot.premortem.render_plan import ACTION_MITIGATE
from localslack import FakeSlack
from storage import premortem as repo
from storage import premortem_mitigations as mitigations_repo
from tests.harness import Seeded
from tests.premortem_driver import Driver, all_text

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PAYMENTS = AppConfig(
    teams=[
        TeamConfig(name="Payments", channel="C0PAYMENTS", managers=["U0MGR1"]),
        TeamConfig(name="Search", channel="C0SEARCH", leads=["U0LEAD2", "U0LEAD3"]),
    ]
)


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
    d.find("Top three risks")


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
    assert "Mention the tech leads (like `@ana @bo`), or use `status` or `export`." in said["text"]
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
    d.find("Top three risks")
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
        lambda: d.click(
            s.lead, d.find("Top three risks"), ACTION_MITIGATE, block_id=f"plan:{gid('Database writes')}"
        ),
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
