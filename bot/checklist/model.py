"""A check as the domain sees it, the references buttons carry, and who may cancel a check."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import Field

from bot.checklist.answers import Answer
from bot.checklist.outcome import missing_required
from bot.checklist.playbook import Playbook
from bot.metadata import Carried

Status = Literal["open", "done", "cancelled"]


@dataclass(frozen=True)
class CheckState:
    id: int
    team_name: str
    channel_id: str
    playbook: Playbook
    digest: str
    status: Status
    started_by: str
    started_at: datetime
    answers: Mapping[str, Answer] = field(default_factory=dict)
    permalink: str | None = None
    finished_at: datetime | None = None
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None
    shared_by: str | None = None
    shared_at: datetime | None = None

    @property
    def values(self) -> dict[str, str]:
        """Answers to questions of this playbook only (question id → stored value)."""
        return {qid: a.value for qid, a in self.answers.items() if self.playbook.question(qid) is not None}

    @property
    def required_total(self) -> int:
        return sum(1 for q in self.playbook.questions() if q.required)

    @property
    def required_missing(self) -> int:
        return len(missing_required(self.playbook, self.values))


class Ref(Carried):
    """What a button or a modal carries: the check, and for answers the question, value and playbook."""

    c: int = Field(ge=1)  # check id
    q: str | None = None  # question id
    a: str | None = None  # the value a Yes/No/Not sure button sets
    v: str | None = None  # playbook digest the button was rendered from


def may_cancel(user_id: str, started_by: str, managers: Iterable[str], admins: Iterable[str]) -> bool:
    """The person who started the check, the team's managers and workspace admins may cancel it."""
    return user_id == started_by or user_id in set(managers) or user_id in set(admins)
