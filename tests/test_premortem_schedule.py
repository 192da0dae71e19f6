"""The deadline, reminders, working hours and snooze with a controllable clock and the real scheduler,
across a restart and with two schedulers sharing one database."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import AppConfig, TeamConfig
from bot.premortem import reminders
from bot.premortem.config import TeamPremortemConfig
from bot.premortem.render_plan import ACTION_SNOOZE
from bot.premortem.service import service_for
from common.clock import ManualClock
from localslack import FakeSlack
from storage import premortem as repo
from storage import premortem_answers as answers_repo
from tests.harness import BotServer, Seeded
from tests.premortem_driver import Driver, all_text, pace_quickly

# A Monday, 07:00 UTC: 08:00 for Ana in Berlin, 02:00 for Bo in New York, 16:00 for Chen in Tokyo.
T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _quick_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    pace_quickly(monkeypatch)


def config(hours: float = 48) -> AppConfig:
    premortem = TeamPremortemConfig(deadline_hours=hours)
    return AppConfig(teams=[TeamConfig(name="Payments", channel="C0PAYMENTS", premortem=premortem)])


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


class Clocked:
    def __init__(self, driver: Driver, clock: ManualClock) -> None:
        self.d, self.clock = driver, clock

    def to(self, when: datetime) -> None:
        """Move the clock and let the scheduler look at its jobs now."""
        self.clock.set(when)
        scheduler = self.d.bot.rt.scheduler
        assert scheduler is not None
        scheduler.wakeup()

    def reminders(self, user: str) -> list[dict[str, Any]]:
        """The reminders posted to `user` (a snoozed one is later edited in place)."""
        im = self.d.dm_channel(user)
        return [
            c.args
            for c in self.d.fake.calls("chat.postMessage")
            if c.ok and c.args.get("channel") == im and str(c.args.get("text", "")).startswith("Reminder:")
        ]

    def wait_reminders(self, user: str, n: int) -> list[dict[str, Any]]:
        return self.d.fake.wait_for(
            lambda: len(r := self.reminders(user)) == n and r, message=f"{n} reminders"
        )

    def settle(self) -> None:
        """Give a due job the time to run (then assert that nothing more happened)."""
        scheduler = self.d.bot.rt.scheduler
        assert scheduler is not None
        self.d.fake.wait_for(
            lambda: all(j.next_run is None or j.next_run > self.clock.now() for j in scheduler.jobs())
        )

        time.sleep(0.3)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


def started(make_bot: Any, fake: FakeSlack, seeded: Seeded, clock: ManualClock, hours: float = 48) -> Clocked:
    bot = make_bot(config=config(hours), clock=clock, run_scheduler=True)
    d = Driver(fake, seeded, bot, fake.actor())
    d.start(seeded.manager, seeded.lead, seeded.lead2, seeded.lead3)
    return Clocked(d, clock)


def test_reminders_come_halfway_and_before_the_deadline_in_working_hours_survive_a_restart_and_then_the_deadline_reveals(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, clock: ManualClock
) -> None:
    c, s = started(make_bot, fake, seeded, clock), seeded
    # Halfway (Tuesday 07:00 UTC): only Chen is at work (16:00 in Tokyo).
    c.to(at(24, 7) + SECOND)
    (chen,) = c.wait_reminders(s.lead3, 1)
    assert "Reminder: your answer to the Payments pre-mortem is due <!date^" in all_text(chen)
    c.settle()
    assert c.reminders(s.lead) == [] and c.reminders(s.lead2) == []
    # 09:00 in Berlin.
    c.to(at(24, 8) + SECOND)
    c.wait_reminders(s.lead, 1)
    (ana,) = c.d.dms(s.lead)
    # Ana snoozes a day: the deadline (Wednesday 07:00 UTC) comes first, so that was her last reminder.
    im = c.d.dm_channel(s.lead)
    assert im is not None
    fake.actor().click(s.team_id, s.lead, im, ana["ts"], ACTION_SNOOZE)
    fake.wait_for(lambda: "this was your last reminder" in all_text(fake.message(im, ana["ts"])))

    c.d.bot.restart()  # between the first reminders and the deadline

    # 09:00 in New York: Bo's halfway reminder, kept across the restart; he answers.
    c.to(at(24, 14) + SECOND)
    c.wait_reminders(s.lead2, 1)
    c.d.answer(s.lead2, [{"other": "Checkout API", "why": "one pod"}])
    # Two hours before the deadline: 14:00 in Tokyo, so Chen gets the second; 06:00 in Berlin waits
    # for a morning after the deadline, so Ana gets none; Bo has answered.
    c.to(at(25, 5) + SECOND)
    c.wait_reminders(s.lead3, 2)
    c.settle()
    assert len(c.reminders(s.lead)) == 1 and len(c.reminders(s.lead2)) == 1

    # Nobody is reminded twice for the same step, however often the job runs.
    svc = service_for(c.d.bot.rt)
    again = c.d.bot.call(reminders.remind(svc, s.team_id, 1, s.lead3, "final", at(25, 5)))
    assert again == "already sent"
    sent = c.d.bot.db(answers_repo.reminders, s.team_id, 1)
    assert sorted((r.user_id, r.step) for r in sent) == [
        (s.lead, "halfway"),
        (s.lead2, "halfway"),
        (s.lead3, "final"),
        (s.lead3, "halfway"),
    ]

    # The deadline reveals what was answered.
    c.to(at(25, 7) + SECOND)
    c.d.find("The answers: 1 risk, 1 component")
    assert "the deadline passed with 1 of 3 leads answered" in all_text(c.d.prompt())
    assert c.d.bot.db(repo.get, s.team_id, 1).reveal_reason == "deadline"


def test_a_snooze_holds_reminders_for_a_day_and_then_reminds_once_more(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, clock: ManualClock
) -> None:
    c, s = started(make_bot, fake, seeded, clock, hours=96), seeded  # deadline Friday 07:00 UTC
    c.to(at(25, 8) + SECOND)  # halfway, Wednesday 09:00 in Berlin
    c.wait_reminders(s.lead, 1)
    (ana,) = c.d.dms(s.lead)
    im = c.d.dm_channel(s.lead)
    assert im is not None
    c.to(at(25, 8) + timedelta(minutes=5))
    fake.actor().click(s.team_id, s.lead, im, ana["ts"], ACTION_SNOOZE)
    snoozed = fake.wait_for(lambda: "Snoozed until" in (t := all_text(fake.message(im, ana["ts"]))) and t)
    thursday = int((at(26, 8) + timedelta(minutes=5)).timestamp())
    assert f"I'll remind you again <!date^{thursday}^" in snoozed
    c.to(at(26, 8))  # not yet
    c.settle()
    assert len(c.reminders(s.lead)) == 1
    c.to(at(26, 8) + timedelta(minutes=6))
    c.wait_reminders(s.lead, 2)


def test_a_lead_who_left_the_channel_gets_no_reminder_but_is_told_and_can_be_replaced(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, clock: ManualClock
) -> None:
    c, s = started(make_bot, fake, seeded, clock), seeded
    fake.leave(s.channel, s.lead3)
    c.to(at(24, 7) + SECOND)
    told = fake.wait_for(lambda: c.d.dms(s.lead3), message="the DM to the lead who left")
    assert "you are not in <#C0PAYMENTS>" in told[-1]["text"]
    fake.wait_for(lambda: f"<@{s.lead3}> is not in this channel" in all_text(c.d.prompt()))
    assert c.reminders(s.lead3) == []


def test_a_deadline_fires_once_with_two_schedulers_on_one_database(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, clock: ManualClock, database_url: str
) -> None:
    c, s = started(make_bot, fake, seeded, clock, hours=3), seeded
    c.d.answer(s.lead, [{"other": "Queue", "why": "one consumer"}])  # something to reveal
    # Drawn before the second scheduler starts: these two processes share no cache (no Redis), so
    # nothing stops them drawing at the same instant, and this test is about the deadline job.
    c.d.fake.wait_for(lambda: f"✅ <@{s.lead}>" in all_text(c.d.prompt()), message="the answer drawn")
    second: BotServer = make_bot(config=config(3), clock=clock, run_scheduler=True, database_url=database_url)
    c.to(T0 + timedelta(hours=1, minutes=30) + SECOND)  # halfway: 16:30 in Tokyo
    assert second.rt.scheduler is not None
    second.rt.scheduler.wakeup()
    c.wait_reminders(s.lead3, 1)
    c.to(T0 + timedelta(hours=3) + SECOND)
    second.rt.scheduler.wakeup()
    c.d.find("The answers:")
    c.settle()
    assert len(c.reminders(s.lead3)) == 1
    reveals = [m for m in c.d.thread() if "The answers:" in all_text(m)]
    assert len(reveals) == 1
