"""The digest fires once per workspace and ISO week at its time in its time zone, a missed week is sent
once within the grace and never after it, and the job appears without a restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import AppConfig
from bot.digest import jobs, slack_calls
from common.clock import ManualClock
from localslack import FakeSlack
from storage import digest as repo
from tests.digest_support import parents
from tests.harness import BotServer, Seeded, wait_until

SUNDAY = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
MONDAY_9_BERLIN = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Europe/Berlin
DIGEST = "C0DIGEST"
WEEK = timedelta(weeks=1)


@pytest.fixture(autouse=True)
def quick_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack_calls, "POST_INTERVAL", 0.01)


@pytest.fixture
def scheduled_bot(make_bot: Any, fake: FakeSlack, seeded: Seeded) -> BotServer:
    fake.add_channel(seeded.team_id, DIGEST, "scale-digest", members=[seeded.manager])
    config = AppConfig.model_validate(
        {
            "teams": [{"name": "Payments", "channel": seeded.channel, "managers": [seeded.manager]}],
            "digest": {"channel": DIGEST, "timezone": "Europe/Berlin", "grace_hours": 12},
        }
    )
    bot: BotServer = make_bot(config=config, clock=ManualClock(SUNDAY), run_scheduler=True)
    return bot


def at(bot: BotServer, when: datetime) -> None:
    bot.rt.clock.set(when)  # type: ignore[attr-defined]
    assert bot.rt.scheduler is not None
    bot.rt.scheduler.wakeup()


def settle() -> None:
    asyncio.run(asyncio.sleep(0.4))  # room for a run that should not happen to show up


def test_the_digest_job_appears_after_the_first_boot_and_fires_once_each_monday_at_nine_berlin(
    scheduled_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    bot = scheduled_bot
    # The single workspace is recorded just after the scheduler starts; the 15-minute check finds it.
    at(bot, SUNDAY + timedelta(minutes=16))
    info = wait_until(
        lambda: bot.rt.scheduler and bot.rt.scheduler.job(jobs.job_id(seeded.team_id)), timeout=5
    )
    assert info.next_run == MONDAY_9_BERLIN

    at(bot, MONDAY_9_BERLIN - timedelta(minutes=1))
    settle()
    assert parents(fake, DIGEST) == []
    at(bot, MONDAY_9_BERLIN + timedelta(seconds=1))
    wait_until(lambda: len(parents(fake, DIGEST)) == 1, timeout=10)
    at(bot, MONDAY_9_BERLIN + timedelta(hours=6))
    settle()
    at(bot, MONDAY_9_BERLIN + WEEK + timedelta(seconds=1))
    wait_until(lambda: len(parents(fake, DIGEST)) == 2, timeout=10)
    settle()
    assert len(parents(fake, DIGEST)) == 2
    weeks = [r.week for r in bot.db(repo.runs_of, seeded.team_id)]
    assert weeks == ["2026-W48", "2026-W49"]


def test_a_week_missed_while_down_is_sent_once_within_the_grace_and_not_at_all_after_it(
    scheduled_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    bot = scheduled_bot
    bot.call(jobs.ensure_workspace(bot.rt, seeded.team_id))
    # Down over Monday 09:00; back at 20:00, 11 hours late: sent once.
    at(bot, MONDAY_9_BERLIN + timedelta(hours=11))
    wait_until(lambda: len(parents(fake, DIGEST)) == 1, timeout=10)
    settle()
    assert len(parents(fake, DIGEST)) == 1
    # The next Monday: back 13 hours late, past the 12-hour grace: not sent, recorded as missed.
    at(bot, MONDAY_9_BERLIN + WEEK + timedelta(hours=13))
    wait_until(lambda: any(r.status == "missed" for r in bot.db(repo.runs_of, seeded.team_id)), timeout=10)
    settle()
    assert len(parents(fake, DIGEST)) == 1
    runs = {r.week: r.status for r in bot.db(repo.runs_of, seeded.team_id)}
    assert runs == {"2026-W48": "sent", "2026-W49": "missed"}
    # And the week after is sent on time again.
    at(bot, MONDAY_9_BERLIN + 2 * WEEK + timedelta(seconds=1))
    wait_until(lambda: len(parents(fake, DIGEST)) == 2, timeout=10)


def test_the_scheduled_run_after_digest_now_in_the_same_week_edits_that_parent_in_place(
    scheduled_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    bot = scheduled_bot
    bot.call(jobs.ensure_workspace(bot.rt, seeded.team_id))
    at(bot, MONDAY_9_BERLIN - timedelta(hours=2))  # Monday 07:00 in Berlin: week 48 already
    fake.actor().slash_command(seeded.team_id, seeded.manager, seeded.channel, "digest now")
    answer = fake.wait_for(
        lambda: next((e for e in fake.ephemerals(seeded.manager) if "digest" in e["text"]), None), timeout=20
    )
    assert "Posted this week's digest" in answer["text"] and "will update it in place" in answer["text"]
    (parent,) = parents(fake, DIGEST)
    posted = len(fake.calls("chat.postMessage"))

    at(bot, MONDAY_9_BERLIN + timedelta(seconds=1))
    run = wait_until(
        lambda: (
            (r := bot.db(repo.runs_of, seeded.team_id)) and r[0].runs == 2 and r[0].owner is None and r[0]
        ),
        timeout=20,
    )
    assert (run.week, run.status, run.parent_ts) == ("2026-W48", "sent", parent["ts"])
    assert parents(fake, DIGEST) == [fake.message(DIGEST, parent["ts"])]  # still one parent
    assert any(c.args.get("ts") == parent["ts"] for c in fake.calls("chat.update"))  # its "as of" moved
    assert len(fake.calls("chat.postMessage")) == posted  # nothing new: no second parent, team or DM


def test_without_a_zone_in_the_file_the_job_runs_at_nine_in_the_workspace_owners_zone(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    fake.add_user(seeded.team_id, "U0OWNER1", "olga", tz="America/New_York", is_owner=True)
    fake.add_channel(seeded.team_id, DIGEST, "scale-digest", members=[seeded.manager])
    config = AppConfig.model_validate({"digest": {"channel": DIGEST, "managers": [seeded.manager]}})
    bot: BotServer = make_bot(config=config, clock=ManualClock(SUNDAY), run_scheduler=True)
    at(bot, SUNDAY + timedelta(minutes=16))  # the scheduler's check finds the workspace
    info = wait_until(
        lambda: bot.rt.scheduler and bot.rt.scheduler.job(jobs.job_id(seeded.team_id)), timeout=5
    )
    assert info.next_run == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York
    assert info.kwargs["signature"] == "mon 09:00 America/New_York"
