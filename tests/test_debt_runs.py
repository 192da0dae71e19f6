"""Tech-debt runs over time, over real signed HTTP: a run nudged once stays nudged when a sprint before it
is corrected or back-filled out of band; between two sprints the one just ended stays current; and a
sprint recorded in advance nudges on its first day, from the scheduler, without anyone writing."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from bot.debt import nudges
from common.clock import ManualClock
from localslack import FakeSlack
from storage import debt_status as status_repo
from tests.conftest import BotFactory
from tests.harness import BotServer, Seeded, wait_until
from tests.test_debt_slack import config, debt_command, nudges_in, stored, text_of

NOW = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)  # inside "S41" (2026-03-02 – 2026-03-13)
SPRINTS = {
    "S38": "from 2026-01-19 to 2026-01-30",
    "S39": "from 2026-02-02 to 2026-02-13",
    "S40": "from 2026-02-16 to 2026-02-27",
    "S41": "from 2026-03-02 to 2026-03-13",
    "S42": "from 2026-03-16 to 2026-03-27",
}


def record(fake: FakeSlack, s: Seeded, name: str, figures: str, user: str | None = None) -> str:
    return debt_command(fake, s, user or s.lead, f'{figures} sprint "{name}" {SPRINTS[name]}')


def settle(seconds: float = 0.4) -> None:
    asyncio.run(asyncio.sleep(seconds))  # room for a nudge that should not come to show up


def test_a_sprint_corrected_or_back_filled_out_of_band_before_a_nudged_run_does_not_nudge_it_again(
    make_bot: BotFactory, fake: FakeSlack, seeded: Seeded
) -> None:
    s = seeded
    bot = make_bot(config=config(), clock=ManualClock(NOW))
    record(fake, s, "S39", "12 of 50")  # 24%: in band
    record(fake, s, "S40", "5 of 50")  # 10%: under
    record(fake, s, "S41", "6 of 40")  # 15%: under, two in a row
    first = fake.wait_for(lambda: nudges_in(fake, s))
    fake.actor().click(s.team_id, s.member, s.channel, first[0]["ts"], "debt.nudge.ack")
    wait_until(lambda: bot.db(status_repo.nudges, s.team_id, s.channel)[0].acknowledged_by)

    # S39 was really under: corrected, the run now starts a sprint earlier. It is the same run.
    said = record(fake, s, "S39", "4 of 50", user=s.lead2)
    assert "Corrected *S39*" in said
    assert "Out of band for 3 sprints in a row." in said
    assert f"Acknowledged by <@{s.member}>." in said  # the nudge of this run, found through its sprints
    # An older sprint back-filled under the band: earlier still, and still the same run.
    said = record(fake, s, "S38", "2 of 50")
    assert "Recorded 2 of 50 points (4%) for *S38*" in said
    answer = debt_command(fake, s, s.member, "")
    assert "Out of band for 4 sprints in a row." in answer
    settle()
    assert len(nudges_in(fake, s)) == 1
    assert len(bot.db(status_repo.nudges, s.team_id, s.channel)) == 1

    # Corrected over the band, every sprint of it: that is news, and gets its own nudge.
    for name in ("S38", "S39", "S40", "S41"):
        record(fake, s, name, "20 of 50")
    fake.wait_for(lambda: len(nudges_in(fake, s)) == 2)
    assert "spent over the 20–30% tech-debt band for 4 sprints in a row" in text_of(nudges_in(fake, s)[1])


def test_between_two_sprints_the_one_just_ended_is_current_and_a_bare_figure_corrects_it(
    make_bot: BotFactory, fake: FakeSlack, seeded: Seeded
) -> None:
    s = seeded
    clock = ManualClock(NOW)
    bot = make_bot(config=config(), clock=clock)
    record(fake, s, "S40", "10 of 50")  # 20%
    record(fake, s, "S41", "12 of 50")  # 24%
    record(fake, s, "S42", "40 of 50")  # planned, 80%

    clock.set(datetime(2026, 3, 14, 10, 0, tzinfo=UTC))  # Saturday: S41 ended, S42 starts on Monday
    answer = debt_command(fake, s, s.member, "")
    assert "*Current sprint: S41* (2026-03-02 – 2026-03-13)" in answer
    assert "Rolling figure: 22%* — *in band* (22 of 100 points over the last 2 sprints)" in answer
    assert "Not counted until they are current: S42 (2026-03-16 – 2026-03-27)." in answer

    said = debt_command(fake, s, s.lead, "12 of 40")
    assert "Corrected *S41*: now 12 of 40 points (30%), was 12 of 50 points (24%)" in said
    assert [(name, [w[:2] for w in writes]) for name, writes in stored(bot, s)] == [
        ("S40", [(10.0, 50.0)]),
        ("S41", [(12.0, 50.0), (12.0, 40.0)]),
        ("S42", [(40.0, 50.0)]),
    ]

    clock.set(datetime(2026, 3, 16, 10, 0, tzinfo=UTC))  # Monday: S42 is current now
    assert "*Current sprint: S42*" in debt_command(fake, s, s.member, "")


def test_with_only_a_planned_sprint_nothing_is_counted_and_a_bare_figure_asks_for_a_name(
    make_bot: BotFactory, fake: FakeSlack, seeded: Seeded
) -> None:
    s = seeded
    bot = make_bot(config=config(), clock=ManualClock(NOW))
    said = record(fake, s, "S42", "10 of 50")
    assert "No sprint has started yet: *S42* (2026-03-16 – 2026-03-27) is counted from its first day." in said
    said = debt_command(fake, s, s.lead, "5 of 50")
    assert "No sprint has started yet (S42 starts on 2026-03-16)" in said
    assert [name for name, _ in stored(bot, s)] == ["S42"]


def test_a_planned_sprint_that_becomes_current_nudges_on_its_first_day_without_a_write_exactly_once(
    make_bot: BotFactory, fake: FakeSlack, seeded: Seeded
) -> None:
    s = seeded
    clock = ManualClock(NOW)
    bot: BotServer = make_bot(config=config(), clock=clock, run_scheduler=True)
    scheduler = bot.rt.scheduler
    assert scheduler is not None
    record(fake, s, "S40", "12 of 50")  # in band
    record(fake, s, "S41", "5 of 50")  # under: one sprint
    record(fake, s, "S42", "4 of 50")  # planned, under: with S41, two in a row once it starts
    job_id = f"{nudges.CHECK_KIND}/{s.team_id}/{s.channel}@2026-03-16"
    job = wait_until(lambda: scheduler.job(job_id))
    assert job.kind == nudges.CHECK_KIND
    assert job.next_run == datetime(2026, 3, 16, 9, 0, tzinfo=UTC)  # 09:00 in the team's time zone

    def at(when: datetime) -> None:
        clock.set(when)
        scheduler.wakeup()

    at(datetime(2026, 3, 14, 10, 0, tzinfo=UTC))  # the weekend between: S41 is still current
    settle()
    assert nudges_in(fake, s) == []

    at(datetime(2026, 3, 16, 9, 0, 1, tzinfo=UTC))  # S42's first day: nobody writes anything
    nudge = fake.wait_for(lambda: nudges_in(fake, s), timeout=10)
    assert (
        "Payments has spent under the 20–30% tech-debt band for 2 sprints in a row:* S41 10% (5 of 50 points), "
        "S42 8% (4 of 50 points)" in text_of(nudge[0])
    )
    wait_until(lambda: scheduler.job(job_id) is None)  # a one-off

    at(datetime(2026, 3, 17, 9, 0, 1, tzinfo=UTC))
    settle()
    debt_command(fake, s, s.lead, "")  # and a later look changes nothing
    settle()
    assert len(nudges_in(fake, s)) == 1
    assert len(bot.db(status_repo.nudges, s.team_id, s.channel)) == 1


def test_moving_a_planned_sprint_moves_its_check(
    make_bot: BotFactory, fake: FakeSlack, seeded: Seeded
) -> None:
    s = seeded
    bot = make_bot(config=config(), clock=ManualClock(NOW))
    scheduler = bot.rt.scheduler
    assert scheduler is not None
    record(fake, s, "S42", "4 of 50")
    prefix = f"{nudges.CHECK_KIND}/{s.team_id}/{s.channel}@"
    wait_until(lambda: scheduler.job(prefix + "2026-03-16"))
    debt_command(fake, s, s.lead, '4 of 50 sprint "S42" from 2026-03-23 to 2026-04-03')
    wait_until(lambda: [j.id for j in scheduler.jobs() if j.id.startswith(prefix)] == [prefix + "2026-03-23"])
    assert date(2026, 3, 23) == scheduler.job(prefix + "2026-03-23").next_run.date()  # type: ignore[union-attr]
