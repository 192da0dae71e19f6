"""Importers of sprint figures from the trackers the operator configured (Jira, Linear, GitHub)."""

from __future__ import annotations

from datetime import date

from bot.debt.config import (
    DebtImportConfig,
    GitHubTracker,
    JiraCloudTracker,
    JiraDataCenterTracker,
    LinearTracker,
    TrackerConfig,
)
from bot.debt.importers import github, jira, linear
from bot.debt.importers.base import ImportedSprint, ImportFailed, Secret, Tally, TrackerIssue, tally

__all__ = ["ImportFailed", "ImportedSprint", "Tally", "TrackerIssue", "fetch", "tally"]


async def fetch(
    tracker: TrackerConfig, spec: DebtImportConfig, secret: Secret, today: date
) -> ImportedSprint:
    """The team's active sprint as its tracker reports it; raises `ImportFailed` with a reason."""
    if isinstance(tracker, JiraCloudTracker | JiraDataCenterTracker):
        return await jira.fetch(tracker, spec, secret, today)
    if isinstance(tracker, LinearTracker):
        return await linear.fetch(tracker, spec, secret, today)
    if isinstance(tracker, GitHubTracker):
        return await github.fetch(tracker, spec, secret, today)
    raise ImportFailed(f"no importer for trackers of kind {tracker.kind!r}")  # pragma: no cover
