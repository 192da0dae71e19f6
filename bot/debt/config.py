"""Config-file models for tech-debt tracking and the trackers it imports from (capability 4)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, HttpUrl

from bot.configbase import EnvName, Strict


class JiraCloudTracker(Strict):
    kind: Literal["jira_cloud"]
    url: HttpUrl
    email_env: EnvName
    token_env: EnvName


class JiraDataCenterTracker(Strict):
    kind: Literal["jira_datacenter"]
    url: HttpUrl
    token_env: EnvName  # a personal access token, sent as a bearer token


class LinearTracker(Strict):
    kind: Literal["linear"]
    url: HttpUrl = HttpUrl("https://api.linear.app/graphql")
    api_key_env: EnvName


class GitHubTracker(Strict):
    kind: Literal["github"]
    url: HttpUrl = HttpUrl("https://api.github.com")
    token_env: EnvName


TrackerConfig = Annotated[
    JiraCloudTracker | JiraDataCenterTracker | LinearTracker | GitHubTracker, Field(discriminator="kind")
]


class DebtImportConfig(Strict):
    """Where a team's sprint figures come from; which fields apply depends on the tracker's kind."""

    tracker: str
    board: int | None = None  # Jira: the board whose active sprint is imported
    team_key: str | None = None  # Linear: the team whose active cycle is imported
    repository: str | None = None  # GitHub: owner/name
    milestone: str | None = None  # GitHub: milestone title (or use project + iteration)
    project: int | None = None  # GitHub: Projects (v2) number
    labels: list[str] = ["tech-debt"]
    jql: str | None = None  # Jira: a JQL filter that selects tech-debt issues instead of labels
    estimate_field: str | None = None  # Jira: story points field name or id; GitHub: project field
    size_labels: dict[str, float] = {}  # GitHub: label -> size, e.g. {"size/S": 1, "size/M": 3}
    unestimated: Literal["skip"] | float = "skip"  # or a default size
    schedule: str = "06:00"  # daily, HH:MM in the team's time zone


class TeamDebtConfig(Strict):
    unit: Literal["points", "hours"] = "points"
    nudge_after: int = Field(default=2, ge=1, le=12)
    import_: DebtImportConfig | None = Field(default=None, alias="import")
