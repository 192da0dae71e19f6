"""The one real end-to-end case of calibration: a pre-mortem predicts "database" breaks first; a real
Prometheus scrapes payments' connection pool, its rule fires for payments/database, a real Alertmanager
(Debian's prometheus-alertmanager) posts to the running bot's webhook with its bearer token, the prediction
resolves as happened, and the calibration line changes in `/scale-check history`, the App Home and the
digest. (The resolution rules themselves are tested with plain values in test_calibration_rules.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import AppConfig
from bot.premortem.render import ACTION_CLOSE
from localslack import FakeSlack
from storage import calibration as repo
from tests.digest_support import parents, team_messages, text_of
from tests.fixtures_servers import AlertmanagerFactory, missing_binary
from tests.harness import Seeded, wait_until
from tests.premortem_driver import Driver, all_text, pace_quickly
from tests.servers import BinaryNotFound, MetricsExporter, PrometheusServer

TOKEN = "am-webhook-token-7f3a9c"
DIGEST = "C0DIGEST"
RULES = """
groups:
  - name: payments
    interval: 1s
    rules:
      - alert: PaymentsDatabaseConnectionsSaturated
        expr: db_connections_utilisation{team="payments"} > 0.8
        labels:
          component: database
        annotations:
          summary: "payments' database connection pool is {{ $value | humanizePercentage }} used"
"""
EXPOSITION = (
    "# TYPE db_connections_utilisation gauge\n"
    'db_connections_utilisation{team="payments",slack_workspace="T0001"} 0.93\n'
)


@pytest.fixture(autouse=True)
def _quick_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    pace_quickly(monkeypatch)


def history(d: Driver, user: str) -> str:
    before = len(d.fake.ephemerals(user))
    d.actor.slash_command(d.team, user, d.channel, "history")
    found = d.fake.wait_for(
        lambda: len(d.fake.ephemerals(user)) > before and d.fake.ephemerals(user)[-1], timeout=10
    )
    return text_of(found)


def home(d: Driver, user: str) -> str:
    before = d.fake.home(user)
    d.actor.open_home(d.team, user)
    published = d.fake.wait_for(
        lambda: (h := d.fake.home(user)) is not None and h != before and h, timeout=10
    )
    return text_of({"blocks": published["blocks"]})


def digest(d: Driver, expected: str) -> str:
    """`/scale-check digest now` by the manager; the Payments message in the digest's thread, once it
    shows `expected` (posted, or updated in place)."""
    d.actor.slash_command(d.team, d.seeded.manager, d.channel, "digest now")

    def payments() -> str | None:
        for parent in parents(d.fake, DIGEST):
            for message in team_messages(d.fake, DIGEST, parent["ts"]):
                if expected in (shown := text_of(message)):
                    return shown
        return None

    return str(d.fake.wait_for(payments, timeout=20, message=f"the digest showing {expected!r}"))


def test_a_real_alert_for_payments_database_resolves_the_prediction_and_changes_the_calibration_line(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, alertmanager_factory: AlertmanagerFactory
) -> None:
    s = seeded
    fake.add_channel(s.team_id, DIGEST, "scale-digest", members=[s.manager])
    config = AppConfig.model_validate(
        {
            "teams": [
                {
                    "name": "Payments",
                    "channel": s.channel,
                    "leads": [s.lead, s.lead2],
                    "managers": [s.manager],
                    "premortem": {"signal_components": {"db_connections": "database"}},
                }
            ],
            "digest": {"channel": DIGEST, "timezone": "UTC"},
            "calibration": {"alert_labels": {"team": "team", "component": "component"}},
        }
    )
    bot = make_bot(config=config, scalebot_alertmanager_token=TOKEN)
    d = Driver(fake, s, bot, fake.actor())

    # The pre-mortem: both leads put the database first, Bo says how likely; the vote closes.
    d.start(s.manager, s.lead, s.lead2)
    d.answer(
        s.lead, [{"other": "database", "why": "one primary"}, {"other": "search index", "why": "reindex"}]
    )
    view = d.open_answer(s.lead2)
    values = {
        "risk1_other": {"value": "Database"},
        "risk1_why": {"value": "connection pool"},
        "risk1_likelihood": {"value": "high"},
        "risk2_other": {"value": "auth service"},
        "risk2_why": {"value": "single instance"},
    }
    assert d.actor.submit_view(s.team_id, s.lead2, view, values).response_action == "close"
    d.find("The answers:")
    d.click(s.manager, d.find("Close voting"), ACTION_CLOSE)
    d.find("Top three risks")
    predicted = wait_until(lambda: bot.db(repo.predictions, s.team_id, s.channel), timeout=10)
    database = next(p for p in predicted if p.component == "database")
    assert (database.place, database.signal, database.likelihood) == (1, "db_connections", 0.7)

    before = "Payments' pre-mortems: no top risk resolved yet, 3 still open"
    assert before in history(d, s.lead)
    assert before in home(d, s.lead)
    assert before in digest(d, before)

    # Real Prometheus + real Alertmanager, posting to the running bot.
    am = alertmanager_factory(f"{bot.url}/alertmanager/webhook", TOKEN)
    with MetricsExporter(EXPOSITION) as exporter:
        try:
            prometheus = PrometheusServer()
        except BinaryNotFound as exc:
            missing_binary(str(exc))
        with prometheus.alerting(RULES, am.address, exporter.address):
            prometheus.start()
            outcomes = wait_until(
                lambda: bot.db(repo.outcomes, s.team_id, s.channel),
                timeout=30,
                message=f"the alert reaching the bot\nprometheus:\n{prometheus.log()}\nalertmanager:\n{am.log()}",
            )
    (outcome,) = outcomes
    assert (outcome.component, outcome.source) == ("database", "alertmanager")
    assert outcome.reporter == "alertmanager: PaymentsDatabaseConnectionsSaturated"
    assert "connection pool is 93% used" in outcome.note

    after = (
        "Payments' pre-mortems: 1 of 1 top risks happened within 90 days (the top one: 1 of 1), "
        "2 still open; Brier score 0.09 over 1 stated likelihood"
    )
    assert after in history(d, s.lead)
    assert after in home(d, s.lead)
    assert after in digest(d, after)
    assert len(parents(fake, DIGEST)) == 1  # the same week's digest, updated in place
    outcomes_list = d.actor.slash_command(s.team_id, s.lead, s.channel, "incident list")
    assert outcomes_list.status_code == 200
    listed = d.wait_ephemeral(s.lead, "What broke for Payments")
    assert "What broke for Payments" in listed
    assert "Alertmanager alert" in all_text(d.fake.ephemerals(s.lead)[-1])
