"""Jira Cloud and Jira Data Center: the active sprint of a board, its issues' story points, tech debt by
labels or a JQL filter.

- active sprint: `GET /rest/agile/1.0/board/{id}/sprint?state=active` (both);
- the sprint's issues (capacity): Cloud `GET /rest/api/3/search/jql` with `sprint = {id}` (the enhanced
  search, `nextPageToken` pages), falling back to `GET /rest/agile/1.0/sprint/{id}/issue` (`startAt`
  pages) where the enhanced search answers 404; Data Center the latter;
- tech-debt issues: Cloud `GET /rest/api/3/search/jql` (`nextPageToken` pages; the same fallback, with
  the filter as the agile endpoint's `jql`), Data Center `GET /rest/api/2/search` (`startAt` pages),
  with `sprint = {id} AND (labels in (…) | the filter)`;
- the story points field id from `/rest/api/3/field` or `/rest/api/2/field` when configured by name.

Sub-tasks are left out: their points are usually part of their parent's.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from bot import outbound
from bot.debt.config import DebtImportConfig, JiraCloudTracker, JiraDataCenterTracker
from bot.debt.importers import base
from bot.debt.importers.base import ImportedSprint, ImportFailed, Secret, TrackerClient, TrackerIssue

DEFAULT_POINTS_FIELDS = ("Story Points", "Story point estimate")


def client_for(tracker: JiraCloudTracker | JiraDataCenterTracker, secret: Secret) -> TrackerClient:
    if isinstance(tracker, JiraCloudTracker):
        pair = f"{secret(tracker.email_env)}:{secret(tracker.token_env)}".encode()
        auth = "Basic " + base64.b64encode(pair).decode()
        label = "Jira Cloud"
    else:
        auth = f"Bearer {secret(tracker.token_env)}"
        label = "Jira Data Center"
    return TrackerClient(label, str(tracker.url), tracker, {"Authorization": auth}, limits=outbound.JIRA)


async def fetch(
    tracker: JiraCloudTracker | JiraDataCenterTracker,
    spec: DebtImportConfig,
    secret: Secret,
    today: date,
) -> ImportedSprint:
    """The board's active sprint with every issue's story points and whether it is tech debt."""
    if spec.board is None:
        raise ImportFailed("no Jira board is configured (debt.import.board)")
    cloud = isinstance(tracker, JiraCloudTracker)
    async with client_for(tracker, secret) as client:
        field = await points_field(client, spec.estimate_field, cloud)
        sprint = await active_sprint(client, spec.board)
        fields = f"labels,issuetype,{field}"
        if cloud:
            everything = await cloud_sprint_issues(client, sprint["id"], None, fields, tracker.page_size)
        else:
            everything = await sprint_issues(client, sprint["id"], fields, tracker.page_size)
        debt_keys = await debt_issue_keys(client, sprint["id"], spec, fields, tracker.page_size, cloud)
    issues = tuple(
        TrackerIssue(key, base.estimate(fields_of.get(field)), key in debt_keys)
        for key, fields_of in everything
        if not _is_subtask(fields_of)
    )
    return ImportedSprint(
        str(sprint.get("name") or f"Sprint {sprint['id']}"),
        base.day(sprint.get("startDate")),
        base.day(sprint.get("endDate")),
        issues,
    )


async def points_field(client: TrackerClient, configured: str | None, cloud: bool) -> str:
    """The story points field id: as configured when it is an id, else looked up by name."""
    if configured and configured.startswith("customfield_"):
        return configured
    wanted = [configured] if configured else list(DEFAULT_POINTS_FIELDS)
    body, _ = await client.get(f"/rest/api/{3 if cloud else 2}/field")
    base.need(isinstance(body, list), client.label, "a list of fields (/field)")
    by_name = {
        str(f.get("name", "")).casefold(): str(f.get("id"))
        for f in body
        if isinstance(f, dict) and f.get("id")
    }
    for name in wanted:
        if name.casefold() in by_name:
            return by_name[name.casefold()]
    raise ImportFailed(
        f"{client.label} has no field named {' or '.join(repr(n) for n in wanted)}; "
        "set debt.import.estimate_field to the story points field's name or id"
    )


async def active_sprint(client: TrackerClient, board: int) -> dict[str, Any]:
    sprints: list[dict[str, Any]] = []
    start = 0
    for _ in range(base.MAX_PAGES):
        body, _ = await client.get(
            f"/rest/agile/1.0/board/{board}/sprint", {"state": "active", "startAt": start}
        )
        values = body.get("values") if isinstance(body, dict) else None
        base.need(isinstance(values, list), client.label, "a page of sprints")
        assert isinstance(values, list)
        sprints += [v for v in values if isinstance(v, dict) and isinstance(v.get("id"), int)]
        start += len(values)
        if body.get("isLast", True) or not values:
            break
    if not sprints:
        raise ImportFailed(f"board {board} has no active sprint in {client.label}")
    # Parallel sprints: the one that started last is the team's current one.
    return max(sprints, key=lambda s: (str(s.get("startDate") or ""), s["id"]))


async def sprint_issues(
    client: TrackerClient, sprint_id: int, fields: str, page_size: int, jql: str | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """The sprint's issues through the agile endpoint (`startAt` pages; a page may be shorter than
    asked for: the server caps it)."""
    out: list[tuple[str, dict[str, Any]]] = []
    start = 0
    for _ in range(base.MAX_PAGES):
        params: dict[str, Any] = {"startAt": start, "maxResults": page_size, "fields": fields}
        if jql:
            params["jql"] = jql
        body, _ = await client.get(f"/rest/agile/1.0/sprint/{sprint_id}/issue", params)
        page = _issues(client, body)
        out += page
        start += len(page)
        if not page or start >= int(body.get("total", 0)):
            return out
    raise ImportFailed(f"{client.label} kept paging the sprint's issues")


def filter_for(spec: DebtImportConfig) -> str:
    """The JQL choosing tech-debt issues: the configured filter, or the labels."""
    if spec.jql:
        return f"({spec.jql})"
    labels = ", ".join('"' + label.replace("\\", "\\\\").replace('"', '\\"') + '"' for label in spec.labels)
    return f"labels in ({labels})"


def jql_for(sprint_id: int, spec: DebtImportConfig) -> str:
    return f"sprint = {sprint_id} AND {filter_for(spec)}"


async def cloud_sprint_issues(
    client: TrackerClient, sprint_id: int, choose: str | None, fields: str, page_size: int
) -> list[tuple[str, dict[str, Any]]]:
    """Jira Cloud: the sprint's issues (those `choose` selects) from the enhanced search, or from the
    agile endpoint where the enhanced search answers 404 (an instance without it)."""
    jql = f"sprint = {sprint_id}" + (f" AND {choose}" if choose else "")
    try:
        return await _enhanced_search(client, jql, fields, page_size)
    except ImportFailed as exc:
        if exc.status not in (404, 410):
            raise
    return await sprint_issues(client, sprint_id, fields, page_size, choose)


async def _enhanced_search(
    client: TrackerClient, jql: str, fields: str, page_size: int
) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    token: str | None = None
    for _ in range(base.MAX_PAGES):
        params: dict[str, Any] = {"jql": jql, "maxResults": page_size, "fields": fields}
        if token:
            params["nextPageToken"] = token
        body, _ = await client.get("/rest/api/3/search/jql", params)
        out += _issues(client, body)
        token = body.get("nextPageToken")
        if not token or body.get("isLast") is True:
            return out
    raise ImportFailed(f"{client.label} kept paging the search")


async def debt_issue_keys(
    client: TrackerClient, sprint_id: int, spec: DebtImportConfig, fields: str, page_size: int, cloud: bool
) -> set[str]:
    jql = jql_for(sprint_id, spec)
    keys: set[str] = set()
    if cloud:
        found = await cloud_sprint_issues(client, sprint_id, filter_for(spec), fields, page_size)
        return {key for key, _f in found}
    start = 0
    for _ in range(base.MAX_PAGES):
        body, _ = await client.get(
            "/rest/api/2/search", {"jql": jql, "startAt": start, "maxResults": page_size, "fields": fields}
        )
        page = _issues(client, body)
        keys.update(key for key, _f in page)
        start += len(page)
        if not page or start >= int(body.get("total", 0)):
            return keys
    raise ImportFailed(f"{client.label} kept paging the search")


def _issues(client: TrackerClient, body: Any) -> list[tuple[str, dict[str, Any]]]:
    issues = body.get("issues") if isinstance(body, dict) else None
    base.need(isinstance(issues, list), client.label, "a page of issues")
    assert isinstance(issues, list)
    out = []
    for issue in issues:
        base.need(
            isinstance(issue, dict)
            and isinstance(issue.get("key"), str)
            and isinstance(issue.get("fields"), dict),
            client.label,
            "a page of issues",
        )
        out.append((issue["key"], issue["fields"]))
    if isinstance(body, dict) and "total" in body:
        base.need(isinstance(body["total"], int), client.label, "a page of issues")
    return out


def _is_subtask(fields: dict[str, Any]) -> bool:
    kind = fields.get("issuetype")
    return isinstance(kind, dict) and kind.get("subtask") is True
