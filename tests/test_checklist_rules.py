"""The checklist's rules as plain functions: the surge truth table row for row, the growth-stage bands at
every edge, the weighted score, and what an answer field accepts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.checklist.answers import AnswerError, display, parse, parse_number
from bot.checklist.outcome import decide, missing_required
from bot.checklist.playbook import Question
from bot.checklist.stage import band_for, growth_stage, planning_users
from bot.checklist.verdict import VerdictKind, surge_verdict, weighted_score
from tests.test_checklist_playbooks import default_playbook

Y, N, U = "yes", "no", "not_sure"

# --- the surge verdict: one test per row of the product brief's truth table -------------------------


def test_verdict_is_prepare_now_when_every_signal_is_yes_and_the_giant_is_no() -> None:
    verdict = surge_verdict([Y] * 6, N)
    assert verdict.kind is VerdictKind.PREPARE_NOW
    assert verdict.headline == "Prepare for a surge now"
    assert "load test at 5–10x peak" in verdict.advice and "pre-mortem now" in verdict.advice
    assert not verdict.giant_open


def test_verdict_is_prepare_reversibly_when_every_signal_is_yes_and_a_giant_could_wipe_us_out() -> None:
    verdict = surge_verdict([Y] * 6, Y)
    assert verdict.kind is VerdictKind.PREPARE_REVERSIBLY
    assert "rented capacity over bought" in verdict.advice


def test_verdict_is_prepare_now_with_the_giant_open_when_every_signal_is_yes_and_the_giant_unsure() -> None:
    verdict = surge_verdict([Y] * 6, U)
    assert (verdict.kind, verdict.giant_open, verdict.open_signals) == (VerdictKind.PREPARE_NOW, True, ())


@pytest.mark.parametrize("giant", [Y, N, U])
@pytest.mark.parametrize(
    "signals",
    [[U, Y, Y, Y, Y, Y], [Y, Y, U, Y, U, Y], [U] * 6],
    ids=["one unsure", "two unsure", "all unsure"],
)
def test_verdict_is_undecided_when_some_signals_are_unsure_and_the_rest_yes(
    signals: list[str], giant: str
) -> None:
    verdict = surge_verdict(signals, giant)  # type: ignore[arg-type]
    assert verdict.kind is VerdictKind.UNDECIDED
    assert verdict.open_signals == tuple(i for i, a in enumerate(signals) if a == U)
    assert verdict.giant_open is (giant == U)


@pytest.mark.parametrize("giant", [Y, N, U])
@pytest.mark.parametrize(
    "signals",
    [[Y, Y, Y, Y, Y, N], [Y, Y, Y, N, N, N], [Y, Y, Y, U, U, N], [N, Y, Y, Y, U, Y]],
    ids=["5 yes", "3 yes", "3 yes, unsure and a no", "4 yes, one unsure, one no"],
)
def test_verdict_is_watch_with_three_to_five_yes_and_a_no(signals: list[str], giant: str) -> None:
    assert surge_verdict(signals, giant).kind is VerdictKind.WATCH  # type: ignore[arg-type]


@pytest.mark.parametrize("giant", [Y, N, U])
@pytest.mark.parametrize(
    "signals",
    [[Y, Y, N, N, N, N], [N] * 6, [Y, U, U, U, U, N]],
    ids=["2 yes", "0 yes", "1 yes, unsure, a no"],
)
def test_verdict_is_relax_with_two_or_fewer_yes_and_a_no(signals: list[str], giant: str) -> None:
    verdict = surge_verdict(signals, giant)  # type: ignore[arg-type]
    assert verdict.kind is VerdictKind.RELAX
    assert verdict.advice == "Focus on value for users; re-check when a signal changes."


def test_the_verdict_needs_exactly_six_signals() -> None:
    with pytest.raises(ValueError, match="six surge signals"):
        surge_verdict([Y] * 5, N)  # type: ignore[list-item]


def test_score_is_the_weighted_share_of_yes_and_never_changes_the_verdict() -> None:
    answers = [(Y, 3.0), (Y, 1.0), (N, 1.0), (U, 1.0), (N, 1.0), (N, 1.0)]
    assert weighted_score(answers) == pytest.approx(4 / 8)  # type: ignore[arg-type]
    assert weighted_score([(Y, 0.0)]) == 0.0  # type: ignore[list-item]
    # Heavy weights on the yes answers do not lift 2 yes out of "relax".
    assert surge_verdict([Y, Y, N, N, N, N], N).kind is VerdictKind.RELAX


# --- the growth stage: one test per band edge ----------------------------------------------------


@pytest.mark.parametrize(
    ("users", "growth", "band"),
    [
        (999, 0, "≈100"),
        (1_000, 0, "1K"),
        (999, Decimal("0.1"), "≈100"),  # 999.999 planning users: still under 1,000
        (910, 10, "1K"),  # 1,001
        (500, 100, "1K"),  # exactly 1,000
        (499, 100, "≈100"),  # 998
        (2_000, -50, "1K"),  # shrinking to exactly 1,000
        (1_000, Decimal("-0.1"), "≈100"),  # 999
    ],
    ids=str,
)
def test_stage_edge_between_hundred_and_1k(users: int, growth: Decimal, band: str) -> None:
    assert growth_stage(users, growth).band == band


@pytest.mark.parametrize(
    ("users", "growth", "band"),
    [
        (9_999, 0, "1K"),
        (10_000, 0, "10K"),
        (5_000, 100, "10K"),
        (4_999, 100, "1K"),
        (99_999, 0, "10K"),
        (100_000, 0, "100K"),
        (50_000, 100, "100K"),
        (49_999, 100, "10K"),
        (999_999, 0, "100K"),
        (1_000_000, 0, "1M"),
        (100_000, 900, "1M"),  # 10x in a quarter
        (99_999, 900, "100K"),
        (8_000_000_000, 0, "1M"),
    ],
    ids=str,
)
def test_stage_edges_from_1k_to_1m(users: int, growth: Decimal, band: str) -> None:
    assert growth_stage(users, growth).band == band


def test_planning_users_are_exact_and_the_advice_is_for_the_next_band_up() -> None:
    assert planning_users(999, Decimal("0.1")) < 1000
    assert band_for(planning_users(3, Decimal("33.3333333333333333333333"))) == "≈100"
    stage = growth_stage(1_000, 50)
    assert (stage.planning_whole, stage.band, stage.next) == (1_500, "1K", "10K")
    assert growth_stage(2_000_000, 0).next == "1M"  # the top band is its own next step


def test_a_complete_default_check_decides_verdict_stage_open_questions_and_todos() -> None:
    playbook = default_playbook()
    answers = {q.id: "yes" for q in playbook.questions() if q.kind == "yes_no"}
    answers |= {"giant": "no", "media_coverage": "not_sure", "load_test": "no", "business_goal": "acquire"}
    answers |= {"active_users": "12000", "peak_rps": "120", "expected_growth": "10"}
    assert missing_required(playbook, answers) == []
    outcome = decide(playbook, answers)
    assert outcome.verdict is not None and outcome.verdict.kind is VerdictKind.UNDECIDED
    assert [o.question.id for o in outcome.open_questions] == ["media_coverage"]
    assert outcome.open_questions[0].ask == "marketing"
    assert outcome.stage is not None and (outcome.stage.band, outcome.stage.next) == ("10K", "100K")
    assert outcome.advice is not None and any("Read replicas" in c.text for c in outcome.advice.step_ahead)
    assert [f.question.id for f in outcome.follow_ups] == ["load_test"]
    with pytest.raises(ValueError, match="incomplete"):
        decide(playbook, {"b2c": "yes"})


# --- what answer fields accept --------------------------------------------------------------------

USERS = Question(id="users", text="Users?", kind="number", role="active_users", integer=True, min=0)
GROWTH = Question(
    id="growth", text="Growth?", kind="number", role="expected_growth", min=-100, max=100000, unit="%"
)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("12000", "12000"),
        ("12,000", "12000"),
        (" 12 000 ", "12000"),
        ("12k", "12000"),
        ("1.5M", "1500000"),
        ("0", "0"),
    ],
)
def test_a_number_field_takes_digits_separators_and_suffixes(raw: str, stored: str) -> None:
    assert parse(USERS, raw) == stored


@pytest.mark.parametrize(
    ("question", "raw", "sentence"),
    [
        (USERS, "twelve", "“twelve” is not a number. Type digits only"),
        (USERS, "12e3", "is not a number"),
        (USERS, "NaN", "is not a number"),
        (USERS, "", "Type a number"),
        (USERS, "-5", "-5 is negative; enter 0 or more."),
        (USERS, "9000000000", "more users than there are people on Earth"),
        (USERS, "12.5", "Enter a whole number"),
        (GROWTH, "-150", "-150 is too small; enter -100 or more."),
        (GROWTH, "200000", "more than this question allows (100,000)"),
        (USERS, "1" * 41, "too long for a number"),
    ],
)
def test_a_number_field_refuses_with_a_sentence_saying_how_to_fix_it(
    question: Question, raw: str, sentence: str
) -> None:
    with pytest.raises(AnswerError) as refused:
        parse(question, raw)
    assert sentence in refused.value.message


def test_text_and_choice_answers_are_checked_and_displayed() -> None:
    text = Question(id="why", text="Why?", kind="text", max_length=10)
    assert parse(text, "  because  ") == "because"
    with pytest.raises(AnswerError, match="Keep it to 10 characters"):
        parse(text, "x" * 11)
    with pytest.raises(AnswerError, match="Type an answer"):
        parse(text, "   ")
    goal = default_playbook().question("business_goal")
    assert goal is not None
    assert display(goal, parse(goal, "acquire")) == "Acquire more customers"
    with pytest.raises(AnswerError, match="Pick one of the choices"):
        parse(goal, "world_domination")
    assert display(GROWTH, parse(GROWTH, "50%")) == "50%"
    assert display(USERS, parse(USERS, "1234567")) == "1,234,567"
    assert parse_number("0.50", GROWTH) == Decimal("0.5")
