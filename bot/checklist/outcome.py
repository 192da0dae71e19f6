"""What a finished check concludes: the surge verdict and score, the stage and its advice, the to-dos."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from bot.checklist.playbook import Playbook, Question, StageAdvice
from bot.checklist.stage import Stage, growth_stage
from bot.checklist.verdict import SurgeVerdict, YesNo, surge_verdict, weighted_score


@dataclass(frozen=True)
class OpenQuestion:
    question: Question
    ask: str | None


@dataclass(frozen=True)
class FollowUp:
    question: Question
    answer: str  # "no" or "not_sure"


@dataclass(frozen=True)
class Outcome:
    verdict: SurgeVerdict | None
    score: float | None  # weighted share of yes over the surge signals, 0–1
    open_questions: tuple[OpenQuestion, ...]
    stage: Stage | None
    peak_rps: Decimal | None
    advice: StageAdvice | None  # for the band one step ahead
    follow_ups: tuple[FollowUp, ...]


def missing_required(playbook: Playbook, answers: Mapping[str, str]) -> list[Question]:
    return [q for q in playbook.questions() if q.required and q.id not in answers]


def is_complete(playbook: Playbook, answers: Mapping[str, str]) -> bool:
    return not missing_required(playbook, answers)


def _yes_no(answers: Mapping[str, str], question: Question) -> YesNo:
    return cast(YesNo, answers[question.id])


def decide(playbook: Playbook, answers: Mapping[str, str]) -> Outcome:
    """The outcome of a complete check (`answers`: question id → stored value)."""
    missing = missing_required(playbook, answers)
    if missing:
        raise ValueError(f"the check is incomplete: {', '.join(q.id for q in missing)}")
    verdict, score = None, None
    open_questions: tuple[OpenQuestion, ...] = ()
    signals = playbook.with_role("surge_signal")
    if signals:
        giant = playbook.with_role("giant")[0]
        verdict = surge_verdict([_yes_no(answers, q) for q in signals], _yes_no(answers, giant))
        score = weighted_score([(_yes_no(answers, q), q.weight) for q in signals])
        unsure = [signals[i] for i in verdict.open_signals] + ([giant] if verdict.giant_open else [])
        open_questions = tuple(OpenQuestion(q, q.ask) for q in unsure)
    stage = advice = None
    users = playbook.with_role("active_users")
    if users:
        growth = playbook.with_role("expected_growth")
        stage = growth_stage(
            Decimal(answers[users[0].id]), Decimal(answers[growth[0].id]) if growth else Decimal(0)
        )
        advice = playbook.stages.get(stage.next)
    rps = playbook.with_role("peak_rps")
    peak_rps = Decimal(answers[rps[0].id]) if rps else None
    follow_ups = tuple(
        FollowUp(q, answers[q.id])
        for q in playbook.questions()
        if q.kind == "yes_no" and q.follow_up and answers.get(q.id) in ("no", "not_sure")
    )
    return Outcome(verdict, score, open_questions, stage, peak_rps, advice, follow_ups)
