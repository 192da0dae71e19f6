"""The operator's YAML file (`SCALEBOT_CONFIG`): data sources, trackers, teams and the digest.

Only the operator writes it; nothing a Slack user types can add a URL or a credential. Credentials are
named by environment variable and read once, here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, SecretStr, model_validator

from bot.calibration.config import CalibrationConfig
from bot.configbase import ChannelId, Strict, UserId, WorkspaceId, env_name_for_message, shown
from bot.debt.config import TeamDebtConfig, TrackerConfig
from bot.digest.config import DigestConfig
from bot.launch.config import LaunchConfig
from bot.logs import redactor
from bot.metrics.config import MetricsDefaults, SourceConfig, TeamMetricsConfig
from bot.premortem.config import TeamPremortemConfig
from bot.presence.config import AwayConfig
from bot.yamlfile import ConfigFileError, load_yaml_model

DEFAULT_PLAYBOOK = "default"


class Defaults(Strict):
    playbook: str = DEFAULT_PLAYBOOK
    metrics: MetricsDefaults = MetricsDefaults()
    premortem: TeamPremortemConfig = TeamPremortemConfig()


class TeamConfig(Strict):
    """A team as the file declares it; keyed by (workspace, channel)."""

    name: str = Field(min_length=1, max_length=80)
    channel: ChannelId
    workspace: WorkspaceId | None = None  # needed only when several workspaces share one file
    playbook: str | None = None  # a built-in playbook name or a path relative to this file
    leads: list[UserId] = []
    managers: list[UserId] = []
    metrics: TeamMetricsConfig | None = None
    debt: TeamDebtConfig = TeamDebtConfig()
    premortem: TeamPremortemConfig | None = None


class WorkspaceConfig(Strict):
    digest: DigestConfig | None = None
    admins: list[UserId] = []  # people who may run admin-only commands besides Slack's own admins
    launch: LaunchConfig | None = None  # this workspace's launch steps and metric triggers
    away: AwayConfig | None = None  # who is away: the away list and retries (else the top-level `away`)


class AppConfig(Strict):
    defaults: Defaults = Defaults()
    sources: dict[str, SourceConfig] = {}
    trackers: dict[str, TrackerConfig] = {}
    teams: list[TeamConfig] = []
    digest: DigestConfig = DigestConfig()
    workspaces: dict[WorkspaceId, WorkspaceConfig] = {}
    calibration: CalibrationConfig = CalibrationConfig()
    launch: LaunchConfig = LaunchConfig()
    away: AwayConfig = AwayConfig()

    _path: Path | None = PrivateAttr(default=None)
    _secrets: dict[str, SecretStr] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> AppConfig:
        seen: dict[tuple[str | None, str], str] = {}
        problems: list[str] = []
        for i, team in enumerate(self.teams):
            key = (team.workspace, team.channel)
            if key in seen:
                problems.append(f"teams[{i}]: channel {team.channel} is already team {shown(seen[key])}")
            seen[key] = team.name
            # References between a team's signals (driven_by) are checked in bot/metrics/checks.py, with
            # file, line and fix, together with the other metrics problems.
            if team.metrics is not None and team.metrics.source not in self.sources:
                declared = ", ".join(sorted(self.sources)) or "none"
                problems.append(
                    f"teams[{i}].metrics.source: unknown source {shown(team.metrics.source)} "
                    f"(declared under sources: {declared})"
                )
            imp = team.debt.import_
            if imp is not None and imp.tracker not in self.trackers:
                declared = ", ".join(sorted(self.trackers)) or "none"
                problems.append(
                    f"teams[{i}].debt.import.tracker: unknown tracker {shown(imp.tracker)} "
                    f"(declared under trackers: {declared})"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- lookups -----------------------------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def base_dir(self) -> Path:
        return self._path.parent if self._path else Path.cwd()

    def team_for(self, workspace_id: str, channel_id: str) -> TeamConfig | None:
        """The file's team for a channel: an entry naming this workspace wins over one naming none."""
        fallback = None
        for team in self.teams:
            if team.channel != channel_id:
                continue
            if team.workspace == workspace_id:
                return team
            if team.workspace is None:
                fallback = team
        return fallback

    def digest_for(self, workspace_id: str) -> DigestConfig:
        ws = self.workspaces.get(workspace_id)
        return ws.digest if ws and ws.digest else self.digest

    def launch_for(self, workspace_id: str) -> LaunchConfig:
        ws = self.workspaces.get(workspace_id)
        return ws.launch if ws and ws.launch else self.launch

    def away_for(self, workspace_id: str) -> AwayConfig:
        ws = self.workspaces.get(workspace_id)
        return ws.away if ws and ws.away else self.away

    def admins_for(self, workspace_id: str) -> list[str]:
        ws = self.workspaces.get(workspace_id)
        return list(ws.admins) if ws else []

    def secret(self, env_name: str) -> str:
        """A credential named by environment variable, read when the file was loaded."""
        return self._secrets[env_name].get_secret_value()


def _env_names(model: BaseModel) -> Iterator[tuple[str, str]]:
    """Every `*_env` field in the model tree, as (dotted key, env var name)."""

    def walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, BaseModel):
            for name in type(value).model_fields:
                child = getattr(value, name)
                key = f"{path}.{name}" if path else name
                if name.endswith("_env") and isinstance(child, str):
                    yield key, child
                else:
                    yield from walk(child, key)
        elif isinstance(value, dict):
            for k, v in value.items():
                yield from walk(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from walk(v, f"{path}[{i}]")

    yield from walk(model, "")


def load_config(path: Path | None) -> AppConfig:
    """Load and validate the operator's file (or an empty config when none is set)."""
    if path is None:
        return AppConfig()
    config = load_yaml_model(path, AppConfig)
    config._path = path.resolve()
    missing = []
    for key, env_name in _env_names(config):
        value = os.environ.get(env_name)
        if not value:
            missing.append(f"{path}: {key}: environment variable {env_name_for_message(env_name)} is not set")
            continue
        redactor.add(value)
        config._secrets[env_name] = SecretStr(value)
    if missing:
        raise ConfigFileError(path, missing)
    return config


def run_checks(config: AppConfig) -> list[str]:
    """Problems found by each capability's `bot/<capability>/checks.py` (`check(config) -> [problem]`),
    e.g. a team's playbook file that does not validate."""
    import importlib
    import pkgutil

    import bot

    problems: list[str] = []
    for module in sorted(pkgutil.iter_modules(bot.__path__), key=lambda m: m.name):
        if not module.ispkg:
            continue
        try:
            checks = importlib.import_module(f"bot.{module.name}.checks")
        except ModuleNotFoundError as exc:
            if exc.name == f"bot.{module.name}.checks":
                continue
            raise
        problems.extend(checks.check(config))
    return problems


def load_and_check(path: Path | None) -> AppConfig:
    """Load the file and run every capability's checks; raises `ConfigFileError` listing all problems."""
    config = load_config(path)
    problems = run_checks(config)
    if problems:
        raise ConfigFileError(path or Path("(no config file)"), problems)
    return config
