"""A whole digest from the teams' sections: the agenda, the dependencies and the counts (plain values)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.digest.agenda import AgendaItem, AgendaKind, Dependency, agenda, dependencies, teams_by_urgency
from bot.digest.model import SectionKind, TeamDigest, Week
from bot.digest.sections import unavailable_count


@dataclass(frozen=True)
class Digest:
    workspace_id: str
    week: Week
    as_of: datetime  # the time the digest describes (its scheduled time, or now)
    teams: tuple[TeamDigest, ...]
    agenda: tuple[AgendaItem, ...]
    dependencies: tuple[Dependency, ...]
    unavailable: dict[SectionKind, int] = field(default_factory=dict)
    workspace_name: str | None = None

    @property
    def counts(self) -> Counter[AgendaKind]:
        return Counter(item.kind for item in self.agenda)

    def team(self, channel_id: str) -> TeamDigest | None:
        return next((t for t in self.teams if t.team.channel_id == channel_id), None)

    def reply_teams(self, cap: int) -> list[TeamDigest]:
        """The teams with a message in the thread: every team when there are no more than `cap`; else
        the `cap` most urgent on the agenda (the rule in docs/digest.md)."""
        if len(self.teams) <= cap:
            return list(self.teams)
        by_channel = {t.team.channel_id: t for t in self.teams}
        chosen = teams_by_urgency(self.agenda)[:cap]
        return [by_channel[c] for c in chosen if c in by_channel]


def assemble(
    workspace_id: str,
    week: Week,
    as_of: datetime,
    teams: Sequence[TeamDigest],
    workspace_name: str | None = None,
) -> Digest:
    return Digest(
        workspace_id=workspace_id,
        week=week,
        as_of=as_of,
        teams=tuple(teams),
        agenda=tuple(agenda(teams, as_of)),
        dependencies=tuple(dependencies(teams)),
        unavailable=unavailable_count(teams),
        workspace_name=workspace_name,
    )
