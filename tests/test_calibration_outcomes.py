"""Where outcomes come from, over the running bot: the Alertmanager webhook's refusals (no token set, a
wrong token, an oversized or malformed body) and its deduplication by fingerprint and start time;
`/scale-check incident` for the team's leads, managers and admins, withdrawing a wrong outcome; and a
prediction's signal over its ceiling in the bot's own reading."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.config import AppConfig
from bot.metrics.service import read_team_signals
from bot.teams import resolve_team
from localslack import FakeSlack
from storage import calibration as repo
from tests.digest_support import add_premortem
from tests.harness import BotServer, Seeded
from tests.helpers.metrics_fakes import FakePrometheus, prom_value

TOKEN = "am-token-1d8e0b"
WEBHOOK = "/alertmanager/webhook"


def team_config(seeded: Seeded, **extra: Any) -> AppConfig:
    return AppConfig.model_validate(
        {
            "teams": [
                {
                    "name": "Payments",
                    "channel": seeded.channel,
                    "leads": [seeded.lead],
                    "managers": [seeded.manager],
                    **extra,
                }
            ]
        }
    )


@pytest.fixture
def bot(make_bot: Any, seeded: Seeded) -> BotServer:
    server: BotServer = make_bot(config=team_config(seeded), scalebot_alertmanager_token=TOKEN)
    return server


def alert(
    fingerprint: str = "a1b2c3d4e5f60718", starts: str = "2026-12-06T03:00:00Z", **labels: str
) -> dict[str, Any]:
    return {
        "status": labels.pop("status", "firing"),
        "labels": {"alertname": "DatabaseDown", "team": "payments", "component": "database", **labels},
        "annotations": {"summary": "primary unreachable"},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://127.0.0.1:9090/graph",
        "fingerprint": fingerprint,
    }


def notification(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DatabaseDown"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "scalebot",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": list(alerts),
    }


def post(bot: BotServer, body: bytes | dict[str, Any], token: str | None = TOKEN) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{bot.url}{WEBHOOK}", content=content, headers=headers, timeout=10)


def stored(bot: BotServer, seeded: Seeded) -> list[repo.OutcomeRow]:
    return bot.db(repo.outcomes, seeded.team_id, seeded.channel)  # type: ignore[no-any-return]


def test_the_webhook_is_off_without_its_token_and_refuses_a_wrong_one_without_echoing_it(
    make_bot: Any, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    off = make_bot(config=team_config(seeded))
    answer = post(off, notification(alert()))
    assert answer.status_code == 404 and "SCALEBOT_ALERTMANAGER_TOKEN" in answer.text
    on = make_bot(config=team_config(seeded), scalebot_alertmanager_token=TOKEN)
    caplog.set_level(logging.DEBUG)
    for token in (None, "wrong-token-99", f"{TOKEN}x"):
        refused = post(on, notification(alert()), token=token)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert TOKEN not in refused.text and "wrong-token-99" not in refused.text
    assert stored(on, seeded) == []
    assert TOKEN not in caplog.text


def test_oversized_and_malformed_bodies_are_4xx_and_record_nothing(bot: BotServer, seeded: Seeded) -> None:
    huge = notification(*(alert(fingerprint=f"{i:016x}") for i in range(1001)))
    assert post(bot, huge).status_code in (400, 413)
    assert post(bot, b"x" * (1 << 20 + 1)).status_code == 413
    assert post(bot, b"{not json").status_code == 400
    assert post(bot, b"[]").status_code == 400
    no_fingerprint = notification(alert())
    del no_fingerprint["alerts"][0]["fingerprint"]
    assert post(bot, no_fingerprint).status_code == 400
    bad_time = notification(alert(starts="yesterday"))
    assert post(bot, bad_time).status_code == 400
    assert stored(bot, seeded) == []


def test_an_alert_is_recorded_once_per_fingerprint_and_start_and_resolved_or_unknown_ones_are_not(
    bot: BotServer, seeded: Seeded
) -> None:
    first = post(bot, notification(alert()))
    assert first.status_code == 200 and first.json() == {"recorded": 1, "duplicates": 0, "ignored": 0}
    again = post(bot, notification(alert(), alert(status="resolved")))  # Alertmanager repeats the group
    assert again.json() == {"recorded": 0, "duplicates": 1, "ignored": 0}
    later = post(bot, notification(alert(starts="2026-12-06T05:00:00Z")))  # it fired again
    assert later.json() == {"recorded": 1, "duplicates": 0, "ignored": 0}
    strays = post(
        bot,
        notification(
            alert(fingerprint="ffff000000000001", team="nobody"),
            alert(fingerprint="ffff000000000002", component=""),
            alert(fingerprint="ffff000000000003", slack_workspace="T9999"),
        ),
    )
    assert strays.json() == {"recorded": 0, "duplicates": 0, "ignored": 3}
    rows = stored(bot, seeded)
    assert [(r.component, r.source, r.reporter, r.note) for r in rows] == [
        ("database", "alertmanager", "alertmanager: DatabaseDown", "primary unreachable")
    ] * 2
    assert [r.occurred_at.replace(tzinfo=UTC) for r in rows] == [
        datetime(2026, 12, 6, 3, tzinfo=UTC),
        datetime(2026, 12, 6, 5, tzinfo=UTC),
    ]


def incident(fake: FakeSlack, seeded: Seeded, user: str, args: str) -> str:
    before = len(fake.ephemerals(user))
    response = fake.actor().slash_command(seeded.team_id, user, seeded.channel, f"incident {args}".strip())
    assert response.status_code == 200
    if (
        response.text
        and "incident" in response.text
        and response.headers.get("content-type", "").startswith("application/json")
    ):
        return response.text  # refused in the ack
    found = fake.wait_for(
        lambda: len(fake.ephemerals(user)) > before and fake.ephemerals(user)[-1], timeout=10
    )
    return json.dumps(found.get("blocks"), ensure_ascii=False) + "\n" + str(found["text"])


def test_leads_managers_and_admins_report_what_broke_and_a_lead_withdraws_a_wrong_report(
    bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    s = seeded
    refused = incident(fake, s, s.member, "database")
    assert "Only Payments' leads and managers or an admin report what broke" in refused
    assert stored(bot, s) == []

    told = incident(fake, s, s.lead, '"search index" reindex stalled at 02:10 <!channel>')
    (first,) = stored(bot, s)
    assert (first.component, first.source, first.reporter) == ("search index", "incident", s.lead)
    assert f"Recorded: search index broke for Payments (outcome #{first.id})" in told
    assert "1 surprise: search index" in told  # nobody predicted it
    assert "&lt;!channel&gt;" in incident(fake, s, s.lead, "list")  # the note is shown escaped
    incident(fake, s, s.manager, "database")
    incident(fake, s, s.admin, "auth")
    assert [r.reporter for r in stored(bot, s)] == [s.lead, s.manager, s.admin]

    assert "Only Payments' leads or an admin can withdraw" in incident(
        fake, s, s.manager, f"withdraw {first.id}"
    )
    assert "There is no outcome #999" in incident(fake, s, s.lead, "withdraw 999")
    withdrawn = incident(fake, s, s.lead, f"withdraw {first.id}")
    assert f"withdrawn by <@{s.lead}>" in withdrawn
    row = next(r for r in stored(bot, s) if r.id == first.id)
    assert row.withdrawn_by == s.lead and row.withdrawn_at is not None  # kept, with who withdrew it
    listed = incident(fake, s, s.lead, "list")
    assert f"~#{first.id} *search index*" in listed and "2 surprises: database, auth" in listed


@pytest.fixture
def prom() -> Iterator[FakePrometheus]:
    fake = FakePrometheus()
    yield fake
    fake.close()


def test_a_predicted_signal_over_its_ceiling_in_the_bots_own_reading_is_an_outcome_once(
    make_bot: Any, seeded: Seeded, prom: FakePrometheus
) -> None:
    s = seeded
    metrics = {
        "source": "prom",
        "default_signals": False,
        "signals": {
            "db_connections": {"query": "q_db", "kind": "saturation"},
            "cpu": {"query": "q_cpu", "kind": "saturation"},
        },
    }
    config = AppConfig.model_validate(
        {
            "sources": {"prom": {"kind": "prometheus", "url": prom.url}},
            "teams": [{"name": "Payments", "channel": s.channel, "leads": [s.lead], "metrics": metrics}],
        }
    )
    bot = make_bot(config=config)
    prom.behaviours.update({"q_db": prom_value(0.95), "q_cpu": prom_value(0.97)})
    now = datetime.now(UTC)

    def predictions(session: Any) -> None:
        add_premortem(session, s.team_id, s.channel, "Payments", now - timedelta(days=3), [])
        pm_id = session.exec(__import__("sqlmodel").text("SELECT max(id) FROM premortems")).one()[0]
        made = [
            repo.NewPrediction(
                "g1", "connection pool", 1, 3, 0.7, "db_connections", now + timedelta(days=90)
            ),
            repo.NewPrediction("g2", "search index", 2, 1, None, None, now + timedelta(days=90)),
        ]
        repo.add_predictions(session, s.team_id, s.channel, pm_id, made, now - timedelta(days=1))

    bot.db(predictions)
    team = resolve_team(bot.rt.config, s.team_id, s.channel, "payments")
    for _ in range(2):
        reading = bot.call(read_team_signals(bot.rt, team))
        assert {r.name: r.status for r in reading.signals} == {
            "db_connections": "breached",
            "cpu": "breached",
        }
    (crossed,) = stored(bot, s)  # cpu is predicted by nobody: not an outcome; the second reading adds nothing
    assert (crossed.component, crossed.source, crossed.reporter, crossed.signal) == (
        "connection pool",
        "ceiling",
        "metrics: db_connections",
        "db_connections",
    )


def test_what_broke_unpredicted_is_suggested_first_in_the_teams_next_pre_mortem(
    bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    from tests.premortem_driver import Driver

    s = seeded
    incident(fake, s, s.lead, '"search index" reindex stalled')
    d = Driver(fake, s, bot, fake.actor())
    d.start(s.manager, s.lead)
    view = d.open_answer(s.lead)
    offered = d.suggest(s.lead, view, 1, "")
    assert offered[0]["value"] == "search index"
    assert offered[0]["text"]["text"] == "search index (broke; not predicted)"
    assert [o["value"] for o in d.suggest(s.lead, view, 1, "auth")] == []


def test_a_lead_picks_the_signal_a_prediction_watches(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, prom: FakePrometheus
) -> None:
    s = seeded
    metrics = {
        "source": "prom",
        "default_signals": False,
        "signals": {"queue": {"query": "q_queue", "kind": "saturation"}},
    }
    config = AppConfig.model_validate(
        {
            "sources": {"prom": {"kind": "prometheus", "url": prom.url}},
            "teams": [{"name": "Payments", "channel": s.channel, "leads": [s.lead], "metrics": metrics}],
        }
    )
    bot = make_bot(config=config)
    now = datetime.now(UTC)

    def predictions(session: Any) -> None:
        add_premortem(session, s.team_id, s.channel, "Payments", now - timedelta(days=3), [])
        pm_id = session.exec(__import__("sqlmodel").text("SELECT max(id) FROM premortems")).one()[0]
        made = [
            repo.NewPrediction("g1", "payments webhook queue", 1, 2, None, None, now + timedelta(days=90))
        ]
        repo.add_predictions(session, s.team_id, s.channel, pm_id, made, now - timedelta(days=1))

    bot.db(predictions)
    (p,) = bot.db(repo.predictions, s.team_id, s.channel)
    listed = incident(fake, s, s.lead, "predictions")
    assert f"#{p.id} *payments webhook queue* · #1 · watching no signal" in listed and "open" in listed
    assert "is not one of Payments' signals (`queue`)" in incident(fake, s, s.lead, f"watch {p.id} cpu")
    assert "Only Payments' leads or an admin pick the signal" in incident(
        fake, s, s.member, f"watch {p.id} queue"
    )
    assert "now watches `queue`" in incident(fake, s, s.lead, f"watch {p.id} queue")
    (watched,) = bot.db(repo.predictions, s.team_id, s.channel)
    assert (watched.signal, watched.signal_by) == ("queue", s.lead)
