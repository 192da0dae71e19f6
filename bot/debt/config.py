"""Config-file models for tech-debt tracking and the trackers it imports from (capability 4).

Only the operator writes these; credentials are named by environment variable. `bot/debt/checks.py`
checks that each team's `import` section has what its tracker's kind needs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, HttpUrl, field_validator

from bot.configbase import ClockTime, EnvName, Strict, TimeZone


class TrackerHttp(Strict):
    """How the bot talks to a tracker: per-request timeout, retries with backoff, page size."""

    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    retries: int = Field(default=2, ge=0, le=5)  # after the first attempt, on 429, 5xx and timeouts
    backoff_seconds: float = Field(default=0.5, ge=0, le=30)  # doubled on each retry
    page_size: int = Field(default=100, ge=1, le=100)


class JiraCloudTracker(TrackerHttp):
    kind: Literal["jira_cloud"]
    url: HttpUrl
    email_env: EnvName
    token_env: EnvName  # an API token, sent with the email as basic auth


class JiraDataCenterTracker(TrackerHttp):
    kind: Literal["jira_datacenter"]
    url: HttpUrl
    token_env: EnvName  # a personal access token, sent as a bearer token


class LinearTracker(TrackerHttp):
    kind: Literal["linear"]
    url: HttpUrl = HttpUrl("https://api.linear.app/graphql")
    api_key_env: EnvName  # a personal API key, sent as the Authorization header


class GitHubTracker(TrackerHttp):
    kind: Literal["github"]
    url: HttpUrl = HttpUrl("https://api.github.com")
    token_env: EnvName  # a token that can read the repository's issues (and its Projects, if used)


TrackerConfig = Annotated[
    JiraCloudTracker | JiraDataCenterTracker | LinearTracker | GitHubTracker, Field(discriminator="kind")
]


class DebtImportConfig(Strict):
    """Where a team's sprint figures come from; which fields apply depends on the tracker's kind."""

    tracker: str
    board: int | None = None  # Jira: the board whose active sprint is imported
    team_key: str | None = None  # Linear: the team (key, e.g. ENG) whose active cycle is imported
    repository: str | None = None  # GitHub: owner/name
    milestone: str | None = None  # GitHub: milestone title (or use project + iteration_field)
    project: int | None = None  # GitHub: Projects (v2) number, owned by the repository's owner
    iteration_field: str = "Iteration"  # GitHub Projects: the iteration field whose current one is imported
    labels: list[str] = ["tech-debt"]
    jql: str | None = None  # Jira: a JQL filter that selects tech-debt issues instead of labels
    estimate_field: str | None = None  # Jira: story points field name or id; GitHub: a project number field
    size_labels: dict[str, float] = {}  # GitHub: label -> size, e.g. {"size/S": 1, "size/M": 3}
    unestimated: Literal["skip"] | float = "skip"  # or a default size
    schedule: ClockTime = "06:00"  # daily, HH:MM
    timezone: TimeZone | None = None  # of `schedule`; default the workspace digest's time zone

    @field_validator("unestimated")
    @classmethod
    def _size(cls, value: Literal["skip"] | float) -> Literal["skip"] | float:
        if value != "skip" and float(value) < 0:
            raise ValueError("a default size cannot be negative; use a size like 1 or `skip`")
        return value


class TeamDebtConfig(Strict):
    unit: Literal["points", "hours"] = "points"
    nudge_after: int = Field(default=2, ge=1, le=12)
    import_: DebtImportConfig | None = Field(default=None, alias="import")
