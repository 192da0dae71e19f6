"""Everything the thread shows, derived once from a pre-mortem: groups, ranking, data marks, the top three."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.premortem.datasays import Mark, compare
from bot.premortem.grouping import Group, group_risks
from bot.premortem.model import Mitigation, Premortem
from bot.premortem.ranking import Ranked, rank_groups, top_risks


@dataclass(frozen=True)
class Board:
    pm: Premortem
    groups: list[Group]  # reveal order: best rank, then most leads
    ranked: list[Ranked]  # vote order
    marks: list[Mark]
    top: list[Ranked]  # chosen when voting closed (or the current top three while voting)

    @classmethod
    def of(cls, pm: Premortem, signal_components: Mapping[str, str] | None = None) -> Board:
        groups = group_risks(pm.risks, pm.splits)
        ranked = rank_groups(groups, pm.votes)
        if pm.top:
            by_id = {r.id: r for r in ranked}
            top = [
                Ranked(by_id[gid].group, by_id[gid].votes, place)
                for place, gid in enumerate(pm.top, start=1)
                if gid in by_id
            ]
        else:
            top = top_risks(groups, pm.votes)
        return cls(pm, groups, ranked, compare(pm.data, groups, signal_components or {}), top)

    def group(self, group_id: str) -> Group | None:
        return next((g for g in self.groups if g.id == group_id), None)

    def votes(self, group_id: str) -> frozenset[str]:
        return self.pm.votes.get(group_id, frozenset())

    def top_mitigations(self) -> list[tuple[Ranked, Mitigation | None]]:
        return [(r, self.pm.mitigation_for(r.id)) for r in self.top]
