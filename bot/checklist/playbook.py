"""Playbooks: the checklist's questions as data (YAML), validated so that every one renders within
Slack's limits and the verdict and stage rules find the questions they need."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from bot import seeds
from bot.configbase import Strict

QuestionKind = Literal["yes_no", "number", "choice", "text"]
# What the rules need from a question; a question without a role is only shown and stored.
Role = Literal["surge_signal", "giant", "active_users", "peak_rps", "expected_growth"]
PartKind = Literal["surge", "business", "stage", "audit", "other"]
Band = Literal["≈100", "1K", "10K", "100K", "1M"]

SURGE_SIGNALS = 6  # the six surge questions S1–S6 of the product brief's truth table
MAX_QUESTIONS = 200
MAX_QUESTION_TEXT = 300
MAX_TEXT_ANSWER = 2000

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            f"{value!r} is not an id: use 1–40 lowercase letters, digits, '_' or '-' (like load_test)"
        )
    return value


def _seed_title(value: str) -> str:
    """A seed article's title, as users read it (case, spacing and quotes around it are forgiven)."""
    try:
        return seeds.by_title(value).title
    except seeds.UnknownSeed as exc:
        raise ValueError(f"{value[:120]!r} {exc}") from None


def _seed_file(value: str) -> str:
    """An older playbook's `seed:` (a seed file name), read as the title of the article it names."""
    try:
        return seeds.by_file(value).title
    except seeds.UnknownSeed as exc:
        raise ValueError(f"{value[:120]!r} {exc}") from None


def _seed_ref(value: str) -> str:
    """A title, or a seed file name (mapped to its title): what `see_also` lists."""
    return (
        _seed_file(value) if seeds.FILE_PATTERN.match(value) or value.endswith(".txt") else _seed_title(value)
    )


Id = Annotated[str, AfterValidator(_id)]
SeedTitle = Annotated[str, AfterValidator(_seed_title)]
SeedFile = Annotated[str, AfterValidator(_seed_file)]  # stored as the title it maps to
SeedRef = Annotated[str, AfterValidator(_seed_ref)]
# Free text a user reads: a seed file name in it (an older playbook's intro) reads as the article's title.
UserText = AfterValidator(seeds.cite_in_text)


def _one_citation(seed_title: str | None, seed: str | None) -> None:
    if seed_title is not None and seed is not None:
        raise ValueError("give seed_title (the article's title) or seed (its file name), not both")


Line = Annotated[str, Field(min_length=1, max_length=200)]


class Citation(Strict):
    """One piece of advice and the seed article it comes from (by title)."""

    text: Annotated[Line, UserText]
    seed_title: SeedTitle | None = None
    seed: SeedFile | None = None  # the older key: a seed file name, read as its title

    @model_validator(mode="after")
    def _cites_one(self) -> Citation:
        _one_citation(self.seed_title, self.seed)
        if self.seed_title is None and self.seed is None:
            raise ValueError("seed_title: every piece of advice cites the article it comes from")
        return self

    @property
    def title(self) -> str:
        """The title of the article the advice comes from."""
        return self.seed_title or self.seed or ""


class Choice(Strict):
    id: Id
    label: Annotated[str, Field(min_length=1, max_length=75)]


