"""Metric triggers with a real Prometheus: low headroom at 10x posts at once, a seed trigger once it has
stayed breached, each once however many evaluations (or replicas) run, never on an unavailable source;
the post's button starts a pre-mortem."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.config import AppConfig, Defaults, TeamConfig
from bot.launch import watch
from bot.launch.jobs import WATCH_JOB
from bot.metrics.config import MetricsDefaults, PrometheusSource, SignalConfig, TeamMetricsConfig
from bot.premortem.render import ACTION_START_FROM_CHECK
from common.clock import ManualClock
from localslack import FakeSlack
from storage import launches as repo
from storage.jobs import JobRunRow
from storage.premortem_mitigations import MitigationRow
from tests.digest_support import add_premortem
from tests.harness import BotServer, Seeded, wait_until
from tests.premortem_driver import all_text, pace_quickly
from tests.servers import OpenMetricsWriter
from tests.test_launch_flow import plan_launch

T = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _quick_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    pace_quickly(monkeypatch)


def team_config(url: str, s: Seeded) -> AppConfig:
    signals = {
        # 0.8 / 0.4 = 2.0x headroom at 10x: under the 3x the watch asks about.
        "db_connections": SignalConfig(
            query='max(db_connections_utilisation{team="payments"})', kind="saturation"
        ),
        "queue_depth": SignalConfig(query='max(queue_depth_utilisation{team="payments"})', kind="saturation"),
        # 2% errors: the seed's 1% trigger.
        "error_rate": SignalConfig(query='max(error_ratio{team="payments"})', kind="ratio"),
        # A source that cannot be reached: never posted about, whatever it would say.
        "cpu": SignalConfig(query='max(cpu_utilisation{team="payments"})', kind="saturation", source="down"),
    }
    sources = {
        "prom": PrometheusSource(kind="prometheus", url=url, timeout_seconds=1),  # type: ignore[arg-type]
        "down": PrometheusSource(kind="prometheus", url="http://127.0.0.1:9", timeout_seconds=1),  # type: ignore[arg-type]
    }
    return AppConfig(
        defaults=Defaults(metrics=MetricsDefaults(cache_ttl_seconds=0)),
        sources=sources,
        teams=[
            TeamConfig(
                name="Payments",
                channel=s.channel,
                leads=[s.lead, s.lead2],
                managers=[s.manager],
                metrics=TeamMetricsConfig(source="prom", default_signals=False, signals=signals),
            )
        ],
    )


def history() -> OpenMetricsWriter:
    w = OpenMetricsWriter(end=T + timedelta(hours=3), duration=6 * 3600, step=60)
    w.gauge("db_connections_utilisation", {"team": "payments"}, lambda t: 0.4)
    w.gauge("queue_depth_utilisation", {"team": "payments"}, lambda t: 0.05)
    w.gauge("error_ratio", {"team": "payments"}, lambda t: 0.02)
    return w


async def twice(rt: Any, workspace_id: str) -> list[int]:
    return list(await asyncio.gather(watch.evaluate(rt, workspace_id), watch.evaluate(rt, workspace_id)))


def job_done_at(bot: BotServer, when: datetime) -> bool:
    """The scheduler's own run of the watch job for `when` has finished (its claim is no longer running)."""

    def statuses(session: Any) -> list[str]:
        query = select(JobRunRow).where(JobRunRow.job_id == WATCH_JOB, JobRunRow.run_time == when)
        return [row.status for row in session.exec(query).all()]

    return any(status != "running" for status in bot.db(statuses))


def notices(fake: FakeSlack, s: Seeded) -> list[dict[str, Any]]:
    return [
        m for m in fake.messages(s.channel) if "a metric trigger calls for a pre-mortem" in str(m.get("text"))
    ]


