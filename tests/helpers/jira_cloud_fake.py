"""The Jira Cloud fake for the tech-debt import tests (see `JiraCloudFake`), and `Limited`, the rate-limit
switch and request record every tracker fake shares."""

from __future__ import annotations

import base64
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.helpers.jql import JqlError, compile_jql
from tests.helpers.tracker_proxy import serve

# --- Jira Cloud ---------------------------------------------------------------------------------------


@dataclass
class CloudIssue:
    key: str
    points: float | None
    labels: list[str] = field(default_factory=list)


class Limited:
    """A rate-limit switch and a record of requests, shared by the FastAPI fakes: `limit_for(seconds)`
    answers every request with the vendor's rate-limit reply until the reset; `seen` keeps (time, path,
    Authorization) of every request, to check none came before a reset."""

    def __init__(self) -> None:
        self.limited_until = 0.0
        self.seen: list[tuple[float, str, str]] = []

    def limit_for(self, seconds: float) -> float:
        self.limited_until = time.time() + seconds
        return self.limited_until

    def limit_reply(self, remaining: float, reset: float) -> Response:  # pragma: no cover - overridden
        raise NotImplementedError

    async def _gate(self, request: Request, call_next: Any) -> Response:
        now = time.time()
        self.seen.append((now, request.url.path, request.headers.get("authorization", "")))
        if now < self.limited_until:
            return self.limit_reply(self.limited_until - now, self.limited_until)
        response: Response = await call_next(request)
        return response


def _jira_error(message: str, status: int = 400) -> JSONResponse:
    """Jira's error shape ("Status codes" in the Jira Cloud platform REST API): errorMessages and errors."""
    return JSONResponse({"errorMessages": [message], "errors": {}}, status_code=status)


