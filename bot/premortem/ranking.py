"""Which risks get a mitigation: the top three by votes; ties go to the best rank any lead gave, then to
the risk more leads raised, then (so the order never wobbles) to the title."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from bot.premortem.grouping import Group
from bot.premortem.model import TOP


@dataclass(frozen=True)
class Ranked:
    group: Group
    votes: int
    place: int  # 1-based

    @property
    def id(self) -> str:
        return self.group.id


def sort_key(group: Group, votes: int) -> tuple[int, int, int, str, str]:
    return (-votes, group.best_rank, -len(group.leads), group.title.casefold(), group.key)


def rank_groups(groups: Iterable[Group], votes: Mapping[str, Collection[str]]) -> list[Ranked]:
    """Every group, most votes first, with the tie-breaks above."""
    counted = [(g, len(votes.get(g.id, ()))) for g in groups]
    counted.sort(key=lambda gv: sort_key(*gv))
    return [Ranked(g, n, i) for i, (g, n) in enumerate(counted, start=1)]


def top_risks(groups: Iterable[Group], votes: Mapping[str, Collection[str]], n: int = TOP) -> list[Ranked]:
    """The `n` risks that get a mitigation."""
    return rank_groups(groups, votes)[:n]