class Question(Strict):
    id: Id
    text: Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_TEXT)]
    kind: QuestionKind = "yes_no"
    required: bool = True
    weight: float = Field(default=1.0, ge=0, le=100)
    seed_title: SeedTitle | None = None  # the article it comes from, by title
    seed: SeedFile | None = None  # the older key: a seed file name, read as its title
    see_also: list[SeedRef] = []
    quote: Annotated[str, Field(max_length=500)] | None = None  # the seed's own words
    role: Role | None = None
    ask: Annotated[str, Field(max_length=60)] | None = None  # who could answer it when nobody knows
    follow_up: Annotated[str, Field(max_length=300), UserText] | None = (
        None  # shown when the answer is not yes
    )
    hint: Annotated[str, Field(max_length=150)] | None = None
    choices: list[Choice] = []
    min: float | None = None
    max: float | None = None
    integer: bool = False
    unit: Annotated[str, Field(max_length=20)] | None = None
    max_length: int = Field(default=MAX_TEXT_ANSWER, ge=1, le=MAX_TEXT_ANSWER)

    @model_validator(mode="after")
    def _fits_kind(self) -> Question:
        _one_citation(self.seed_title, self.seed)
        if self.kind == "choice":
            if not 2 <= len(self.choices) <= 100:
                raise ValueError("a choice question needs 2 to 100 choices")
            ids = [c.id for c in self.choices]
            if len(set(ids)) != len(ids):
                raise ValueError(f"choice ids repeat: {sorted(i for i, n in Counter(ids).items() if n > 1)}")
        elif self.choices:
            raise ValueError(f"choices only apply to kind: choice (this question is {self.kind})")
        if self.kind != "number" and (self.min is not None or self.max is not None or self.integer):
            raise ValueError(
                f"min, max and integer only apply to kind: number (this question is {self.kind})"
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        needed: dict[Role, QuestionKind] = {
            "surge_signal": "yes_no",
            "giant": "yes_no",
            "active_users": "number",
            "peak_rps": "number",
            "expected_growth": "number",
        }
        if self.role is not None:
            if self.kind != needed[self.role]:
                raise ValueError(f"role {self.role} needs kind: {needed[self.role]}")
            if not self.required:
                raise ValueError(f"role {self.role} feeds the verdict or the stage, so it must be required")
        return self

    @property
    def source(self) -> str | None:
        """The title of the article the question comes from."""
        return self.seed_title or self.seed

    @property
    def seeds(self) -> list[str]:
        """The titles of the articles the question comes from."""
        first = self.seed_title or self.seed
        return ([first] if first else []) + [t for t in self.see_also if t != first]

    @property
    def lower_bound(self) -> Decimal | None:
        return None if self.min is None else Decimal(str(self.min))

    @property
    def upper_bound(self) -> Decimal | None:
        return None if self.max is None else Decimal(str(self.max))


class Part(Strict):
    id: Id
    title: Annotated[str, Field(min_length=1, max_length=100)]
    kind: PartKind = "other"
    intro: Annotated[str, Field(max_length=500), UserText] | None = None
    seed_title: SeedTitle | None = None  # the article the intro comes from
    questions: Annotated[list[Question], Field(min_length=1)]


class StageAdvice(Strict):
    """What to build to stay one step ahead of a band, and what not to build yet."""

    step_ahead: list[Citation] = Field(default=[], max_length=15)
    not_yet: list[Citation] = Field(default=[], max_length=15)


class Playbook(Strict):
    name: Annotated[str, Field(min_length=1, max_length=60)]
    title: Annotated[str, Field(min_length=1, max_length=100)] = "Scale check"
    description: Annotated[str, Field(max_length=500)] | None = None
    parts: Annotated[list[Part], Field(min_length=1, max_length=20)]
    stages: dict[Band, StageAdvice] = {}

    @model_validator(mode="after")
    def _rules_find_their_questions(self) -> Playbook:
        questions = list(self.questions())
        if len(questions) > MAX_QUESTIONS:
            raise ValueError(f"{len(questions)} questions; a playbook holds at most {MAX_QUESTIONS}")
        for what, ids in (("part", [p.id for p in self.parts]), ("question", [q.id for q in questions])):
            repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
            if repeated:
                raise ValueError(f"{what} ids must be unique; repeated: {', '.join(repeated)}")
        roles = Counter(q.role for q in questions if q.role)
        surge, giant = roles["surge_signal"], roles["giant"]
        if surge not in (0, SURGE_SIGNALS):
            raise ValueError(
                f"{surge} questions have role surge_signal; the verdict needs exactly {SURGE_SIGNALS} "
                "(or none, for a playbook without a surge verdict)"
            )
        if surge and giant != 1:
            raise ValueError("a playbook with surge signals needs exactly one question with role giant")
        if giant and not surge:
            raise ValueError("role giant only makes sense beside the six surge_signal questions")
        if surge and sum(q.weight for q in questions if q.role == "surge_signal") <= 0:
            raise ValueError("the surge_signal questions' weights add up to 0; give at least one a weight")
        for role in ("active_users", "peak_rps", "expected_growth"):
            if roles[role] > 1:
                raise ValueError(f"{roles[role]} questions have role {role}; at most one may")
        if roles["expected_growth"] and not roles["active_users"]:
            raise ValueError("role expected_growth needs a question with role active_users")
        return self

    def questions(self) -> Iterator[Question]:
        for part in self.parts:
            yield from part.questions

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions() if q.id == question_id), None)

    def with_role(self, role: Role) -> list[Question]:
        return [q for q in self.questions() if q.role == role]

    @cached_property
    def digest(self) -> str:
        """A short fingerprint of the content: buttons carry it so a stale one is recognised."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]