class JiraCloudFake(Limited):
    """Board 7 with one active sprint (id 31); story points in `customfield_10016` ("Story point estimate").

    Following the Jira Cloud platform and Jira Software Cloud REST API references:
    - `GET /rest/api/3/search/jql` (the enhanced search): `nextPageToken` pages; without `fields` each
      issue is its `id` only; a page holds at most 100 issues with fields (5000 ids only), fewer than
      asked when `maxResults` is larger; the JQL is parsed (`tests.helpers.jql`) and malformed JQL or an
      unknown field is refused with 400 `{"errorMessages": [...], "errors": {}}`; unknown parameters too;
      `search_available = False` answers it 404, as an instance without it would;
    - `GET /rest/agile/1.0/sprint/{id}/issue`: `startAt` pages capped at 50 issues, an optional `jql`;
    - rate limits ("Rate limiting" in the Jira Cloud platform docs): 429 with `Retry-After` (seconds),
      `X-RateLimit-Reset` (`yyyy-MM-ddTHH:mmZ`) and `RateLimit-Reason`; a request re-sent before the
      period expires is refused again.
    """

    POINTS = "customfield_10016"
    SEARCH_CAP, IDS_CAP, AGILE_CAP = 100, 5000, 50

    def __init__(self, email: str, token: str) -> None:
        super().__init__()
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
        self.search_available = True
        app = FastAPI()
        app.middleware("http")(self._auth)
        app.middleware("http")(self._gate)  # added last: runs first, so a limited request is recorded
        app.get("/rest/api/3/field")(self._fields)
        app.get("/rest/agile/1.0/board/{board}/sprint")(self._sprints)
        app.get("/rest/agile/1.0/sprint/{sprint}/issue")(self._sprint_issues)
        app.get("/rest/api/3/search/jql")(self._search)
        self.server = serve(app)
        self.url = self.server.url

    # The query parameters GET /rest/api/3/search/jql documents; Jira refuses others with a 400.
    SEARCH_PARAMS = frozenset(
        {
            "jql",
            "nextPageToken",
            "maxResults",
            "fields",
            "expand",
            "properties",
            "fieldsByKeys",
            "failFast",
            "reconcileIssues",
        }
    )

    def limit_reply(self, remaining: float, reset: float) -> Response:
        wait = math.ceil(remaining)
        at = datetime.fromtimestamp(reset, UTC).strftime("%Y-%m-%dT%H:%MZ")
        headers = {"Retry-After": str(wait), "X-RateLimit-Reset": at, "RateLimit-Reason": "jira-burst-based"}
        return JSONResponse({"errorMessages": ["Rate limit exceeded."], "errors": {}}, 429, headers=headers)

    async def _auth(self, request: Request, call_next: Any) -> Response:
        if request.headers.get("authorization") != self.auth:
            return Response("Client must be authenticated to access this resource.", status_code=401)
        response: Response = await call_next(request)
        return response

    def _issue(self, issue: CloudIssue, fields: str | None) -> dict[str, Any]:
        number = issue.key.split("-")[1]
        if not fields:  # the enhanced search's default: ids only
            return {"id": number}
        every = {
            "labels": issue.labels,
            "issuetype": {"name": "Story", "subtask": False},
            self.POINTS: issue.points,
        }
        wanted = set(fields.split(","))
        chosen = (
            every
            if "*all" in wanted or "*navigable" in wanted
            else {k: v for k, v in every.items() if k in wanted}
        )
        return {"id": number, "key": issue.key, "fields": chosen}

    def _matching(self, jql: str) -> list[CloudIssue] | JSONResponse:
        fields = {
            "sprint",
            "labels",
            "key",
            "issuekey",
            "project",
            "issuetype",
            "type",
            "status",
            "summary",
            "story point estimate",
            "cf[10016]",
        }
        try:
            matches = compile_jql(jql, fields, {"openSprints": [self.sprint["id"]], "currentUser": "me"})
        except JqlError as exc:
            return _jira_error(str(exc))
        return [i for i in self.issues if matches(self._row(i))]

    def _row(self, issue: CloudIssue) -> dict[str, Any]:
        return {
            "sprint": [self.sprint["id"], self.sprint["name"]],
            "labels": issue.labels,
            "key": issue.key,
            "issuekey": issue.key,
            "project": ["PAY", "Payments"],
            "issuetype": "Story",
            "type": "Story",
            "status": "To Do",
            "summary": "work",
            "story point estimate": issue.points,
            "cf[10016]": issue.points,
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
        self, sprint: int, startAt: int = 0, maxResults: int = 50, fields: str = "", jql: str = ""
    ) -> Any:
        found = self._matching(jql) if jql else list(self.issues)
        if isinstance(found, JSONResponse):
            return found
        found = found if sprint == self.sprint["id"] else []
        size = min(maxResults, self.AGILE_CAP)
        page = found[startAt : startAt + size]
        return {
            "startAt": startAt,
            "maxResults": size,
            "total": len(found),
            "issues": [self._issue(i, fields or "*navigable") for i in page],
        }

    async def _search(
        self,
        request: Request,
        jql: str = "",
        maxResults: int = 50,
        fields: str | None = None,
        nextPageToken: str = "",
    ) -> Any:
        if not self.search_available:
            return JSONResponse({"errorMessages": ["Not Found"], "errors": {}}, 404)
        unknown = sorted(set(request.query_params) - self.SEARCH_PARAMS)
        if unknown:
            return _jira_error(f"Unrecognized parameter: {unknown[0]}")
        found = self._matching(jql)
        if isinstance(found, JSONResponse):
            return found
        start = int(nextPageToken or 0)
        size = min(maxResults, self.SEARCH_CAP if fields and fields not in ("id", "key") else self.IDS_CAP)
        page = found[start : start + size]
        body: dict[str, Any] = {
            "issues": [self._issue(i, fields) for i in page],
            "isLast": start + size >= len(found),
        }
        if not body["isLast"]:
            body["nextPageToken"] = str(start + size)
        return body
