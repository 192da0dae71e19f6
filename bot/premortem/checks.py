"""Pre-mortem config checks, run at start-up and by `scalebot config check` (`check(config) -> [problem]`).

`premortem.signal_components` tells "data says" which component a signal measures: each key must be one
of the team's signals, or the mapping could never apply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.metrics.signals import resolve_signals

if TYPE_CHECKING:
    from bot.config import AppConfig


def check(config: AppConfig) -> list[str]:
    where = str(config.path) if config.path else "(no config file)"
    problems: list[str] = []
    for i, team in enumerate(config.teams):
        settings = team.premortem or config.defaults.premortem
        if not settings.signal_components:
            continue
        key = f"{where}: teams[{i}].premortem.signal_components"
        if team.metrics is None or team.metrics.source not in config.sources:
            problems.append(f"{key}: the team has no metrics source, so no signal can be mapped; remove it")
            continue
        known = {s.name for s in resolve_signals(team.metrics, config.sources, config.defaults.metrics)}
        for name in settings.signal_components:
            if name not in known:
                listed = ", ".join(sorted(known)) or "none"
                problems.append(f"{key}.{name}: not one of the team's signals ({listed})")
    return problems
