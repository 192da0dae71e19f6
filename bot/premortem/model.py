"""A pre-mortem as plain data: the question, its leads, their risks, votes and mitigations.

The service builds a `Premortem` from what is stored; rules and rendering read it and never touch Slack
or the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

SEED = "001_9a79e61d27315dc6.txt"
QUESTION = (
    "If our active users or request rate suddenly grew 10x next month, what are the top three things "
    "that would likely break first?"
)
# The product–engineering sync the pre-mortem comes from (seed 001), quoted where the bot explains itself.
SYNC_ANSWER = "The database write throughput, the authentication service, and our caching layer."
SYNC_WHY = "This pre-mortem approach will help us avoid surprises and plan sprints accordingly."

MAX_RISKS = 3
MAX_LEADS = 12
TOP = 3

Status = Literal["collecting", "voting", "planning", "cancelled"]
ACTIVE: tuple[Status, ...] = ("collecting", "voting")
RevealReason = Literal["all_answered", "deadline"]

EVIDENCE_KINDS: Mapping[str, str] = {
    "metric": "a metric",
    "incident": "an incident",
    "load_test": "a load test",
    "hunch": "a hunch",
}

# The likelihood a lead may give each risk in the answer modal, as the probability (of it breaking within
# the prediction's horizon, 90 days by default) that calibration scores against what really broke.
LIKELIHOODS: Mapping[str, float] = {"low": 0.1, "medium": 0.4, "high": 0.7}
LIKELIHOOD_LABELS: Mapping[str, str] = {
    "low": "Low (about 1 in 10)",
    "medium": "Medium (about 4 in 10)",
    "high": "High (about 7 in 10)",
}


def likelihood_key(value: float | None) -> str | None:
    """The answer modal's choice for a stored likelihood (None when none was given)."""
    return next((k for k, v in LIKELIHOODS.items() if value is not None and abs(v - value) < 1e-9), None)


MitigationStatus = Literal["open", "in_progress", "done", "wont_do"]
MITIGATION_STATUSES: Mapping[str, str] = {
    "open": "Open",
    "in_progress": "In progress",
    "done": "Done",
    "wont_do": "Won't do",
}
OPEN_STATUSES = ("open", "in_progress")
Verification = Literal["metric", "load_test"]
LOAD_TEST = "load test at 10x passes"


@dataclass(frozen=True)
class Risk:
    """One ranked risk in a lead's answer."""

    lead: str
    rank: int  # 1 = breaks first
    component: str
    why: str = ""
    evidence_kind: str | None = None
    evidence: str = ""
    likelihood: float | None = None  # the lead's stated probability that it breaks (see calibration)


@dataclass(frozen=True)
class AwayMark:
    """A lead found away when a reminder was due: which reminder waits, until when they are away (None:
    no end known) and when they are tried again (None: not before the deadline)."""

    step: str
    until: datetime | None
    retry_at: datetime | None


@dataclass(frozen=True)
class Lead:
    user_id: str
    in_channel: bool = True
    answered_at: datetime | None = None
    tz: str | None = None
    snoozed_until: datetime | None = None
    added_at: datetime | None = None
    away: AwayMark | None = None

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


@dataclass(frozen=True)
class Target:
    """What a metric must meet for a mitigation to count as done, e.g. `db_connections < 0.6`."""

    op: str  # one of < <= > >=
    value: float
    text: str  # as the person typed it, for display

    def met_by(self, measured: float) -> bool:
        return {
            "<": measured < self.value,
            "<=": measured <= self.value,
            ">": measured > self.value,
            ">=": measured >= self.value,
        }[self.op]


@dataclass(frozen=True)
class Mitigation:
    id: int
    group_id: str
    title: str
    plan: str
    owner: str
    due: date
    verification: Verification
    metric: str | None
    target: Target | None
    status: MitigationStatus
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    override_reason: str | None = None
    override_by: str | None = None
    owner_tz: str | None = None  # the owner's Slack time zone: "overdue" is judged by their calendar

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def verification_text(self) -> str:
        if self.verification == "metric" and self.metric and self.target:
            return f"{self.metric} {self.target.op} {self.target.text}"
        return LOAD_TEST


