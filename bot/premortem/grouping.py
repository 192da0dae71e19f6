"""Grouping risks by component: leads name the same thing differently ("DB write throughput" and
"database write-throughput"); the reveal shows them as one risk unless a lead says they are not the same.

A name is normalised (case, punctuation and whitespace), common abbreviations are expanded, and two
names are the same component when their sets of words are equal. Word order and repeats do not matter;
a different word does ("database reads" and "database writes" stay apart).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from bot.premortem.model import Risk

ABBREVIATIONS = {
    "db": "database",
    "dbs": "databases",
    "auth": "authentication",
    "authn": "authentication",
    "svc": "service",
    "svcs": "services",
    "k8s": "kubernetes",
}
_NOT_WORD = re.compile(r"[^\w\s]|_")


def normalise(name: str) -> str:
    """Lower case, punctuation to spaces, single spaces, abbreviations expanded."""
    words = _NOT_WORD.sub(" ", name.casefold()).split()
    return " ".join(ABBREVIATIONS.get(word, word) for word in words)


def words(name: str) -> frozenset[str]:
    return frozenset(normalise(name).split())


def component_key(name: str) -> str:
    """The key two names share exactly when they name the same component (their sorted word set)."""
    return " ".join(sorted(words(name)))


def spelling(name: str) -> str:
    """How a name was written, ignoring only case and runs of whitespace (what "not the same" separates)."""
    return " ".join(name.casefold().split())


def display(name: str) -> str:
    return " ".join(name.split())


def group_id(key: str) -> str:
    """A short stable id for a group key (used in button values and stored votes)."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Group:
    """Risks naming one component, and who raised it."""

    key: str
    title: str  # as the lead who ranked it highest wrote it
    risks: tuple[Risk, ...]  # best rank first
    spellings: tuple[str, ...]  # the distinct ways it was written (display form)
    parent_key: str | None = None  # set when a lead split a merge apart

    @property
    def id(self) -> str:
        return group_id(self.key)

    @property
    def merged(self) -> bool:
        """More than one spelling collapsed into this group (a lead may undo it)."""
        return len(self.spellings) > 1

    @property
    def best_rank(self) -> int:
        return min(r.rank for r in self.risks)

    @property
    def leads(self) -> tuple[str, ...]:
        """Who raised it, each once, best rank first."""
        return tuple(dict.fromkeys(r.lead for r in self.risks))


def _ordered(risks: Iterable[Risk]) -> tuple[Risk, ...]:
    return tuple(sorted(risks, key=lambda r: (r.rank, r.lead)))


def _group(key: str, risks: list[Risk], parent_key: str | None = None) -> Group:
    ordered = _ordered(risks)
    distinct: dict[str, str] = {}
    for risk in ordered:
        distinct.setdefault(spelling(risk.component), display(risk.component))
    return Group(key, display(ordered[0].component), ordered, tuple(distinct.values()), parent_key)


def group_risks(risks: Iterable[Risk], splits: Collection[str] = ()) -> list[Group]:
    """Risks grouped by component key; a key in `splits` is kept apart by spelling instead.

    Groups come best-ranked first, then most leads, then by title, so the reveal reads the same every time.
    """
    by_key: dict[str, list[Risk]] = {}
    for risk in risks:
        key = component_key(risk.component)
        if key:
            by_key.setdefault(key, []).append(risk)
    groups: list[Group] = []
    for key, members in by_key.items():
        if key not in splits:
            groups.append(_group(key, members))
            continue
        by_spelling: dict[str, list[Risk]] = {}
        for risk in members:
            by_spelling.setdefault(spelling(risk.component), []).append(risk)
        for written, part in by_spelling.items():
            groups.append(_group(f"{key}|{written}", part, parent_key=key))
    groups.sort(key=lambda g: (g.best_rank, -len(g.leads), g.title.casefold(), g.key))
    return groups


def split_parts(group: Group) -> list[Group]:
    """The groups a merged group becomes when a lead says its names are not the same."""
    return [g for g in group_risks(group.risks, {group.key}) if g.parent_key == group.key]
