"""`/scale-check debt …` arguments: every accepted form, and a sentence for every malformed one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.debt import command
from bot.debt.command import OpenForm, Record, ShowHistory, Sync


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 of 50", Record(Decimal(12), Decimal(50), typed="12 of 50")),
        ("12/50", Record(Decimal(12), Decimal(50), typed="12 of 50")),
        ("12 / 50 hours", Record(Decimal(12), Decimal(50), unit="hours", typed="12 of 50")),
        ("24% of 50", Record(Decimal(12), Decimal(50), typed="24% of 50")),
        ("12.5 of 50 pts", Record(Decimal("12.5"), Decimal(50), unit="points", typed="12.5 of 50")),
        (
            '12 of 50 points sprint "Sprint 42"',
            Record(Decimal(12), Decimal(50), unit="points", sprint="Sprint 42", typed="12 of 50"),
        ),
        (
            "12 of 50 sprint “Sprint 42”",
            Record(Decimal(12), Decimal(50), sprint="Sprint 42", typed="12 of 50"),
        ),
        ("12 of 50 sprint Sprint 42", Record(Decimal(12), Decimal(50), sprint="Sprint 42", typed="12 of 50")),
        (
            '12 of 50 sprint "R&amp;D 7" from 2026-03-02 to 2026-03-13',
            Record(
                Decimal(12),
                Decimal(50),
                sprint="R&D 7",
                starts=date(2026, 3, 2),
                ends=date(2026, 3, 13),
                typed="12 of 50",
            ),
        ),
        ("0 of 40", Record(Decimal(0), Decimal(40), typed="0 of 40")),
        ("40 of 40", Record(Decimal(40), Decimal(40), typed="40 of 40")),
    ],
)
def test_each_accepted_form_reads_into_a_record(text: str, expected: Record) -> None:
    assert command.parse(text) == expected


def test_no_arguments_opens_the_form_and_the_words_pick_history_and_sync() -> None:
    assert command.parse("") == OpenForm()
    assert command.parse("  History ") == ShowHistory()
    assert command.parse("sync") == Sync()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("twelve of fifty", "couldn't read the figures"),
        ("60 of 50", "can't be more than the capacity"),
        ("-3 of 50", "can't be negative"),
        ("3 of -50", "can't be negative"),
        ("3 of 0", "must be more than 0"),
        ("120% of 50", "more than all of the capacity"),
        ("12 of 50 sprint", "Name the sprint"),
        ('12 of 50 sprint ""', "needs a name"),
        ("12 of 50 from 2026-03-13 to 2026-03-02", "can't end (2026-03-02) before it starts (2026-03-13)"),
        ("12 of 50 from 2026-03-02", "Give both dates"),
        ("12 of 50 from 13/03 to 14/03", "Dates are written like"),
        ("12 of 50 furlongs", "I don't know what `furlongs` means"),
        ("12 of 50,5", "couldn't read the figures"),
    ],
)
def test_malformed_input_gets_a_sentence_and_the_accepted_forms(text: str, says: str) -> None:
    problem = command.problem(text)
    assert problem is not None
    assert says in problem
    assert "`/scale-check debt 12 of 50`" in problem and "`/scale-check debt 24% of 50`" in problem


def test_well_formed_input_has_no_problem() -> None:
    assert command.problem('24% of 50 hours sprint "Sprint 9"') is None
    assert command.problem("") is None
