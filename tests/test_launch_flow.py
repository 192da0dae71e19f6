"""A launch planned with the command and its modal, moved and cancelled, with two schedulers on one
database and a restart: each step runs once at 10:00 in the creator's zone, or says it was skipped, or
never runs after the cancel."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import AppConfig, TeamConfig
from bot.digest.model import Week
from bot.digest.render_team import team_message
from bot.digest.sections import default_providers, team_digest
from bot.launch.render import ACTION_CANCEL, ACTION_MOVE
from bot.launch.service import service_for
from bot.premortem.render import ACTION_CLOSE
from common.clock import ManualClock
from localslack import FakeSlack
from storage import calibration as calibration_repo
from storage import launches as repo
from tests.harness import SIGNING_SECRET, BotServer, Seeded, wait_until
from tests.premortem_driver import Driver, all_text, pace_quickly

# Monday 23 November 2026, 08:00 in Berlin, where Ana (the team's lead) plans the launch.
T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _quick_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    pace_quickly(monkeypatch)


def config(s: Seeded) -> AppConfig:
    team = TeamConfig(name="Payments", channel=s.channel, leads=[s.lead, s.lead2], managers=[s.manager])
    return AppConfig(teams=[team])


def ten_berlin(day: int, month: int = 12) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=UTC)  # 10:00 in Berlin in winter


class Launches:
    def __init__(self, fake: FakeSlack, s: Seeded, clock: ManualClock, bots: list[BotServer]) -> None:
        self.fake, self.s, self.clock, self.bots = fake, s, clock, bots

    def to(self, when: datetime) -> None:
        self.clock.set(when)
        for bot in self.bots:
            if bot.rt.scheduler is not None:
                bot.rt.scheduler.wakeup()

    def settle(self) -> None:
        """Let whatever is due run (then a duplicate would have had its chance)."""
        for bot in self.bots:
            scheduler = bot.rt.scheduler
            assert scheduler is not None
            self.fake.wait_for(
                lambda s=scheduler: all(j.next_run is None or j.next_run > self.clock.now() for j in s.jobs())
            )
        time.sleep(0.5)

    def root(self) -> dict[str, Any]:
        roots = [m for m in self.fake.messages(self.s.channel) if "Launch:" in str(m.get("text"))]
        assert len(roots) <= 1
        return roots[0] if roots else {}

    def thread(self) -> list[str]:
        ts = self.root().get("ts")
        return [all_text(m) for m in self.fake.messages(self.s.channel, ts)[1:]] if ts else []

    def said(self, start: str) -> list[str]:
        return [t for t in self.thread() if start in t]

    def command(self, user: str, text: str) -> None:
        response = self.fake.actor().slash_command(self.s.team_id, user, self.s.channel, text)
        assert response.status_code == 200, response.text

    def steps(self) -> dict[str, tuple[str, datetime, bool]]:
        rows = self.bots[0].db(repo.steps, self.s.team_id, 1)
        return {r.step: (r.status, datetime.fromtimestamp(r.due_ts, UTC), r.late) for r in rows}


def plan_launch(fake: FakeSlack, s: Seeded, user: str, day: str, title: str = "Black Friday") -> None:
    before = {v["id"] for v in fake.views_for(user)}
    fake.actor().slash_command(s.team_id, user, s.channel, "launch")
    views = fake.wait_for(
        lambda: [v for v in fake.views_for(user) if v["id"] not in before], message="the modal"
    )
    view = views[-1]
    leads = next(b for b in view["blocks"] if b.get("block_id") == "leads")
    assert leads["element"]["initial_users"] == [s.lead, s.lead2]  # prefilled from the team's config
    values = {"what": {"value": title}, "date": {"date": day}, "multiple": {"multiple": "5"}}
    submitted = fake.actor().submit_view(s.team_id, user, view["id"], values)
    assert submitted.errors is None, submitted.errors


def test_a_launch_moved_and_cancelled_runs_each_step_once_across_two_schedulers_and_a_restart(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, database_url: str
) -> None:
    s, clock = seeded, ManualClock(T0)
    first: BotServer = make_bot(config=config(s), clock=clock, run_scheduler=True)
    second: BotServer = make_bot(config=config(s), clock=clock, run_scheduler=True, database_url=database_url)
    c = Launches(fake, s, clock, [first, second])

    plan_launch(fake, s, s.lead, "2026-12-21")  # a Monday, four weeks ahead
    fake.wait_for(lambda: c.said("planned this launch"), message="the launch's thread")
    assert "Launch: Black Friday" in all_text(c.root()) and "5x" in all_text(c.root())
    assert c.steps() == {
        "premortem": ("pending", ten_berlin(7), False),
        "checklist": ("pending", ten_berlin(14), False),
        "gonogo": ("pending", ten_berlin(18), False),  # T−1 is a Sunday: the Friday before
        "retro": ("pending", ten_berlin(24), False),
    }

    # Not before 10:00; then once, whichever scheduler sees it first.
    c.to(ten_berlin(7) - SECOND)
    c.settle()
    assert c.said("Pre-mortem: started") == []
    c.to(ten_berlin(7) + SECOND)
    fake.wait_for(lambda: c.said("Pre-mortem: started"), message="the pre-mortem step")
    c.settle()
    assert len(c.said("Pre-mortem: started")) == 1
    premortems = [m for m in fake.messages(s.channel) if "Pre-mortem" in str(m.get("text"))]
    assert len(premortems) == 1 and f"<@{s.lead}>" in c.said("Pre-mortem: started")[0]

    # The manager moves the launch a week later: the steps still to come move; the pre-mortem stays done.
    c.command(s.manager, "launch move 1 2026-12-28")
    fake.wait_for(lambda: c.said("moved this launch"), message="the move in the thread")
    assert f"<@{s.manager}> moved this launch from Mon 21 Dec 2026 to Mon 28 Dec 2026" in c.said("moved")[0]
    assert c.steps()["checklist"] == ("pending", ten_berlin(21), False)
    assert c.steps()["premortem"][0] == "done"
    c.to(ten_berlin(14) + SECOND)  # the checklist's old time: nothing
    c.settle()
    assert c.said("Signal checklist: a fresh one") == []

    # Both schedulers down across the checklist's time; one returns 90 minutes later (within the grace).
    second.stop()
    first.stop()
    clock.set(ten_berlin(21) + timedelta(minutes=90))
    first.start()
    c.bots = [first]
    fake.configure_app(request_url=first.events_url, signing_secret=SIGNING_SECRET)
    fake.wait_for(lambda: c.said("Signal checklist: a fresh one"), message="the checklist step")
    c.settle()
    assert len(c.said("Signal checklist: a fresh one")) == 1

    # Down again across the go/no-go (Friday 25th) for longer than the grace: it says it was skipped.
    first.stop()
    clock.set(ten_berlin(25) + timedelta(hours=7))
    first.start()
    fake.wait_for(lambda: c.said("Go/no-go summary skipped"), message="the skipped go/no-go")
    assert c.steps()["gonogo"][0] == "skipped"

    # Ana cancels: the retro never comes.
    c.command(s.lead, "launch cancel 1")
    fake.wait_for(lambda: c.said("cancelled this launch"), message="the cancel in the thread")
    c.to(ten_berlin(31) + SECOND)
    c.settle()
    assert c.said("was it on the list") == [] and c.steps()["retro"][0] == "cancelled"
    assert "Cancelled: Launch: Black Friday" in all_text(c.root())
    assert len(c.said("Pre-mortem: started")) == 1 and len(c.said("Signal checklist: a fresh one")) == 1


def test_only_the_team_leads_managers_and_admins_plan_a_launch_and_a_late_one_starts_at_once(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    s, clock = seeded, ManualClock(T0)
    bot: BotServer = make_bot(config=config(s), clock=clock, run_scheduler=True)
    c = Launches(fake, s, clock, [bot])
    before = {v["id"] for v in fake.views_for(s.member)}
    c.command(s.member, "launch")
    view = fake.wait_for(lambda: [v for v in fake.views_for(s.member) if v["id"] not in before])[-1]
    values = {"what": {"value": "Sale"}, "date": {"date": "2026-12-01"}, "multiple": {"multiple": "10"}}
    refused = fake.actor().submit_view(s.team_id, s.member, view["id"], values)
    assert refused.errors is not None and "leads and managers" in refused.errors["team"]

    # The admin plans one 8 days ahead (Tuesday 1 December): the pre-mortem starts now, marked late.
    plan_launch(fake, s, s.admin, "2026-12-01", title="Flash <sale> & more")
    fake.wait_for(lambda: c.said("Pre-mortem (late start"), message="the late pre-mortem")
    assert "Flash &lt;sale&gt; &amp; more" in all_text(c.root())
    steps = fake.wait_for(lambda: (st := c.steps())["premortem"][0] == "done" and st)
    assert steps["premortem"][2] is True
    # The admin's zone is UTC: T−7 is Tuesday 24 November at 10:00 UTC, still ahead.
    assert steps["checklist"] == ("pending", datetime(2026, 11, 24, 10, 0, tzinfo=UTC), False)

    c.command(s.member, "launches")
    listed = fake.wait_for(
        lambda: [
            m for m in fake.ephemerals(s.member, s.channel) if "launches in the next 30 days" in all_text(m)
        ]
    )
    assert "Flash" in all_text(listed[-1]) and "Signal checklist" in all_text(listed[-1])


def test_the_app_home_and_the_digest_show_the_launches_in_the_next_30_days(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    s, clock = seeded, ManualClock(T0)
    bot: BotServer = make_bot(config=config(s), clock=clock, run_scheduler=True)
    plan_launch(fake, s, s.lead, "2026-12-10", title="Holiday sale")  # 17 days ahead
    plan_launch(fake, s, s.lead, "2027-01-20", title="New year")  # 58 days ahead: not shown
    fake.wait_for(lambda: len([m for m in fake.messages(s.channel) if "Launch:" in str(m.get("text"))]) == 2)

    fake.actor().open_home(s.team_id, s.member)
    home = fake.wait_for(lambda: (h := fake.home(s.member)) and "home.launches" in json.dumps(h) and h)
    shown = json.dumps(home["blocks"])
    assert "Launches in the next 30 days" in shown and "Holiday sale" in shown and "New year" not in shown
    assert "Thu 10 Dec 2026 at 5x traffic" in shown

    team = bot.call(
        service_for(bot.rt).team(bot.rt.slack.client(s.bot_token, s.team_id), s.team_id, s.channel)
    )
    digest = bot.call(team_digest(bot.rt, team, Week.of(T0, "UTC"), T0, default_providers()))
    message = json.dumps(team_message(digest, T0))
    assert (
        "Launches in the next 30 days" in message and "Holiday sale" in message and "New year" not in message
    )


def test_the_launch_message_buttons_move_and_cancel_it_for_those_who_may(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    s, clock = seeded, ManualClock(T0)
    make_bot(config=config(s), clock=clock, run_scheduler=True)
    c = Launches(fake, s, clock, [])
    plan_launch(fake, s, s.lead, "2026-12-21")
    fake.wait_for(lambda: c.said("planned this launch"), message="the launch's thread")
    root = c.root()
    value = next(e["value"] for b in root["blocks"] if b["type"] == "actions" for e in b["elements"])

    def open_move(user: str) -> str:
        before = {v["id"] for v in fake.views_for(user)}
        fake.actor().click(s.team_id, user, s.channel, root["ts"], ACTION_MOVE, value)
        return str(
            fake.wait_for(lambda: [v for v in fake.views_for(user) if v["id"] not in before])[-1]["id"]
        )

    refused = fake.actor().submit_view(
        s.team_id, s.member, open_move(s.member), {"date": {"date": "2026-12-28"}}
    )
    assert refused.errors is not None and "leads and managers" in refused.errors["date"]
    past = fake.actor().submit_view(
        s.team_id, s.manager, open_move(s.manager), {"date": {"date": "2026-11-01"}}
    )
    assert past.errors is not None and "has passed" in past.errors["date"]
    moved = fake.actor().submit_view(
        s.team_id, s.manager, open_move(s.manager), {"date": {"date": "2026-12-28"}}
    )
    assert moved.errors is None
    fake.wait_for(lambda: c.said(f"<@{s.manager}> moved this launch"), message="the move")

    fake.actor().click(s.team_id, s.member, s.channel, root["ts"], ACTION_CANCEL, value)
    fake.wait_for(
        lambda: [m for m in fake.ephemerals(s.member, s.channel) if "leads and managers" in all_text(m)],
        message="the member's refusal",
    )
    assert c.said("cancelled this launch") == []
    fake.actor().click(s.team_id, s.lead, s.channel, root["ts"], ACTION_CANCEL, value)
    fake.wait_for(lambda: c.said(f"<@{s.lead}> cancelled this launch"), message="the cancel")
    assert "Cancelled: Launch: Black Friday" in all_text(c.root())
    assert not [b for b in c.root()["blocks"] if b["type"] == "actions"]  # no more buttons


def test_a_launchs_pre_mortem_predicts_up_to_its_t_plus_30_and_the_horizon_follows_a_move(
    make_bot: Any, fake: FakeSlack, seeded: Seeded
) -> None:
    s, clock = seeded, ManualClock(T0)
    bot: BotServer = make_bot(config=config(s), clock=clock, run_scheduler=True)
    c = Launches(fake, s, clock, [bot])
    plan_launch(fake, s, s.lead, "2026-12-21")  # Monday 21 December, in Berlin
    fake.wait_for(lambda: c.said("planned this launch"), message="the launch's thread")
    c.to(ten_berlin(7) + SECOND)
    fake.wait_for(lambda: c.said("Pre-mortem: started"), message="the pre-mortem step")

    # The leads answer the launch's pre-mortem and the manager closes the vote.
    d = Driver(fake, s, bot, fake.actor())
    d.root_ts = d.roots()[-1]["ts"]
    d.answer(s.lead, [{"other": "database", "why": "one primary"}])
    d.answer(s.lead2, [{"other": "database", "why": "connection pool"}, {"other": "search index"}])
    d.find("The answers:")
    d.click(s.manager, d.find("Close voting"), ACTION_CLOSE)

    def horizons() -> set[tuple[datetime, str]]:
        rows = bot.db(calibration_repo.predictions, s.team_id, s.channel)
        return {(r.horizon_at.replace(tzinfo=UTC), r.horizon_source) for r in rows}

    # Not 90 days on: the end of T+30 (Wednesday 20 January) in Berlin.
    assert wait_until(horizons, timeout=10) == {(datetime(2027, 1, 20, 23, 0, tzinfo=UTC), "launch")}

    # The manager moves the launch a week later: the predictions now resolve at the new T+30.
    c.command(s.manager, "launch move 1 2026-12-28")
    fake.wait_for(lambda: c.said("moved this launch"), message="the move in the thread")
    assert horizons() == {(datetime(2027, 1, 27, 23, 0, tzinfo=UTC), "launch")}
