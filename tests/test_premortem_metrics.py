"""With a real Prometheus (backfilled history): "data says" ranks the team's saturation signals as the
metrics capability computes them, and a mitigation verified by a metric can't be closed while the metric
misses its target, nor (without a manager's recorded reason) while it can't be read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import AppConfig, Defaults, TeamConfig
from bot.metrics.config import MetricsDefaults, PrometheusSource, SignalConfig, TeamMetricsConfig
from bot.metrics.service import read_team_signals
from bot.premortem.grouping import component_key, group_id
from bot.premortem.render import ACTION_CLOSE, ACTION_VOTE
from bot.premortem.render_modals import REASON
from bot.premortem.render_plan import ACTION_MITIGATE, ACTION_OVERRIDE, ACTION_STATUS
from bot.premortem.service import service_for
from localslack import FakeSlack
from storage import premortem_mitigations as mitigations_repo
from tests.harness import Seeded
from tests.premortem_driver import Driver, all_text, pace_quickly
from tests.servers import OpenMetricsWriter

T = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
# Utilisations held steady over the history: headroom = 0.8 / u → 2.0x, 4.0x, 16.0x.
LEVELS = {"db_connections": 0.4, "cpu": 0.2, "queue_depth": 0.05}


@pytest.fixture(autouse=True)
def _quick_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    pace_quickly(monkeypatch)


def team_config(url: str) -> AppConfig:
    signals = {
        name: SignalConfig(query=f'max({name}_utilisation{{team="payments"}})', kind="saturation")
        for name in LEVELS
    }
    return AppConfig(
        defaults=Defaults(metrics=MetricsDefaults(cache_ttl_seconds=0)),
        sources={"prom": PrometheusSource(kind="prometheus", url=url, timeout_seconds=1)},  # type: ignore[arg-type]
        teams=[
            TeamConfig(
                name="Payments",
                channel="C0PAYMENTS",
                managers=["U0MGR1"],
                metrics=TeamMetricsConfig(source="prom", default_signals=False, signals=signals),
            )
        ],
    )


def history() -> OpenMetricsWriter:
    w = OpenMetricsWriter(end=T + timedelta(hours=2), duration=4 * 3600, step=60)
    for name, level in LEVELS.items():
        w.gauge(f"{name}_utilisation", {"team": "payments"}, lambda t, v=level: v)
    return w


def gid(name: str) -> str:
    return group_id(component_key(name))


def plan(d: Driver, name: str, owner: str, metric: str, target: str) -> None:
    s = d.seeded
    view = d.open_modal(
        s.manager,
        lambda: d.click(s.manager, d.find_top(), ACTION_MITIGATE, block_id=f"plan:{gid(name)}"),
    )
    d.fake.actor().submit_view(
        s.team_id,
        s.manager,
        view,
        {
            "plan": {"value": f"Fix {name}"},
            "owner": {"value": owner},
            "due": {"value": "2026-12-01"},
            "verify": {"value": "metric"},
            "metric": {"value": metric},
            "target": {"value": target},
        },
    )
    d.fake.wait_for(lambda: "got it by DM" in all_text(d.fake.view(view)), message=f"{name} saved")


def test_data_says_ranks_the_signals_and_a_metric_gates_done(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, prometheus_factory: Any
) -> None:
    prometheus = prometheus_factory(history())
    clock = ManualClock(T)
    bot = make_bot(config=team_config(prometheus.url), clock=clock)
    d, s = Driver(fake, seeded, bot, fake.actor()), seeded
    d.start(s.manager, s.lead, s.lead2)
    d.answer(
        s.lead,
        [
            {"other": "Database connection pool", "why": "100 connections"},
            {"other": "Search index", "why": "x"},
        ],
    )
    d.answer(
        s.lead2,
        [{"other": "CPU on the API nodes", "why": "JSON encoding"}, {"other": "Queue depth", "why": "y"}],
    )

    data = d.find("What the data says")
    svc = service_for(bot.rt)
    reading = bot.call(read_team_signals(bot.rt, bot.call(svc.team(s.team_id, s.channel))))
    expected = [h.name for h in reading.projection.ranked]
    assert expected == ["db_connections", "cpu", "queue_depth"]  # what the fixture was built to give
    texts = [b["text"]["text"] for b in data["blocks"] if b["type"] == "section"]
    lines = [line for text in texts for line in text.split("\n") if line[:2] in ("1.", "2.", "3.")]
    assert [line.split("`")[1] for line in lines] == expected
    assert (
        "1. `db_connections` — 40% now · 2.0x headroom · *breaks first at 10x* · :white_check_mark: leads agree: *Database connection pool*"
        in all_text(data)
    )
    assert (
        "2. `cpu` — 20% now · 4.0x headroom · *breaks first at 10x* · :white_check_mark: leads agree: *CPU on the API nodes*"
        in all_text(data)
    )
    assert (
        "3. `queue_depth` — 5% now · 16.0x headroom · :warning: leads named *Queue depth*; the data shows room"
        in all_text(data)
    )
    reveal = all_text(d.find("The answers:"))
    assert ":white_check_mark: *Data agrees:* `db_connections` breaks first at 10x (2.0x headroom)" in reveal
    assert ":warning: *Data disagrees:* `queue_depth` has 16.0x headroom" in reveal
    assert "_No signal of the team measures this._" in reveal  # the search index

    for name, voters in {"Database connection pool": 3, "CPU on the API nodes": 2, "Queue depth": 1}.items():
        for user in (s.manager, s.member, s.admin)[:voters]:
            d.click(user, d.find("The answers:"), ACTION_VOTE, block_id=f"vote:{gid(name)}")
        fake.wait_for(lambda n=name, v=voters: f"*{n}* · {v} vote" in all_text(d.find("The answers:")))
    d.click(s.manager, d.find("Close voting"), ACTION_CLOSE)
    d.find_top()
    plan(d, "Database connection pool", s.lead, "db_connections", "< 0.3")
    plan(d, "CPU on the API nodes", s.lead2, "cpu", "<= 25%")
    plan(d, "Queue depth", s.lead2, "queue_depth", "< 0.1")

    # The metric misses its target: not done, and the owner is told the current value.
    d.click(
        s.lead,
        d.find_top(),
        f"{ACTION_STATUS}:done",
        block_id=f"plan:{gid('Database connection pool')}",
    )
    said = d.wait_ephemeral(s.lead, "can't be marked done yet")
    assert "`db_connections` is 40% now and its target is < 0.3" in said
    # It meets it: done, with the value on record.
    d.click(
        s.lead2,
        d.find_top(),
        f"{ACTION_STATUS}:done",
        block_id=f"plan:{gid('CPU on the API nodes')}",
    )
    fake.wait_for(lambda: "*Status:* Done (<@U0LEAD2>" in all_text(d.find("*Plan:* Fix CPU")))
    rows = {m.title: m for m in d.bot.db(mitigations_repo.for_premortem, s.team_id, 1)}
    assert rows["Database connection pool"].status == "open" and rows["CPU on the API nodes"].status == "done"
    (*_, done) = d.bot.db(mitigations_repo.events, s.team_id, rows["CPU on the API nodes"].id)
    assert done.note == "cpu = 20% now meets <= 25%"

    # The source is down: only a manager can close it, with a reason that is recorded.
    prometheus.stop()
    clock.set(T + timedelta(minutes=2))
    d.click(s.lead2, d.find_top(), f"{ACTION_STATUS}:done", block_id=f"plan:{gid('Queue depth')}")
    said = d.wait_ephemeral(s.lead2, "I can't read")
    assert "I can't read `queue_depth` right now (metrics unavailable from prom:" in said
    offer = next(e for e in fake.ephemerals(s.lead2) if "I can't read" in str(e["text"]))
    d.actor.click(s.team_id, s.lead2, s.channel, offer["ts"], ACTION_OVERRIDE)
    assert "Only the team's managers or an admin" in d.wait_ephemeral(s.lead2, "Only the team's managers")
    d.click(s.manager, d.find_top(), f"{ACTION_STATUS}:done", block_id=f"plan:{gid('Queue depth')}")
    offer = fake.wait_for(
        lambda: next((e for e in fake.ephemerals(s.manager) if "I can't read" in str(e["text"])), None)
    )
    view = d.open_modal(
        s.manager, lambda: d.actor.click(s.team_id, s.manager, s.channel, offer["ts"], ACTION_OVERRIDE)
    )
    short = fake.actor().submit_view(s.team_id, s.manager, view, {REASON: {"value": "trust me"}})
    assert short.errors == {REASON: "Give a reason of at least 10 characters; it is kept on record."}
    fake.actor().submit_view(
        s.team_id, s.manager, view, {REASON: {"value": "Load test at 10x passed on staging"}}
    )
    fake.wait_for(
        lambda: "Marked done without the metric by <@U0MGR1>" in all_text(d.find("*Plan:* Fix Queue"))
    )
    row = next(m for m in d.bot.db(mitigations_repo.for_premortem, s.team_id, 1) if m.title == "Queue depth")
    assert (row.status, row.override_by, row.override_reason) == (
        "done",
        s.manager,
        "Load test at 10x passed on staging",
    )
