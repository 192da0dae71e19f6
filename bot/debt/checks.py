"""Config checks for tech-debt imports: does each team's `debt.import` have what its tracker needs?

Each problem names the file, the key and what to do, like the loader's own messages.
"""

from __future__ import annotations

from bot.config import AppConfig
from bot.debt.config import (
    DebtImportConfig,
    GitHubTracker,
    JiraCloudTracker,
    JiraDataCenterTracker,
    LinearTracker,
)


def check(config: AppConfig) -> list[str]:
    where = str(config.path) if config.path else "(no config file)"
    problems: list[str] = []
    for i, team in enumerate(config.teams):
        spec = team.debt.import_
        if spec is None or spec.tracker not in config.trackers:
            continue  # an unknown tracker is reported by the loader itself
        key = f"teams[{i}].debt.import"
        problems += [f"{where}: {key}.{field}: {problem}" for field, problem in _problems(config, spec)]
    return problems


def _problems(config: AppConfig, spec: DebtImportConfig) -> list[tuple[str, str]]:
    tracker = config.trackers[spec.tracker]
    out: list[tuple[str, str]] = []
    if not spec.labels and not spec.jql:
        out.append(
            ("labels", "name at least one label that marks tech-debt work (or, for Jira, a `jql` filter)")
        )
    if isinstance(tracker, JiraCloudTracker | JiraDataCenterTracker):
        if spec.board is None:
            out.append(
                ("board", "a Jira import needs the board whose active sprint is imported, like `board: 42`")
            )
        out += _unused(spec, ("team_key", "repository", "milestone", "project"), "Jira")
    elif isinstance(tracker, LinearTracker):
        if not spec.team_key:
            out.append(
                ("team_key", "a Linear import needs the team key whose active cycle is imported, like `ENG`")
            )
        if spec.jql:
            out.append(("jql", "JQL is for Jira; Linear imports choose tech debt by `labels`"))
        out += _unused(spec, ("board", "repository", "milestone", "project"), "Linear")
    elif isinstance(tracker, GitHubTracker):
        if not spec.repository or spec.repository.count("/") != 1:
            out.append(("repository", "a GitHub import needs the repository as owner/name"))
        if spec.milestone and spec.project is not None:
            out.append(("project", "choose a milestone or a project iteration, not both"))
        if spec.jql:
            out.append(("jql", "JQL is for Jira; GitHub imports choose tech debt by `labels`"))
        if spec.estimate_field and spec.project is None:
            out.append(("estimate_field", "an estimate field needs a project; milestones use `size_labels`"))
        if not spec.size_labels and not spec.estimate_field and spec.unestimated == "skip":
            out.append(
                (
                    "size_labels",
                    "with no size labels, no estimate field and `unestimated: skip` every issue would count 0; "
                    "map labels to sizes, name a project estimate field, or give a default size",
                )
            )
        out += _unused(spec, ("board", "team_key"), "GitHub")
    return out


def _unused(spec: DebtImportConfig, fields: tuple[str, ...], kind: str) -> list[tuple[str, str]]:
    return [
        (f, f"{kind} imports do not use `{f}`; remove it") for f in fields if getattr(spec, f) is not None
    ]
