"""Answers: what a person typed or clicked, checked against the question, stored as a string.

Every refusal is a sentence saying how to fix it; it is shown in the modal or as an ephemeral message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from bot.checklist.playbook import Question
from bot.checklist.verdict import YES_NO_VALUES
from bot.words import quoted

# About 8.2 billion people (UN World Population Prospects, 2024); no product has more users.
EARTH_POPULATION = 8_200_000_000
MAX_NUMBER_INPUT = 40  # characters a number field accepts

YES_NO_LABELS = {"yes": "Yes", "no": "No", "not_sure": "Not sure"}
_SUFFIX = {"k": Decimal(1_000), "m": Decimal(1_000_000), "b": Decimal(1_000_000_000)}
_SEPARATORS = re.compile(r"[,\s_'’]")


class AnswerError(ValueError):
    """An answer the question does not accept; the message says how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Answer:
    question_id: str
    value: str  # "yes"/"no"/"not_sure", a canonical number, a choice id, or the text as typed
    user_id: str
    at: datetime


def _shown(raw: str) -> str:
    raw = raw.strip()
    return raw if len(raw) <= 30 else raw[:29] + "…"


def parse_number(raw: str, question: Question) -> Decimal:
    """Digits with optional separators (12,000), a k/m/b suffix (12k) or a % sign."""
    text = raw.strip()
    if not text:
        raise AnswerError("Type a number, for example 12000.")
    cleaned = _SEPARATORS.sub("", text).lower().removesuffix("%")
    multiplier = Decimal(1)
    if cleaned and cleaned[-1] in _SUFFIX:
        multiplier, cleaned = _SUFFIX[cleaned[-1]], cleaned[:-1]
    try:
        number = Decimal(cleaned) * multiplier
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", cleaned):
        raise AnswerError(
            f"{quoted(_shown(raw))} is not a number. Type digits only, for example 12000 "
            "(commas, spaces and a k or m suffix are fine)."
        )
    if question.role == "active_users" and number > EARTH_POPULATION:
        raise AnswerError(
            "That is more users than there are people on Earth (about 8.2 billion). "
            "Enter the active users you have now, for example 12000."
        )
    lower, upper = question.lower_bound, question.upper_bound
    if lower is not None and number < lower:
        if lower == 0:
            raise AnswerError(f"{format_number(number)} is negative; enter 0 or more.")
        raise AnswerError(f"{format_number(number)} is too small; enter {format_number(lower)} or more.")
    if upper is not None and number > upper:
        raise AnswerError(
            f"{format_number(number)} is more than this question allows ({format_number(upper)}); "
            "check the number and its unit."
        )
    if question.integer and number != number.to_integral_value():
        raise AnswerError(f"Enter a whole number; {format_number(number)} has a fraction.")
    return number.normalize() if number != 0 else Decimal(0)


def parse(question: Question, raw: str) -> str:
    """The stored form of an answer to `question`, or `AnswerError`."""
    if question.kind == "yes_no":
        if raw not in YES_NO_VALUES:
            raise AnswerError("Answer with Yes, No or Not sure.")
        return raw
    if question.kind == "number":
        if len(raw) > MAX_NUMBER_INPUT:
            raise AnswerError(f"That is too long for a number; use at most {MAX_NUMBER_INPUT} characters.")
        return canonical_number(parse_number(raw, question))
    if question.kind == "choice":
        if raw not in {c.id for c in question.choices}:
            raise AnswerError("Pick one of the choices in the list.")
        return raw
    text = raw.strip()
    if not text:
        raise AnswerError("Type an answer (or close this window to leave it empty).")
    if len(text) > question.max_length:
        raise AnswerError(f"Keep it to {question.max_length:,} characters; this is {len(text):,}.")
    return text


def canonical_number(number: Decimal) -> str:
    return format(number, "f")


def format_number(number: Decimal | int) -> str:
    """12,000 or 1,234.5: grouped, without trailing zeros or exponent."""
    value = Decimal(number)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    whole, _, fraction = format(value.normalize(), "f").partition(".")
    return f"{int(whole):,}.{fraction}" if whole not in ("-0",) else f"-0.{fraction}"


def display(question: Question, value: str) -> str:
    """An answer as a person reads it (not escaped: the caller escapes it for mrkdwn)."""
    if question.kind == "yes_no":
        return YES_NO_LABELS.get(value, value)
    if question.kind == "number":
        shown = format_number(Decimal(value))
        if not question.unit:
            return shown
        return f"{shown}{question.unit}" if question.unit == "%" else f"{shown} {question.unit}"
    if question.kind == "choice":
        return next((c.label for c in question.choices if c.id == value), value)
    return value


def still_valid(question: Question, value: str) -> bool:
    """Whether a stored answer still fits the question (after the playbook changed)."""
    try:
        if question.kind == "number":
            parse_number(value, question)
            return True
        return parse(question, value) == value
    except AnswerError:
        return False