@dataclass(frozen=True)
class OpenMitigation:
    """One open (or in-progress) mitigation of a team's pre-mortem."""

    mitigation_id: int
    premortem_id: int
    title: str  # the risk it mitigates
    plan: str
    owner: str  # Slack user id
    due: date
    status: str  # "open" | "in_progress"
    status_label: str  # "Open" | "In progress"
    overdue: bool  # past its due date where its owner is (their Slack time zone) and not done
    age_days: int  # since it was created
    permalink: str | None  # the pre-mortem's thread
    owner_tz: str | None = None  # the owner's Slack time zone, whose calendar "overdue" follows


@dataclass(frozen=True)
class SignalView:
    """One signal as "data says" shows it: ranked by its 10x headroom (least first)."""

    name: str
    title: str
    kind: str
    current: float
    headroom: float | None  # None: never breaks (infinite headroom)
    breaks_first: bool  # headroom under 10x
    shown: str = ""  # the value in its unit with the window it covers ("82% now"); "" in older records

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "kind": self.kind,
            "current": self.current,
            "headroom": self.headroom,
            "breaks_first": self.breaks_first,
            "shown": self.shown,
        }


@dataclass(frozen=True)
class DataSays:
    """The team's signals ranked by 10x headroom at the reveal, as the metrics capability computed them."""

    source: str | None = None
    read_at: datetime | None = None
    signals: tuple[SignalView, ...] = ()
    unavailable: tuple[str, ...] = ()  # "metrics unavailable from <source>: <reason>" lines
    note: str | None = None  # why there is no data (no source configured, …)
    assumptions: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "source": self.source,
                "read_at": self.read_at.isoformat() if self.read_at else None,
                "signals": [s.to_json() for s in self.signals],
                "unavailable": list(self.unavailable),
                "note": self.note,
                "assumptions": self.assumptions,
            }
        )

    @classmethod
    def from_json(cls, raw: str | None) -> DataSays | None:
        if not raw:
            return None
        data = json.loads(raw)
        return cls(
            source=data.get("source"),
            read_at=datetime.fromisoformat(data["read_at"]) if data.get("read_at") else None,
            signals=tuple(SignalView(**s) for s in data.get("signals") or []),
            unavailable=tuple(data.get("unavailable") or []),
            note=data.get("note"),
            assumptions=data.get("assumptions") or "",
        )


@dataclass(frozen=True)
class Premortem:
    id: int
    workspace_id: str
    channel_id: str
    team_name: str
    status: Status
    started_by: str
    started_at: datetime
    deadline: datetime
    leads: tuple[Lead, ...]  # current leads, in the order they were named
    risks: tuple[Risk, ...] = ()
    votes: Mapping[str, frozenset[str]] = field(default_factory=dict)  # group id -> voters
    splits: frozenset[str] = frozenset()  # group keys a lead said are "not the same"
    top: tuple[str, ...] = ()  # group ids chosen when voting closed
    mitigations: tuple[Mitigation, ...] = ()
    data: DataSays | None = None
    root_ts: str | None = None
    permalink: str | None = None
    revealed_at: datetime | None = None
    reveal_reason: RevealReason | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None

    @property
    def lead_ids(self) -> tuple[str, ...]:
        return tuple(lead.user_id for lead in self.leads)

    @property
    def answered(self) -> tuple[str, ...]:
        return tuple(lead.user_id for lead in self.leads if lead.answered)

    def lead(self, user_id: str) -> Lead | None:
        return next((lead for lead in self.leads if lead.user_id == user_id), None)

    def risks_of(self, user_id: str) -> tuple[Risk, ...]:
        return tuple(sorted((r for r in self.risks if r.lead == user_id), key=lambda r: r.rank))

    def mitigation_for(self, group_id: str) -> Mitigation | None:
        return next((m for m in self.mitigations if m.group_id == group_id), None)
