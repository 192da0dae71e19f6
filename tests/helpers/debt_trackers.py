"""Trackers for the tech-debt import tests, on loopback ports.

- `RecordingProxy` (`tests/helpers/tracker_proxy.py`) goes in front of each, to see the requests.
- `jira_datacenter(...)`: jira820 (a Jira Data Center 8.20 mock) seeded with a board, an active sprint,
  labelled issues with story points and a sub-task.
- `JiraCloudFake`, `LinearFake`, `GitHubFake`: small stateful fakes that speak the documented shapes
  (Jira Cloud `/rest/api/3/search/jql` with `nextPageToken`; Linear GraphQL cycles; GitHub milestones,
  issues with `Link` pages, and Projects iterations over GraphQL) and refuse bad credentials.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from localslack import BackgroundServer
from tests.helpers.tracker_proxy import serve

# --- Jira Data Center: jira820 ------------------------------------------------------------------------


@dataclass
class JiraWorld:
    """What was seeded into jira820, to change it between imports."""

    store: Any
    sprint_id: int
    keys: list[str]

    def set_points(self, key: str, points: float | None) -> None:
        self.store.issues[key]["sp"] = points


def jira_datacenter(today: date) -> tuple[BackgroundServer, JiraWorld]:
    """jira820 with board 7, an active sprint "PAY Sprint 12" and issues:
    3 (tech-debt), 5, 8, 2 (tech-debt, scalability), unestimated (tech-debt), and a 3-point sub-task."""
    from jira820 import make_app
    from jira820.config import Config
    from jira820.store import Store

    store = Store(Config(project_key="PAY", base_date=today), seed=False)
    store.boards[7] = {
        "id": 7,
        "name": "Payments board",
        "type": "scrum",
        "projectKey": "PAY",
        "filterId": 10000,
    }
    keys = []
    for points, labels in [
        (3, ["tech-debt"]),
        (5, []),
        (8, ["feature"]),
        (2, ["tech-debt", "scalability"]),
        (None, ["tech-debt"]),
    ]:
        created = store.create_issue(
            {
                "project": {"key": "PAY"},
                "issuetype": {"name": "Story"},
                "summary": "work",
                "labels": labels,
                "customfield_10004": points,
            }
        )
        keys.append(created["key"])
    sub = store.create_issue(
        {
            "project": {"key": "PAY"},
            "issuetype": {"name": "Sub-task"},
            "summary": "part",
            "parent": {"key": keys[0]},
            "labels": ["tech-debt"],
            "customfield_10004": 3,
        }
    )
    keys.append(sub["key"])
    old = store.create_sprint(7, "PAY Sprint 11")
    store.update_sprint(old["id"], {"state": "closed", "startDate": "2026-02-16", "endDate": "2026-02-27"})
    sprint = store.create_sprint(7, "PAY Sprint 12")
    store.update_sprint(sprint["id"], {"state": "active", "startDate": "2026-03-02", "endDate": "2026-03-13"})
    store.move_issues_to_sprint(sprint["id"], keys)
    return serve(make_app(store=store)), JiraWorld(store, sprint["id"], keys)


# --- Jira Cloud ---------------------------------------------------------------------------------------


@dataclass
class CloudIssue:
    key: str
    points: float | None
    labels: list[str] = field(default_factory=list)


class JiraCloudFake:
    """Board 7 with one active sprint (id 31); story points in `customfield_10016` ("Story point estimate")."""

    POINTS = "customfield_10016"

    def __init__(self, email: str, token: str) -> None:
        self.auth = "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()
        self.sprint = {
            "id": 31,
            "name": "PAY Sprint 31",
            "state": "active",
            "startDate": "2026-03-02T08:00:00.000Z",
            "endDate": "2026-03-13T17:00:00.000Z",
            "originBoardId": 7,
        }
        self.issues: list[CloudIssue] = []
        app = FastAPI()
        app.middleware("http")(self._auth)
        app.get("/rest/api/3/field")(self._fields)
        app.get("/rest/agile/1.0/board/{board}/sprint")(self._sprints)
        app.get("/rest/agile/1.0/sprint/{sprint}/issue")(self._sprint_issues)
        app.get("/rest/api/3/search/jql")(self._search)
        self.server = serve(app)
        self.url = self.server.url

    async def _auth(self, request: Request, call_next: Any) -> Response:
        if request.headers.get("authorization") != self.auth:
            return Response("Client must be authenticated to access this resource.", status_code=401)
        response: Response = await call_next(request)
        return response

    def _issue(self, issue: CloudIssue, fields: str) -> dict[str, Any]:
        every = {
            "labels": issue.labels,
            "issuetype": {"name": "Story", "subtask": False},
            self.POINTS: issue.points,
        }
        wanted = set(fields.split(",")) if fields else set(every)
        return {
            "id": issue.key.split("-")[1],
            "key": issue.key,
            "fields": {k: v for k, v in every.items() if k in wanted},
        }

    async def _fields(self) -> list[dict[str, Any]]:
        return [
            {"id": "summary", "name": "Summary", "custom": False},
            {"id": self.POINTS, "name": "Story point estimate", "custom": True, "schema": {"type": "number"}},
        ]

    async def _sprints(self, board: int, state: str = "", startAt: int = 0) -> dict[str, Any]:
        values = [self.sprint] if board == 7 and state == "active" else []
        return {"maxResults": 50, "startAt": startAt, "isLast": True, "values": values}

    async def _sprint_issues(
        self, sprint: int, startAt: int = 0, maxResults: int = 50, fields: str = ""
    ) -> dict[str, Any]:
        page = self.issues[startAt : startAt + maxResults]
        return {
            "startAt": startAt,
            "maxResults": maxResults,
            "total": len(self.issues),
            "issues": [self._issue(i, fields) for i in page],
        }

    async def _search(
        self, jql: str, maxResults: int = 50, fields: str = "", nextPageToken: str = ""
    ) -> dict[str, Any]:
        match = re.fullmatch(r"sprint = (\d+) AND labels in \((.*)\)", jql)
        if match is None:
            return JSONResponse({"errorMessages": [f"cannot parse {jql!r}"]}, status_code=400)  # type: ignore[return-value]
        labels = set(re.findall(r'"([^"]*)"', match.group(2)))
        found = [
            i for i in self.issues if int(match.group(1)) == self.sprint["id"] and labels & set(i.labels)
        ]
        start = int(nextPageToken or 0)
        page = found[start : start + maxResults]
        body: dict[str, Any] = {
            "issues": [self._issue(i, fields) for i in page],
            "isLast": start + maxResults >= len(found),
        }
        if not body["isLast"]:
            body["nextPageToken"] = str(start + maxResults)
        return body


# --- Linear -------------------------------------------------------------------------------------------


@dataclass
class LinearIssue:
    identifier: str
    estimate: float | None
    labels: list[str] = field(default_factory=list)


class LinearFake:
    """Team ENG with an active cycle "Cycle 12"; personal API keys go in the Authorization header as is."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.cycle = {
            "id": "cyc-12",
            "number": 12,
            "name": None,
            "startsAt": "2026-03-02T00:00:00.000Z",
            "endsAt": "2026-03-16T00:00:00.000Z",
        }
        self.issues: list[LinearIssue] = []
        app = FastAPI()
        app.post("/graphql")(self._graphql)
        self.server = serve(app)
        self.url = self.server.url

    async def _graphql(self, request: Request) -> Response:
        if request.headers.get("authorization") != self.api_key:
            return JSONResponse(
                {
                    "errors": [
                        {
                            "message": "Authentication required, not authenticated",
                            "extensions": {"code": "AUTHENTICATION_ERROR"},
                        }
                    ]
                },
                status_code=400,
            )
        payload = await request.json()
        variables = payload.get("variables") or {}
        if variables.get("teamKey") != "ENG":
            return JSONResponse({"data": {"teams": {"nodes": []}}})
        first, start = int(variables["first"]), int(variables.get("after") or 0)
        page = self.issues[start : start + first]
        more = start + first < len(self.issues)
        nodes = [
            {
                "identifier": i.identifier,
                "estimate": i.estimate,
                "labels": {"nodes": [{"name": n} for n in i.labels]},
            }
            for i in page
        ]
        cycle = dict(
            self.cycle,
            issues={
                "pageInfo": {"hasNextPage": more, "endCursor": str(start + first) if more else None},
                "nodes": nodes,
            },
        )
        return JSONResponse({"data": {"teams": {"nodes": [{"key": "ENG", "activeCycle": cycle}]}}})


