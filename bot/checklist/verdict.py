"""The surge verdict (`000_…`): the product brief's truth table, row for row, and the weighted score.

| S1–S6                      | G        | verdict                                        |
|----------------------------|----------|------------------------------------------------|
| all yes                    | no       | prepare for a surge now                        |
| all yes                    | yes      | prepare, reversibly                            |
| all yes                    | not sure | prepare now, with G listed as an open question |
| any not sure, the rest yes | any      | undecided (open questions and who could answer)|
| 3–5 yes                    | any      | watch                                          |
| 0–2 yes                    | any      | relax                                          |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

YesNo = Literal["yes", "no", "not_sure"]
YES_NO_VALUES: tuple[YesNo, ...] = ("yes", "no", "not_sure")


class VerdictKind(StrEnum):
    PREPARE_NOW = "prepare_now"
    PREPARE_REVERSIBLY = "prepare_reversibly"
    UNDECIDED = "undecided"
    WATCH = "watch"
    RELAX = "relax"


HEADLINES: dict[VerdictKind, str] = {
    VerdictKind.PREPARE_NOW: "Prepare for a surge now",
    VerdictKind.PREPARE_REVERSIBLY: "Prepare, reversibly",
    VerdictKind.UNDECIDED: "Undecided",
    VerdictKind.WATCH: "Watch",
    VerdictKind.RELAX: "Relax",
}

ADVICE: dict[VerdictKind, str] = {
    VerdictKind.PREPARE_NOW: (
        "Capacity plan and load test at 5–10x peak, talk to the cloud provider, run the pre-mortem now."
    ),
    VerdictKind.PREPARE_REVERSIBLY: (
        "The surge case holds, but a giant could erase the business: prefer steps that can be undone "
        "and rented capacity over bought."
    ),
    VerdictKind.UNDECIDED: (
        "Some signals are open. Get the answers from the people who know, then run the check again."
    ),
    VerdictKind.WATCH: "Scale follows business growth; stay one step ahead and re-check monthly.",
    VerdictKind.RELAX: "Focus on value for users; re-check when a signal changes.",
}


@dataclass(frozen=True)
class SurgeVerdict:
    kind: VerdictKind
    yes_count: int
    open_signals: tuple[int, ...] = ()  # indexes (0–5) of the signals answered "not sure"
    giant_open: bool = False  # the giant question is listed as open

    @property
    def headline(self) -> str:
        return HEADLINES[self.kind]

    @property
    def advice(self) -> str:
        return ADVICE[self.kind]


def surge_verdict(signals: Sequence[YesNo], giant: YesNo) -> SurgeVerdict:
    """The verdict for the six surge signals S1–S6 and the giant question G."""
    if len(signals) != 6:
        raise ValueError(f"the truth table has six surge signals, got {len(signals)}")
    yes = sum(1 for a in signals if a == "yes")
    unsure = tuple(i for i, a in enumerate(signals) if a == "not_sure")
    giant_unsure = giant == "not_sure"
    if yes == 6:
        if giant == "yes":
            return SurgeVerdict(VerdictKind.PREPARE_REVERSIBLY, yes)
        return SurgeVerdict(VerdictKind.PREPARE_NOW, yes, giant_open=giant_unsure)
    if unsure and yes + len(unsure) == 6:  # any not sure, the rest yes
        return SurgeVerdict(VerdictKind.UNDECIDED, yes, open_signals=unsure, giant_open=giant_unsure)
    if yes >= 3:
        return SurgeVerdict(VerdictKind.WATCH, yes)
    return SurgeVerdict(VerdictKind.RELAX, yes)


def weighted_score(answers: Sequence[tuple[YesNo, float]]) -> float:
    """The weighted share of yes, 0–1, shown beside the verdict (it never changes the verdict)."""
    total = sum(weight for _, weight in answers)
    if total <= 0:
        return 0.0
    return sum(weight for answer, weight in answers if answer == "yes") / total
