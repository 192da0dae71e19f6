"""Linear: the issues of a team's active cycle, with their estimates and labels (GraphQL, paginated).

Linear takes a personal API key as the Authorization header itself (no "Bearer"), and reports GraphQL
errors in an `errors` list.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import outbound
from bot.debt.config import DebtImportConfig, LinearTracker
from bot.debt.importers import base
from bot.debt.importers.base import ImportedSprint, ImportFailed, Secret, TrackerClient, TrackerIssue

LABEL = "Linear"

QUERY = """
query DebtActiveCycle($teamKey: String!, $first: Int!, $after: String) {
  teams(filter: { key: { eq: $teamKey } }) {
    nodes {
      key
      activeCycle {
        id
        number
        name
        startsAt
        endsAt
        issues(first: $first, after: $after) {
          pageInfo { hasNextPage endCursor }
          nodes {
            identifier
            estimate
            labels { nodes { name } }
          }
        }
      }
    }
  }
}
""".strip()


async def fetch(
    tracker: LinearTracker, spec: DebtImportConfig, secret: Secret, today: date
) -> ImportedSprint:
    if not spec.team_key:
        raise ImportFailed("no Linear team is configured (debt.import.team_key)")
    wanted = {label.casefold() for label in spec.labels}
    url = str(tracker.url)
    issues: list[TrackerIssue] = []
    cycle: dict[str, Any] | None = None
    after: str | None = None
    headers = {"Authorization": secret(tracker.api_key_env)}
    async with TrackerClient(LABEL, url, tracker, headers, limits=outbound.LINEAR) as client:
        for _ in range(base.MAX_PAGES):
            variables = {"teamKey": spec.team_key, "first": tracker.page_size, "after": after}
            body, _ = await client.post(url, {"query": QUERY, "variables": variables})
            cycle = _cycle(body, spec.team_key)
            page = cycle.get("issues")
            base.need(
                isinstance(page, dict) and isinstance(page.get("nodes"), list),
                LABEL,
                "a page of cycle issues",
            )
            assert isinstance(page, dict)
            for node in page["nodes"]:
                base.need(
                    isinstance(node, dict) and isinstance(node.get("identifier"), str), LABEL, "an issue"
                )
                labels = {str(n.get("name", "")).casefold() for n in _nodes(node.get("labels"))}
                issues.append(
                    TrackerIssue(
                        node["identifier"], base.estimate(node.get("estimate")), bool(labels & wanted)
                    )
                )
            after = base.next_cursor(page)
            if after is None:
                break
        else:
            raise ImportFailed("Linear kept paging the cycle's issues")
    assert cycle is not None
    name = cycle.get("name") or f"Cycle {cycle.get('number')}"
    return ImportedSprint(
        str(name), base.day(cycle.get("startsAt")), base.day(cycle.get("endsAt")), tuple(issues)
    )


def _cycle(body: Any, team_key: str) -> dict[str, Any]:
    base.need(isinstance(body, dict), LABEL, "a GraphQL answer")
    errors = body.get("errors")
    if errors:
        first = (
            errors[0].get("message") if isinstance(errors, list) and isinstance(errors[0], dict) else errors
        )
        raise ImportFailed(f"Linear answered an error: {str(first)[:200]}")
    teams = (
        ((body.get("data") or {}).get("teams") or {}).get("nodes")
        if isinstance(body.get("data"), dict)
        else None
    )
    base.need(isinstance(teams, list), LABEL, "a GraphQL answer with teams")
    assert isinstance(teams, list)
    if not teams:
        raise ImportFailed(f"Linear has no team with the key {team_key!r}")
    cycle = teams[0].get("activeCycle") if isinstance(teams[0], dict) else None
    if cycle is None:
        raise ImportFailed(f"Linear team {team_key} has no active cycle")
    base.need(isinstance(cycle, dict), LABEL, "a cycle")
    assert isinstance(cycle, dict)
    return cycle


def _nodes(connection: Any) -> list[dict[str, Any]]:
    if isinstance(connection, dict) and isinstance(connection.get("nodes"), list):
        return [n for n in connection["nodes"] if isinstance(n, dict)]
    return []