def test_a_trigger_posts_once_with_its_evidence_and_a_button_that_starts_a_pre_mortem(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, prometheus_factory: Any
) -> None:
    s, clock = seeded, ManualClock(T)
    prometheus = prometheus_factory(history())
    bot: BotServer = make_bot(config=team_config(prometheus.url, s), clock=clock, run_scheduler=True)
    assert bot.rt.scheduler is not None
    job = bot.rt.scheduler.job(WATCH_JOB)
    assert job is not None and "interval[1:00:00]" in job.trigger  # hourly by default

    # Two evaluations at once (two replicas' jobs): never both post. The scheduler's own watch job is
    # due at T too (hourly from the epoch) and evaluates beside them, before, between or after (under
    # load it was seen to post first, leaving [0, 0] here): once its run is done, exactly one notice
    # exists, about the low headroom only.
    results = sorted(bot.call(twice(bot.rt, s.team_id)))
    assert results in ([0, 1], [0, 0]), results
    wait_until(lambda: job_done_at(bot, T), timeout=10, message="the scheduler's watch run at T")
    (first,) = notices(fake, s)
    shown = all_text(first)
    assert "Headroom at 10x" in shown
    assert "*db connections* — headroom ×2 (40% now, ceiling 80%)" in shown
    assert "error" not in shown.lower() and "cpu" not in shown.lower()

    # The error rate has been breached since T; after 30 minutes it has not held long enough.
    clock.set(T + timedelta(minutes=30))
    bot.call(watch.evaluate(bot.rt, s.team_id))
    # After an hour it has: it posts once; the headroom stays quiet (30 days).
    clock.set(T + timedelta(minutes=61))
    bot.call(watch.evaluate(bot.rt, s.team_id))
    fake.wait_for(lambda: len(notices(fake, s)) == 2, message="the seed trigger notice")
    clock.set(T + timedelta(minutes=120))
    bot.call(watch.evaluate(bot.rt, s.team_id))
    assert len(notices(fake, s)) == 2
    second = all_text(notices(fake, s)[1])
    assert "Seed trigger" in second and "1%" in second and "headroom ×2" not in second
    assert "*error rate* 2% now is at or over 1%" in second  # the value says the window it covers
    stored = {r.key for r in bot.db(_rows, s.team_id) if r.posted_at is not None}
    assert stored == {"headroom:db_connections", "trigger:error_rate"}

    # The button starts a pre-mortem with the team's leads.
    button = next(
        e
        for b in first["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ACTION_START_FROM_CHECK
    )
    fake.actor().click(s.team_id, s.lead, s.channel, first["ts"], ACTION_START_FROM_CHECK, button["value"])
    root = fake.wait_for(
        lambda: [m for m in fake.messages(s.channel) if "Pre-mortem" in str(m.get("text"))],
        message="the pre-mortem",
    )
    fake.wait_for(
        lambda: f"<@{s.lead2}>" in json.dumps(fake.messages(s.channel, root[-1]["ts"])),
        message="the team's leads asked in the pre-mortem",
    )


def _rows(session: Any, workspace_id: str) -> list[repo.TriggerNoticeRow]:
    rows = list(
        session.exec(select(repo.TriggerNoticeRow).where(repo.TriggerNoticeRow.workspace_id == workspace_id))
    )
    for row in rows:
        session.expunge(row)
    return rows


def test_a_launch_planned_the_day_before_gets_its_go_no_go_at_once_with_headroom_at_its_own_multiple(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, prometheus_factory: Any
) -> None:
    s, clock = seeded, ManualClock(T)  # Monday 13:00 in Berlin
    prometheus = prometheus_factory(history())
    bot: BotServer = make_bot(config=team_config(prometheus.url, s), clock=clock, run_scheduler=True)

    def write(session: Any) -> None:
        due = T.date() + timedelta(days=3)
        add_premortem(
            session,
            s.team_id,
            s.channel,
            "Payments",
            T - timedelta(days=5),
            [("Database", "pool", s.lead, due, "open")],
        )
        row = session.exec(select(MitigationRow)).one()
        row.verification, row.metric, row.target_op, row.target_value = "metric", "db_connections", "<", 0.3
        session.add(row)

    bot.db(write)
    plan_launch(fake, s, s.lead, "2026-11-24")  # tomorrow, at 5x: every step before it starts now, late

    def said(start: str) -> list[str]:
        roots = [m for m in fake.messages(s.channel) if "Launch:" in str(m.get("text"))]
        thread = fake.messages(s.channel, roots[0]["ts"])[1:] if roots else []
        return [all_text(m) for m in thread if start in all_text(m)]

    (gonogo,) = fake.wait_for(lambda: said("Go/no-go for"), message="the go/no-go")
    assert "late start" in gonogo
    assert "Breaks before 5x: db_connections (breaks at 2.0x)" in gonogo and "queue_depth" not in gonogo
    assert "*error rate* 2% now is at or over 1%" in gonogo  # the breached seed trigger, with its window
    # the metric's value in its unit and with its window, as the metrics answer shows it
    assert f"Database — <@{s.lead}> · db_connections 40% now (target &lt; 0.3) :x:" in gonogo
    assert "Checklist verdict: none yet" in gonogo
    (premortem,) = fake.wait_for(lambda: said("Pre-mortem (late start"), message="the pre-mortem step")
    assert f"started with <@{s.lead}>, <@{s.lead2}>" in premortem
    fake.wait_for(lambda: said("Signal checklist (late start"), message="the checklist step")
