"""GitHub: the issues and pull requests of a milestone (REST) or of a Projects iteration (GraphQL).

- milestone: `GET /repos/{owner}/{repo}/milestones?state=all` to find it by title (`@current`: the open
  milestone due next), then `GET /repos/{owner}/{repo}/issues?milestone={number}&state=all` (issues and
  pull requests), following the `Link: rel="next"` pages on the same host;
- Projects (v2): the project's iteration field, its current iteration, and the items in it with their
  estimate field (`fieldValueByName`), paginated by cursor.

Estimates come from a project number field or from the size-label map; tech debt is chosen by label.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from bot import outbound
from bot.debt.config import DebtImportConfig, GitHubTracker
from bot.debt.importers import base
from bot.debt.importers.base import ImportedSprint, ImportFailed, Secret, TrackerClient, TrackerIssue

LABEL = "GitHub"
CURRENT = "@current"
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')

QUERY = """
query DebtIteration($owner: String!, $number: Int!, $iterationField: String!, $estimateField: String!,
                    $first: Int!, $after: String) {
  repositoryOwner(login: $owner) {
    ... on ProjectV2Owner {
      projectV2(number: $number) {
        field(name: $iterationField) {
          ... on ProjectV2IterationField {
            configuration { iterations { id title startDate duration } }
          }
        }
        items(first: $first, after: $after) {
          pageInfo { hasNextPage endCursor }
          nodes {
            content {
              __typename
              ... on Issue { number repository { nameWithOwner } labels(first: 50) { nodes { name } } }
              ... on PullRequest { number repository { nameWithOwner } labels(first: 50) { nodes { name } } }
            }
            iteration: fieldValueByName(name: $iterationField) {
              ... on ProjectV2ItemFieldIterationValue { iterationId }
            }
            estimate: fieldValueByName(name: $estimateField) {
              ... on ProjectV2ItemFieldNumberValue { number }
            }
          }
        }
      }
    }
  }
}
""".strip()


def client_for(tracker: GitHubTracker, secret: Secret) -> TrackerClient:
    headers = {
        "Authorization": f"Bearer {secret(tracker.token_env)}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    return TrackerClient(LABEL, str(tracker.url), tracker, headers, limits=outbound.GITHUB)


def graphql_url(rest: str) -> str:
    """api.github.com/graphql, or …/api/graphql on GitHub Enterprise Server (REST at …/api/v3)."""
    rest = rest.rstrip("/")
    return rest[: -len("/v3")] + "/graphql" if rest.endswith("/api/v3") else rest + "/graphql"


async def fetch(
    tracker: GitHubTracker, spec: DebtImportConfig, secret: Secret, today: date
) -> ImportedSprint:
    if not spec.repository or "/" not in spec.repository:
        raise ImportFailed("no GitHub repository is configured (debt.import.repository, owner/name)")
    async with client_for(tracker, secret) as client:
        if spec.project is not None:
            return await _iteration(client, tracker, spec, today)
        return await _milestone(client, spec, today)


def _size(labels: set[str], spec: DebtImportConfig) -> float | None:
    sizes = [size for label, size in spec.size_labels.items() if label.casefold() in labels]
    return max(sizes) if sizes else None


def _is_debt(labels: set[str], spec: DebtImportConfig) -> bool:
    return bool(labels & {label.casefold() for label in spec.labels})


async def _pages(client: TrackerClient, path: str, params: dict[str, Any]) -> list[Any]:
    """Every item of a paginated REST list, following `Link: rel="next"` on the same host only."""
    items: list[Any] = []
    url: str | None = path
    query: dict[str, Any] | None = params
    for _ in range(base.MAX_PAGES):
        assert url is not None
        body, headers = await client.get(url, query)
        base.need(isinstance(body, list), LABEL, f"a list ({path})")
        items += body
        match = _NEXT.search(headers.get("Link", ""))
        if match is None:
            return items
        url, query = match.group(1), None  # the next link carries the query
        if not client.same_origin(url):
            raise ImportFailed("GitHub pointed the next page to another host; not following it")
    raise ImportFailed("GitHub kept paging")


async def _milestone(client: TrackerClient, spec: DebtImportConfig, today: date) -> ImportedSprint:
    repo = spec.repository
    wanted = spec.milestone or CURRENT
    milestones = await _pages(client, f"/repos/{repo}/milestones", {"state": "all", "per_page": 100})
    base.need(
        all(isinstance(m, dict) and isinstance(m.get("number"), int) for m in milestones), LABEL, "milestones"
    )
    if wanted == CURRENT:
        open_ones = [m for m in milestones if m.get("state") == "open"]
        due = sorted(
            (m for m in open_ones if (base.day(m.get("due_on")) or date.max) >= today),
            key=lambda m: base.day(m.get("due_on")) or date.max,
        )
        chosen = due[0] if due else None
    else:
        chosen = next(
            (m for m in milestones if str(m.get("title", "")).casefold() == wanted.casefold()), None
        )
    if chosen is None:
        raise ImportFailed(f"{repo} has no milestone {'open and due' if wanted == CURRENT else repr(wanted)}")
    items = await _pages(
        client,
        f"/repos/{repo}/issues",
        {"milestone": chosen["number"], "state": "all", "per_page": client.http.page_size},
    )
    issues = []
    for item in items:
        base.need(isinstance(item, dict) and isinstance(item.get("number"), int), LABEL, "a page of issues")
        labels = {
            str(lb.get("name", "")).casefold() for lb in item.get("labels") or [] if isinstance(lb, dict)
        }
        kind = "pr" if "pull_request" in item else "issue"
        issues.append(TrackerIssue(f"{kind}#{item['number']}", _size(labels, spec), _is_debt(labels, spec)))
    return ImportedSprint(str(chosen.get("title")), None, base.day(chosen.get("due_on")), tuple(issues))


async def _iteration(
    client: TrackerClient, tracker: GitHubTracker, spec: DebtImportConfig, today: date
) -> ImportedSprint:
    owner, repo = spec.repository.split("/", 1) if spec.repository else ("", "")
    url = graphql_url(str(tracker.url))
    current: dict[str, Any] | None = None
    issues: list[TrackerIssue] = []
    after: str | None = None
    for _ in range(base.MAX_PAGES):
        variables = {
            "owner": owner,
            "number": spec.project,
            "iterationField": spec.iteration_field,
            "estimateField": spec.estimate_field or "Estimate",
            "first": tracker.page_size,
            "after": after,
        }
        body, _ = await client.post(url, {"query": QUERY, "variables": variables})
        project = _project(body, owner, spec)
        if current is None:
            current = _current_iteration(project, spec, today)
        items = project.get("items")
        base.need(
            isinstance(items, dict) and isinstance(items.get("nodes"), list), LABEL, "a page of project items"
        )
        assert isinstance(items, dict)
        for node in items["nodes"]:
            issue = _item(node, spec, f"{owner}/{repo}", current["id"])
            if issue is not None:
                issues.append(issue)
        after = base.next_cursor(items)
        if after is None:
            break
    else:
        raise ImportFailed("GitHub kept paging the project's items")
    assert current is not None
    starts = base.day(current.get("startDate"))
    ends = starts + timedelta(days=int(current.get("duration") or 1) - 1) if starts else None
    return ImportedSprint(str(current.get("title")), starts, ends, tuple(issues))


def _project(body: Any, owner: str, spec: DebtImportConfig) -> dict[str, Any]:
    base.need(isinstance(body, dict), LABEL, "a GraphQL answer")
    if body.get("errors"):
        errors = body["errors"]
        first = (
            errors[0].get("message") if isinstance(errors, list) and isinstance(errors[0], dict) else errors
        )
        raise ImportFailed(f"GitHub answered an error: {str(first)[:200]}")
    data = body.get("data")
    base.need(isinstance(data, dict), LABEL, "a GraphQL answer")
    project = (data.get("repositoryOwner") or {}).get("projectV2")
    if project is None:
        raise ImportFailed(f"{owner} has no project number {spec.project} the token can read")
    base.need(isinstance(project, dict), LABEL, "a project")
    return dict(project)


def _current_iteration(project: dict[str, Any], spec: DebtImportConfig, today: date) -> dict[str, Any]:
    field = project.get("field")
    iterations = (
        ((field or {}).get("configuration") or {}).get("iterations") if isinstance(field, dict) else None
    )
    if not isinstance(iterations, list):
        raise ImportFailed(f"the project has no iteration field named {spec.iteration_field!r}")
    for iteration in iterations:
        starts = base.day(iteration.get("startDate")) if isinstance(iteration, dict) else None
        if starts is None:
            continue
        if starts <= today < starts + timedelta(days=int(iteration.get("duration") or 0)):
            return dict(iteration)
    raise ImportFailed(f"no iteration of {spec.iteration_field!r} contains {today.isoformat()}")


def _item(node: Any, spec: DebtImportConfig, repository: str, iteration_id: str) -> TrackerIssue | None:
    base.need(isinstance(node, dict), LABEL, "a project item")
    content = node.get("content")
    iteration = node.get("iteration")
    if not isinstance(content, dict) or content.get("__typename") not in ("Issue", "PullRequest"):
        return None  # draft issues and redacted items have no repository
    if not isinstance(iteration, dict) or iteration.get("iterationId") != iteration_id:
        return None
    repo = (content.get("repository") or {}).get("nameWithOwner")
    if isinstance(repo, str) and repo.casefold() != repository.casefold():
        return None
    labels = {str(n.get("name", "")).casefold() for n in ((content.get("labels") or {}).get("nodes") or [])}
    size = None
    if spec.estimate_field:
        value = node.get("estimate")
        size = base.estimate(value.get("number")) if isinstance(value, dict) else None
    if size is None and spec.size_labels:
        size = _size(labels, spec)
    kind = "pr" if content["__typename"] == "PullRequest" else "issue"
    return TrackerIssue(f"{kind}#{content.get('number')}", size, _is_debt(labels, spec))