# --- GitHub -------------------------------------------------------------------------------------------


@dataclass
class GitHubItem:
    number: int
    labels: list[str]
    pull_request: bool = False
    estimate: float | None = None  # a project number field
    iteration: str | None = "it-2"


class GitHubFake:
    """Repository acme/payments with milestones and issues (REST), and project 3 with an "Iteration" field."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.milestones = [
            {"number": 4, "title": "Sprint 41", "state": "closed", "due_on": "2026-02-27T08:00:00Z"},
            {"number": 5, "title": "Sprint 42", "state": "open", "due_on": "2026-03-13T08:00:00Z"},
            {"number": 6, "title": "Sprint 43", "state": "open", "due_on": "2026-03-27T08:00:00Z"},
        ]
        self.items: list[GitHubItem] = []
        self.iterations = [
            {"id": "it-1", "title": "Iteration 1", "startDate": "2026-02-16", "duration": 14},
            {"id": "it-2", "title": "Iteration 2", "startDate": "2026-03-02", "duration": 14},
        ]
        app = FastAPI()
        app.middleware("http")(self._auth)
        app.get("/repos/{owner}/{repo}/milestones")(self._milestones)
        app.get("/repos/{owner}/{repo}/issues")(self._issues)
        app.post("/graphql")(self._graphql)
        self.server = serve(app)
        self.url = self.server.url

    async def _auth(self, request: Request, call_next: Any) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"message": "Bad credentials", "status": "401"}, status_code=401)
        response: Response = await call_next(request)
        return response

    def _page(self, request: Request, items: list[Any], per_page: int, page: int) -> Response:
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            url = request.url.include_query_params(page=page + 1)
            headers["Link"] = (
                f'<{url}>; rel="next", <{request.url.include_query_params(page=1)}>; rel="first"'
            )
        return JSONResponse(chunk, headers=headers)

    async def _milestones(
        self, request: Request, owner: str, repo: str, state: str = "open", per_page: int = 30, page: int = 1
    ) -> Response:
        found = [m for m in self.milestones if state == "all" or m["state"] == state]
        return self._page(request, found, per_page, page)

    async def _issues(
        self,
        request: Request,
        owner: str,
        repo: str,
        milestone: str = "",
        state: str = "open",
        per_page: int = 30,
        page: int = 1,
    ) -> Response:
        number = int(milestone) if milestone.isdigit() else None
        found = [
            {
                "number": i.number,
                "title": "work",
                "labels": [{"name": n} for n in i.labels],
                **({"pull_request": {"url": "…"}} if i.pull_request else {}),
            }
            for i in self.items
            if number == 5
        ]
        return self._page(request, found, per_page, page)

    async def _graphql(self, request: Request) -> Response:
        payload = await request.json()
        v = payload["variables"]
        if v.get("owner") != "acme" or v.get("number") != 3:
            return JSONResponse({"data": {"repositoryOwner": {"projectV2": None}}})
        first, start = int(v["first"]), int(v.get("after") or 0)
        nodes = []
        for item in self.items[start : start + first]:
            nodes.append(
                {
                    "content": {
                        "__typename": "PullRequest" if item.pull_request else "Issue",
                        "number": item.number,
                        "repository": {"nameWithOwner": "acme/payments"},
                        "labels": {"nodes": [{"name": n} for n in item.labels]},
                    },
                    "iteration": {"iterationId": item.iteration} if item.iteration else None,
                    "estimate": {"number": item.estimate} if item.estimate is not None else None,
                }
            )
        more = start + first < len(self.items)
        project = {
            "field": {"configuration": {"iterations": self.iterations}}
            if v["iterationField"] == "Iteration"
            else None,
            "items": {
                "pageInfo": {"hasNextPage": more, "endCursor": str(start + first) if more else None},
                "nodes": nodes,
            },
        }
        return JSONResponse({"data": {"repositoryOwner": {"projectV2": project}}})
