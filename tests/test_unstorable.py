"""Text the database cannot store is refused in the modal, never lost, the same on SQLite and
PostgreSQL (issue 13, class 4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.config import AppConfig, TeamConfig
from bot.storable import FIELD_MESSAGE, REPLACEMENT
from localslack import FakeSlack
from storage import premortem as repo
from storage import teams as teams_repo
from tests.harness import Seeded
from tests.premortem_driver import Driver, all_text, pace_quickly

PAYMENTS = AppConfig(teams=[TeamConfig(name="Payments", channel="C0PAYMENTS", managers=["U0MGR1"])])


@pytest.fixture(params=["sqlite", "postgres"])
def driver(
    request: pytest.FixtureRequest,
    make_bot: Any,
    fake: FakeSlack,
    seeded: Seeded,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Driver:
    pace_quickly(monkeypatch)
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else f"sqlite:///{tmp_path}/u.db"
    return Driver(fake, seeded, make_bot(config=PAYMENTS, database_url=url), fake.actor())


@pytest.mark.parametrize("bad", ["one \ud800 consumer", "one \x00 consumer"])
def test_an_answer_with_unstorable_text_is_refused_in_the_modal_and_the_old_answer_stays(
    driver: Driver, fake: FakeSlack, bad: str
) -> None:
    d, s = driver, driver.seeded
    d.start(s.manager, s.lead, s.lead2)
    d.answer(s.lead, [{"other": "Queue", "why": "one consumer"}])
    fake.wait_for(lambda: "1 of 2 leads answered" in all_text(d.root()))

    view = d.open_answer(s.lead)
    submission = d.actor.submit_view(s.team_id, s.lead, view, {"risk1_why": {"value": bad}})
    assert submission.response.status_code == 200
    assert submission.response_action == "errors"
    assert submission.errors == {"risk1_why": FIELD_MESSAGE}
    assert submission.view is not None  # the modal stays open with the person's text in it
    assert json.dumps(submission.view["state"]["values"]["risk1_why"]).find("consumer") > 0
    stored = d.bot.db(repo.load, s.team_id, 1)
    assert [(r.component, r.why) for r in stored.risks] == [("Queue", "one consumer")]


def test_a_command_with_a_nul_is_cleaned_visibly_not_lost(driver: Driver, fake: FakeSlack) -> None:
    d, s = driver, driver.seeded
    response = d.actor.raw(
        b"command=%2Fscale-check&text=premortem&team_id=T0001&user_id=U0MGR1"
        b"&channel_id=C0PAYMENTS&channel_name=pay%00ments&trigger_id=1.2.3"
    )
    assert response.status_code == 200, response.text
    row = fake.wait_for(lambda: d.bot.db(teams_repo.find, s.team_id, s.channel), message="the team row")
    assert row.name == f"pay{REPLACEMENT}ments"
