"""Reminders respect who is away, end to end: signed HTTP from the Slack fake (which serves statuses and
Do Not Disturb with Slack's shapes, scopes and tiers), the real scheduler and a controllable clock."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

import pytest

from bot.premortem.grouping import component_key, group_id
from bot.premortem.render import ACTION_CLOSE, ACTION_EXTEND, ACTION_VOTE
from bot.premortem.render_plan import ACTION_MITIGATE
from bot.presence.pace import Pace
from bot.presence.rules import Away, Reached
from bot.presence.service import Presence
from common.clock import ManualClock
from localslack import FakeSlack
from storage import premortem as repo
from tests.harness import Seeded
from tests.premortem_driver import Driver, all_text, pace_quickly
from tests.test_premortem_schedule import SECOND, T0, Clocked, at, config

MINUTE = 60.0
ROUND = 1000


@pytest.fixture(autouse=True)
def _quick_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    pace_quickly(monkeypatch)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


def start(make_bot: Any, fake: FakeSlack, seeded: Seeded, clock: ManualClock) -> Clocked:
    bot = make_bot(config=config(48), clock=clock, run_scheduler=True)
    d = Driver(fake, seeded, bot, fake.actor())
    d.start(seeded.manager, seeded.lead, seeded.lead2, seeded.lead3)  # deadline Wednesday 07:00 UTC
    return Clocked(d, clock)


def ts(when: Any) -> float:
    return float(when.timestamp())


def test_a_lead_out_of_office_and_one_in_dnd_are_not_pinged_until_they_are_back_and_the_thread_says_so(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, clock: ManualClock
) -> None:
    s = seeded
    # Ana (Berlin) is out of office until Tuesday 12:00 UTC; Chen (Tokyo) is in Do Not Disturb on
    # Tuesday 06:00–09:00 UTC (15:00–18:00 in Tokyo), when his halfway reminder is due.
    fake.set_status(s.lead, "OOO, back Tuesday", ":palm_tree:", expiration=ts(at(24, 12)))
    fake.set_dnd(s.lead3, start=ts(at(24, 6)), end=ts(at(24, 9)))
    c = start(make_bot, fake, seeded, clock)

    # Ana is shown away from the start; Chen is not in DND yet.
    prompt = c.d.fake.wait_for(
        lambda: f"<@{s.lead}> away until" in (t := all_text(c.d.prompt())) and t, message="Ana shown as away"
    )
    assert f":palm_tree: <@{s.lead}> away until Tue 24 Nov" in prompt and f"⏳ <@{s.lead3}>" in prompt
    c.to(at(24, 7) + SECOND)  # Chen's halfway (16:00 in Tokyo): he is in DND
    needle = f":palm_tree: <@{s.lead3}> away until Tue 24 Nov"  # DND ends at 18:00 in Tokyo
    c.d.fake.wait_for(lambda: needle in all_text(c.d.prompt()), message="Chen shown as away")
    c.to(at(24, 8) + SECOND)  # Ana's halfway (09:00 in Berlin): still out of office
    prompt = all_text(c.d.prompt())
    assert f"⏳ <@{s.lead2}>" in prompt  # Bo is simply not answered yet
    c.settle()
    assert c.reminders(s.lead) == [] and c.reminders(s.lead3) == []

    # Ana's status expires at 12:00 UTC (13:00 in Berlin, a working hour): she gets her reminder then,
    # once, and the thread stops saying she is away.
    c.to(at(24, 12) + SECOND)
    c.wait_reminders(s.lead, 1)
    c.d.fake.wait_for(lambda: f"⏳ <@{s.lead}>" in all_text(c.d.prompt()), message="Ana no longer away")
    # Bo, present, gets his at 09:00 in New York.
    c.to(at(24, 14) + SECOND)
    c.wait_reminders(s.lead2, 1)
    # Chen's DND ended at 18:00 in Tokyo: his reminder waits for 09:00 Wednesday there (00:00 UTC).
    c.to(at(24, 23) + SECOND)
    c.settle()
    assert c.reminders(s.lead3) == []
    c.to(at(25, 0) + SECOND)
    (chen,) = c.wait_reminders(s.lead3, 1)
    assert "Reminder: your answer to the Payments pre-mortem is due" in all_text(chen)
    c.d.fake.wait_for(lambda: "away until" not in all_text(c.d.prompt()), message="nobody shown away")
    c.settle()
    assert len(c.reminders(s.lead)) == 1 and len(c.reminders(s.lead2)) == 1
    # Who was looked up, and how: statuses one by one, DND in one batch per round.
    assert fake.calls("users.profile.get") and fake.calls("dnd.teamInfo")
    assert not [c for c in fake.calls() if c.error == "ratelimited"]


def test_when_most_leads_are_away_at_the_deadline_the_starter_is_offered_once_to_move_it(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, clock: ManualClock
) -> None:
    s = seeded
    fake.set_status(s.lead3, "", ":airplane:")
    fake.set_dnd(s.lead, start=ts(at(24, 7)), end=ts(at(27, 17)))  # Ana: DND from Tuesday to Friday
    c = start(make_bot, fake, seeded, clock)
    c.d.fake.wait_for(lambda: f"<@{s.lead3}> away" in all_text(c.d.prompt()))  # from the start
    assert f"⏳ <@{s.lead}>" in all_text(c.d.prompt())  # her DND starts on Tuesday
    c.to(at(24, 7) + SECOND)  # Chen still away: one of three, no offer yet
    c.settle()
    assert c.d.dms(s.manager) == []
    c.to(at(24, 8) + SECOND)  # Ana's halfway finds her away too: two of three at the deadline
    offer = c.d.fake.wait_for(lambda: c.d.dms(s.manager), message="the offer to the starter")[-1]
    text = all_text(offer)
    assert "Most leads of the Payments pre-mortem" in text and "half-empty" in text
    assert f"<@{s.lead}> (away until Fri 27 Nov)" in text and f"<@{s.lead3}> (away)" in text
    # A day later they are still away (tried daily): no second offer.
    c.to(at(25, 0) + SECOND)
    c.to(at(25, 1) + SECOND)
    c.settle()
    assert len(c.d.dms(s.manager)) == 1
    # The starter moves the deadline with the button.
    im = c.d.dm_channel(s.manager)
    assert im is not None
    button = next(
        e
        for b in offer["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ACTION_EXTEND
    )
    response = fake.actor().click(s.team_id, s.manager, im, offer["ts"], ACTION_EXTEND, button["value"])
    assert response.status_code == 200
    c.d.fake.wait_for(
        lambda: (
            c.d.bot.db(repo.get, s.team_id, 1).deadline.replace(tzinfo=None) > at(25, 7).replace(tzinfo=None)
        ),
        message="the deadline moved",
    )
    c.d.wait_ephemeral(s.manager, "The deadline is")


def test_leads_already_away_at_the_start_are_shown_at_once_and_the_offer_comes_at_once(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, clock: ManualClock
) -> None:
    s = seeded
    fake.set_status(s.lead, "Parental leave", ":baby:")
    fake.set_dnd(s.lead2, start=ts(T0 - timedelta(hours=1)), end=ts(at(27, 12)))  # DND all week
    c = start(make_bot, fake, seeded, clock)
    prompt = c.d.fake.wait_for(
        lambda: f"<@{s.lead2}> away" in (t := all_text(c.d.prompt())) and f"<@{s.lead}> away" in t and t
    )
    assert f":palm_tree: <@{s.lead}> away ·" in prompt and f"<@{s.lead2}> away until Fri 27 Nov" in prompt
    offer = c.d.fake.wait_for(lambda: c.d.dms(s.manager), message="the offer at the start")[-1]
    assert "Move the deadline" in all_text(offer)


def test_an_install_without_the_new_scopes_treats_people_as_present_and_says_so_once(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    s = seeded
    old = "channels:history,channels:read,chat:write,commands,files:write,groups:history,groups:read,im:write,users:read"
    token = fake.store.mint_bot_token(s.team_id, scopes=old).token  # installed with the old manifest
    fake.set_status(s.lead, "OOO", ":palm_tree:")
    bot = make_bot(slack_bot_token=token)
    presence = Presence(bot.rt)
    with caplog.at_level(logging.WARNING, logger="bot.presence.service"):
        assert bot.call(presence.reach(s.team_id, s.lead)) == Reached()
        assert bot.call(presence.reach(s.team_id, s.lead2)) == Reached()
    refused = [c for c in fake.calls() if c.error == "missing_scope"]
    assert {c.method for c in refused} == {"users.profile.get", "dnd.teamInfo"}
    assert len(refused) == 2  # not asked again after Slack said no
    logged = [r for r in caplog.records if "reinstall" in r.getMessage()]
    assert len(logged) == 1


def test_a_round_of_1000_people_stays_within_slacks_tiers(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    s = seeded
    people = [f"U{n:08d}" for n in range(ROUND)]
    for n, user in enumerate(people):
        fake.add_user(s.team_id, user, f"person{n}", tz="UTC")
    away = set(people[::100])
    for user in away:
        fake.set_status(user, "Out of office", "")
    bot = make_bot()
    # Virtual time: waiting for the tier moves the bot's buckets and the fake's clock together (after a
    # real moment in which the calls already allowed reach the fake, as they would in real time).
    virtual = [time.time()]

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0.01)
        virtual[0] += seconds
        fake.advance_time(seconds)

    presence = Presence(bot.rt, pace=Pace(bot.rt.cache, now=lambda: virtual[0], sleep=sleep))
    started = virtual[0]
    found = bot.call(presence.reach_many(s.team_id, people), timeout=240)
    assert {u for u, r in found.items() if isinstance(r, Away)} == away
    assert not [c for c in fake.calls() if c.error == "ratelimited"]
    assert len(fake.calls("users.profile.get")) == 1000
    batches = fake.calls("dnd.teamInfo")
    assert len(batches) == 20 and all(len(str(c.args["users"]).split(",")) == 50 for c in batches)
    assert fake.calls("dnd.info") == []
    # Tier 4 lets about 100 profiles a minute through: the round took its ten minutes, not a burst.
    assert virtual[0] - started > 9 * MINUTE
    # Asked again within minutes, everyone comes from the cache.
    before = len(fake.calls())
    bot.call(presence.reach_many(s.team_id, people[:100]))
    assert len(fake.calls()) == before


def test_a_mitigation_owner_on_vacation_gets_its_dm_when_back_and_the_saver_is_told(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, clock: ManualClock
) -> None:
    s = seeded
    c = Clocked(
        Driver(fake, s, make_bot(config=config(48), clock=clock, run_scheduler=True), fake.actor()), clock
    )
    d, risk = c.d, group_id(component_key("Database writes"))
    d.start(s.manager, s.lead)
    d.answer(s.lead, [{"other": "Database writes", "why": "one primary"}])
    d.click(s.member, d.find("The answers:"), ACTION_VOTE, block_id=f"vote:{risk}")
    fake.wait_for(lambda: "1 vote" in all_text(d.find("The answers:")))
    d.click(s.manager, d.find("Close voting"), ACTION_CLOSE)

    # Bo (New York) is on vacation until Tuesday 12:00 UTC when the manager makes him the owner.
    fake.set_status(s.lead2, "Vacation", ":palm_tree:", expiration=ts(at(24, 12)))
    view = d.open_modal(
        s.manager, lambda: d.click(s.manager, d.find_top(), ACTION_MITIGATE, block_id=f"plan:{risk}")
    )
    values = {"plan": {"value": "Batch the ledger writes"}, "owner": {"value": s.lead2},
              "due": {"value": "2026-12-04"}, "verify": {"value": "load_test"}}  # fmt: skip
    fake.actor().submit_view(s.team_id, s.manager, view, values)
    told = fake.wait_for(lambda: "when they are back" in (t := all_text(fake.view(view))) and t)
    assert f"<@{s.lead2}> is away until Tue 24 Nov; they get it by DM when they are back." in told

    def owner_dms() -> list[dict[str, Any]]:
        im = d.dm_channel(s.lead2)
        return [
            call.args
            for call in fake.calls("chat.postMessage")
            if call.ok
            and call.args.get("channel") == im
            and "You own a mitigation" in str(call.args.get("text"))
        ]

    # His status ends at 12:00 UTC (07:00 in New York): the DM waits for his 09:00, then comes once.
    c.to(at(24, 13) + SECOND)
    c.settle()
    assert owner_dms() == []
    c.to(at(24, 14) + SECOND)
    fake.wait_for(owner_dms, message="the owner's DM once he is back")
    c.settle()
    assert len(owner_dms()) == 1
