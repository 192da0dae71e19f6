"""Teams: keyed by workspace and channel; declared in the config file, set up in Slack, or implicit.

A channel that neither the file nor the setup modal names is a team of its own, named after the
channel, with the default playbook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.config import AppConfig, TeamConfig
from bot.debt.config import TeamDebtConfig
from bot.metrics.config import TeamMetricsConfig
from bot.premortem.config import TeamPremortemConfig

TeamSource = Literal["file", "setup", "channel"]


@dataclass(frozen=True)
class Team:
    workspace_id: str
    channel_id: str
    name: str
    playbook: str
    leads: tuple[str, ...] = ()
    managers: tuple[str, ...] = ()
    metrics: TeamMetricsConfig | None = None
    debt: TeamDebtConfig = field(default_factory=TeamDebtConfig)
    premortem: TeamPremortemConfig = field(default_factory=TeamPremortemConfig)
    source: TeamSource = "channel"
    also_in_file: bool = False  # set up in Slack while the file declares the same channel

    @property
    def key(self) -> str:
        """A short lowercase name for commands like `/scale-check metrics payments`."""
        return slug(self.name)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "team"


def _from_file(config: AppConfig, entry: TeamConfig, workspace_id: str) -> Team:
    return Team(
        workspace_id=workspace_id,
        channel_id=entry.channel,
        name=entry.name,
        playbook=entry.playbook or config.defaults.playbook,
        leads=tuple(entry.leads),
        managers=tuple(entry.managers),
        metrics=entry.metrics,
        debt=entry.debt,
        premortem=entry.premortem or config.defaults.premortem,
        source="file",
    )


def resolve_team(
    config: AppConfig,
    workspace_id: str,
    channel_id: str,
    channel_name: str | None,
    setup: dict[str, Any] | None = None,
) -> Team:
    """The team of a channel: the setup modal's answer wins over the file, the file over the channel.

    `setup` is what the setup modal stored for this channel (keys: name, leads, managers, metrics…),
    or None.
    """
    entry = config.team_for(workspace_id, channel_id)
    if entry is not None:
        team = _from_file(config, entry, workspace_id)
    else:
        team = Team(
            workspace_id=workspace_id,
            channel_id=channel_id,
            name=channel_name or channel_id,
            playbook=config.defaults.playbook,
            premortem=config.defaults.premortem,
        )
    if setup:
        metrics = setup.get("metrics")
        team = Team(
            workspace_id=workspace_id,
            channel_id=channel_id,
            name=setup.get("name") or team.name,
            playbook=setup.get("playbook") or team.playbook,
            leads=tuple(setup.get("leads") or team.leads),
            managers=tuple(setup.get("managers") or team.managers),
            metrics=TeamMetricsConfig.model_validate(metrics) if metrics else team.metrics,
            debt=team.debt,
            premortem=team.premortem,
            source="setup",
            also_in_file=entry is not None,
        )
    return team


def file_teams(config: AppConfig, workspace_id: str) -> list[Team]:
    """Teams the file declares for this workspace (entries naming another workspace excluded)."""
    return [
        _from_file(config, entry, workspace_id)
        for entry in config.teams
        if entry.workspace in (None, workspace_id)
    ]
