"""Button values and modal private_metadata: one family of typed models, compact, within Slack's limits,
and a value that is not ours answers the person with a sentence, never an error page."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field

from bot.checklist.model import Ref
from bot.debt.refs import NudgeButton
from bot.errors import UserError
from bot.metadata import BUTTON_VALUE_MAX, PRIVATE_METADATA_MAX, Carried, MetadataTooLong
from bot.premortem.refs import GroupRef, MitigationRef, StatusRef
from handlers.checklist import BROKEN_BUTTON
from localslack import FakeSlack
from storage import checklist as repo
from tests.checklist_driver import Driver, all_text, pace_quickly
from tests.harness import Seeded


class Note(Carried):
    text: str
    n: int = Field(default=1, ge=1)


def test_a_payload_dumps_compactly_and_parses_back() -> None:
    ref = Ref(c=12, q="b2c", a="yes", v="ab12")
    assert ref.dump() == '{"a":"yes","c":12,"q":"b2c","v":"ab12"}'
    assert Ref.parse(ref.dump()) == ref
    assert GroupRef.parse(GroupRef(pm=3, g="9f").metadata()) == GroupRef(pm=3, g="9f")
    assert MitigationRef(m=5).dump() == '{"m":5}'  # nothing for a missing optional field


def test_a_button_value_holds_2000_characters_and_private_metadata_3000() -> None:
    fits = Note(text="x" * (BUTTON_VALUE_MAX - len('{"n":1,"text":""}')))
    assert len(fits.dump()) == BUTTON_VALUE_MAX
    longer = Note(text="x" * BUTTON_VALUE_MAX)
    with pytest.raises(MetadataTooLong, match="a button's value holds 2000"):
        longer.dump()
    assert len(longer.metadata()) <= PRIVATE_METADATA_MAX  # a modal holds it
    with pytest.raises(MetadataTooLong, match="private_metadata holds 3000"):
        Note(text="x" * PRIVATE_METADATA_MAX).metadata()


@pytest.mark.parametrize(
    "raw",
    [None, "", "12x", "[]", '{"pm":3}', '{"pm":"three","g":"a"}', '{"pm":-1,"g":"a"}', '{"pm":3,"g":""}'],
)
def test_a_value_that_is_not_ours_is_told_with_a_sentence(raw: str | None) -> None:
    assert GroupRef.load(raw) is None
    with pytest.raises(UserError) as told:
        GroupRef.parse(raw, "That button is out of date.")
    assert told.value.message == "That button is out of date."


def test_older_buttons_still_work() -> None:
    assert NudgeButton.parse("12").n == 12  # nudges posted before the buttons carried objects
    assert NudgeButton.parse(NudgeButton(n=12).dump()).n == 12
    assert StatusRef.parse('{"m":4,"s":"done","extra":1}') == StatusRef(m=4, s="done")
    with pytest.raises(UserError):
        NudgeButton.parse("true")


def test_a_forged_button_value_answers_the_clicker_with_a_sentence(
    make_bot: Any, fake: FakeSlack, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    pace_quickly(monkeypatch)
    driver = Driver(fake, seeded, make_bot(), fake.actor())
    driver.start()
    shown = driver.message_of("b2c")
    stored = fake.store.find_message(seeded.channel, shown["ts"])
    assert stored is not None
    with fake.store.lock:
        for block in stored.blocks or []:
            for element in block.get("elements") or []:
                if element.get("action_id") == "checklist:set:yes":
                    element["value"] = '{"c":"not a check"}'
    driver.mark_ephemerals_seen(seeded.member)
    driver.click(seeded.member, "b2c", "yes")  # asserts Slack got a 200
    assert BROKEN_BUTTON in all_text(driver.new_ephemeral(seeded.member))
    assert "b2c" not in {a.question_id for a in driver.bot.db(_answers, seeded.team_id)}


def _answers(session: Any, workspace_id: str) -> list[Any]:
    loaded = repo.load(session, workspace_id, 1)
    assert loaded is not None
    return list(loaded.answers)
