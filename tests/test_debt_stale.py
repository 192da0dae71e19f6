"""A failing tracker (HTTP 500, no answer in time, a page of garbage) leaves the last good figure in
place, marked stale with the reason; a retry records nothing twice. Daily imports are scheduler jobs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.debt import jobs, render, service
from localslack import FakeSlack
from storage import debt_status as status_repo
from tests.conftest import BotFactory
from tests.harness import BotServer, Seeded
from tests.helpers.debt_trackers import LinearFake, LinearIssue
from tests.helpers.tracker_proxy import Fault, RecordingProxy
from tests.test_debt_importers import configure, entries, run_sync
from tests.test_debt_slack import debt_command

NOW = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def linear() -> Iterator[tuple[LinearFake, RecordingProxy]]:
    fake_linear = LinearFake("lin_api_stale")
    fake_linear.issues = [LinearIssue("ENG-1", 2, ["tech-debt"]), LinearIssue("ENG-2", 6)]
    proxy = RecordingProxy(fake_linear.url)
    yield fake_linear, proxy
    proxy.stop()
    fake_linear.server.stop()


@pytest.fixture
def bot(
    make_bot: BotFactory,
    linear: tuple[LinearFake, RecordingProxy],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> BotServer:
    _, proxy = linear
    config = configure(
        tmp_path,
        monkeypatch,
        f"kind: linear\nurl: {proxy.url}/graphql\napi_key_env: TEST_LINEAR_STALE\n"
        "timeout_seconds: 0.3\nretries: 1\nbackoff_seconds: 0.01",
        "team_key: ENG\nschedule: '06:30'\ntimezone: Europe/Berlin",
        TEST_LINEAR_STALE="lin_api_stale",
    )
    return make_bot(config=config, clock=ManualClock(NOW))


@pytest.mark.parametrize(
    ("fault", "times", "reason"),
    [
        (Fault(status=500), 2, "Linear answered HTTP 500 (/graphql), 2 attempts"),
        (Fault(stall=1.0), 2, "Linear did not answer within 0.3s (/graphql), 2 attempts"),
        (Fault(garbage=True), 1, "Linear answered something that is not a GraphQL answer with teams"),
    ],
)
def test_a_failing_source_keeps_the_last_good_figure_marked_stale_and_a_retry_adds_nothing(
    bot: BotServer,
    fake: FakeSlack,
    seeded: Seeded,
    linear: tuple[LinearFake, RecordingProxy],
    fault: Fault,
    times: int,
    reason: str,
) -> None:
    _, proxy = linear
    s = seeded
    assert run_sync(bot, s).ok
    good = entries(bot, s)
    assert good == [("Cycle 12", 2.0, 8.0, "linear", "work", 0)]

    proxy.fail_next(*[fault] * times)  # the first attempt, and its retry when the failure is worth one
    said = debt_command(fake, s, s.lead, "sync")
    assert f"The import failed: {reason}. The last good figure stays." in said
    assert "*2 of 8 points = 25%* · in band" in said  # the last good figure, still shown
    assert ":warning: *Stale:* the import from Linear (`work`) failed" in said
    assert reason in said and "stays." in said
    status = bot.db(status_repo.import_status, s.team_id, s.channel)
    assert status.stale and status.reason == reason
    assert entries(bot, s) == good
    assert len(proxy.seen) == 1 + times

    # The source is back: fresh again, and nothing recorded twice.
    said = debt_command(fake, s, s.lead, "sync")
    assert "Nothing changed since the last import of *Cycle 12*" in said
    assert "Stale" not in said
    assert not bot.db(status_repo.import_status, s.team_id, s.channel).stale
    assert entries(bot, s) == good


def test_one_failed_attempt_is_retried_within_the_import_and_recorded_once(
    bot: BotServer, seeded: Seeded, linear: tuple[LinearFake, RecordingProxy]
) -> None:
    _, proxy = linear
    proxy.fail_next(Fault(status=503))
    result = run_sync(bot, seeded)
    assert result.ok and result.recorded
    assert len(proxy.seen) == 2  # the 503 and its retry
    assert entries(bot, seeded) == [("Cycle 12", 2.0, 8.0, "linear", "work", 0)]


def test_the_daily_import_is_a_scheduler_job_at_the_teams_time_that_runs_idempotently(
    bot: BotServer, seeded: Seeded, linear: tuple[LinearFake, RecordingProxy]
) -> None:
    scheduler = bot.rt.scheduler
    assert scheduler is not None

    async def ensure() -> list[str]:
        return await asyncio.get_running_loop().run_in_executor(None, jobs.ensure_jobs, scheduler)

    assert bot.call(ensure()) == ["debt.import/-/C0PAYMENTS"]
    job = scheduler.job("debt.import/-/C0PAYMENTS")
    assert job is not None and job.kind == "debt.import"
    assert job.trigger == "cron[hour='6', minute='30']"
    assert job.next_run == datetime(2026, 3, 6, 5, 30, tzinfo=UTC)  # 06:30 in Berlin, the next morning
    bot.call(ensure())  # a second start changes nothing
    assert scheduler.job("debt.import/-/C0PAYMENTS") == job

    assert bot.call(scheduler.run_now(job.id)) == "done"
    assert bot.call(scheduler.run_now(job.id)) == "skipped"  # the same run time is claimed once
    clock = bot.rt.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(days=1))
    assert bot.call(scheduler.run_now(job.id)) == "done"  # the next day: nothing new to record
    assert entries(bot, seeded) == [("Cycle 12", 2.0, 8.0, "linear", "work", 0)]


def test_the_allocation_answer_names_the_import_and_its_unestimated_issues(
    bot: BotServer, seeded: Seeded, linear: tuple[LinearFake, RecordingProxy]
) -> None:
    fake_linear, _ = linear
    fake_linear.issues.append(LinearIssue("ENG-3", None, []))
    assert run_sync(bot, seeded).ok

    async def answer() -> str:
        team = await service.team_for(bot.rt, seeded.team_id, seeded.channel)
        return str(render.allocation_message(await service.team_debt(bot.rt, team))["blocks"])

    shown = bot.call(answer())
    assert "Imported from Linear (`work`)" in shown and "Cycle 12, 3 issues; 1 unestimated, skipped." in shown
