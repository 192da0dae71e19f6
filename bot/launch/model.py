"""A launch as the rest of the bot sees it (built from its stored rows by the service), and the typed
values its modal carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.metadata import Carried


@dataclass(frozen=True)
class Step:
    step: str  # premortem | checklist | gonogo | retro
    at: datetime  # UTC
    late: bool
    status: str  # pending | running | done | skipped | cancelled
    note: str | None = None


@dataclass(frozen=True)
class Launch:
    id: int
    workspace_id: str
    channel_id: str
    team_name: str
    title: str
    day: date
    zone: str
    multiple: float
    leads: tuple[str, ...]
    status: str  # active | cancelled
    created_by: str
    root_ts: str | None
    permalink: str | None
    steps: tuple[Step, ...] = ()

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.step == name), None)


@dataclass(frozen=True)
class Mitigation:
    title: str
    owner: str
    metric: str | None
    target: str | None  # "< 0.6"
    now: float | None  # the metric read now
    met: bool | None  # None: no metric, or no value now
    shown: str = ""  # the value as the metrics answer shows it, with its window ("62.7% over the last day")


@dataclass(frozen=True)
class GoNoGo:
    """What the T−1 summary shows."""

    multiple: float
    breaks: tuple[tuple[str, float], ...]  # signals whose headroom is under the launch's multiple
    triggers: tuple[str, ...]  # breached triggers, as the metrics command words them (mrkdwn)
    mitigations: tuple[Mitigation, ...]
    verdict: str | None  # the latest checklist's verdict
    checklist_link: str | None
    metrics_note: str | None  # why there is no reading (no source, unavailable)


class LaunchForm(Carried):
    """The launch modal's private_metadata: a new launch (no id) or a move of launch `id`."""

    channel: str | None = None
    id: int | None = None
