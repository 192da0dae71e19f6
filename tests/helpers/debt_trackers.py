"""Trackers for the tech-debt import tests, on loopback ports.

- `RecordingProxy` (`tests/helpers/tracker_proxy.py`) goes in front of each, to see the requests.
- `jira_datacenter(...)`: jira820 (a Jira Data Center 8.20 mock) seeded with a board, an active sprint,
  labelled issues with story points and a sub-task.
- `JiraCloudFake` (`tests/helpers/jira_cloud_fake.py`), `LinearFake`, `GitHubFake`: small stateful fakes that speak the documented shapes
  (Jira Cloud `/rest/api/3/search/jql` with `nextPageToken`, refusing parameters it does not take;
  Linear GraphQL cycles; GitHub milestones, open and closed issues with `Link` pages, and Projects
  iterations over GraphQL) and refuse bad credentials.

The GraphQL fakes execute the document the bot sends against a minimal schema (`LINEAR_SDL`,
`GITHUB_SDL`: the real types and fields the importers use, spelled as the services spell them) with
graphql-core, so a misspelled field, a wrong argument or a missing variable is answered with GraphQL
`errors` as the service would, and the answer holds exactly what was selected.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from graphql import GraphQLError, GraphQLSchema, build_schema, execute, parse, validate

from localslack import BackgroundServer
from tests.helpers.jira_cloud_fake import CloudIssue as CloudIssue
from tests.helpers.jira_cloud_fake import JiraCloudFake as JiraCloudFake
from tests.helpers.jira_cloud_fake import Limited
from tests.helpers.tracker_proxy import serve

# --- GraphQL ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphQLAnswer:
    """What a GraphQL service made of a request: refused (parse, validation or variable errors), or run."""

    refused: bool
    code: str  # GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT, or "" when run
    body: dict[str, Any]


def _error(error: GraphQLError, code: str) -> dict[str, Any]:
    formatted = dict(error.formatted)
    if code:
        formatted["extensions"] = {**(formatted.get("extensions") or {}), "code": code}
    return formatted


def run_graphql(schema: GraphQLSchema, payload: Any) -> GraphQLAnswer:
    """Parse, validate and execute a request body `{"query", "variables", "operationName"}`."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        error = GraphQLError("Must provide query string.")
        return GraphQLAnswer(True, "BAD_REQUEST", {"errors": [_error(error, "BAD_REQUEST")]})
    try:
        document = parse(payload["query"])
    except GraphQLError as exc:
        code = "GRAPHQL_PARSE_FAILED"
        return GraphQLAnswer(True, code, {"errors": [_error(exc, code)]})
    invalid = validate(schema, document)
    if invalid:
        code = "GRAPHQL_VALIDATION_FAILED"
        return GraphQLAnswer(True, code, {"errors": [_error(e, code) for e in invalid]})
    result = execute(
        schema,
        document,
        variable_values=payload.get("variables") or {},
        operation_name=payload.get("operationName"),
    )
    assert not hasattr(result, "__await__"), "the fakes' resolvers are synchronous"
    if result.data is None and result.errors:  # variables that do not fit their declared types
        code = "BAD_USER_INPUT"
        return GraphQLAnswer(True, code, {"errors": [_error(e, code) for e in result.errors]})
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [_error(e, "") for e in result.errors]
    return GraphQLAnswer(False, "", body)


def _resolvers(schema: GraphQLSchema, resolvers: dict[str, Callable[..., Any]]) -> GraphQLSchema:
    """Attach `{"Type.field": resolve(obj, info, **args)}`; other fields read the key of their name."""
    for path, resolve in resolvers.items():
        type_name, field_name = path.split(".")
        schema.type_map[type_name].fields[field_name].resolve = resolve  # type: ignore[union-attr]
    return schema


def _js_numbers(value: Any) -> Any:
    """JSON as a JavaScript service writes it: a Float that is whole comes out as `12`, not `12.0`."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _js_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_js_numbers(v) for v in value]
    return value


def _connection(items: list[Any], first: int, after: str | None) -> tuple[list[Any], dict[str, Any]]:
    """A cursor page: the cursor is the offset of the next item."""
    start = int(after or 0)
    page = items[start : start + first]
    more = start + first < len(items)
    return page, {"hasNextPage": more, "endCursor": str(start + first) if more else None}


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


# --- Linear -------------------------------------------------------------------------------------------


@dataclass
class LinearIssue:
    identifier: str
    estimate: float | None
    labels: list[str] = field(default_factory=list)


LINEAR_SDL = """
scalar DateTime

type Query {
  teams(filter: TeamFilter, first: Int, after: String): TeamConnection!
}

input TeamFilter { key: StringComparator, name: StringComparator }
input StringComparator { eq: String, neq: String, in: [String!] }

type PageInfo { hasNextPage: Boolean!, hasPreviousPage: Boolean!, startCursor: String, endCursor: String }

type TeamConnection { nodes: [Team!]!, pageInfo: PageInfo! }
type Team { id: ID!, key: String!, name: String!, activeCycle: Cycle }

type Cycle {
  id: ID!
  number: Float!
  name: String
  startsAt: DateTime!
  endsAt: DateTime!
  issues(first: Int, after: String): IssueConnection!
}

type IssueConnection { nodes: [Issue!]!, pageInfo: PageInfo! }
type Issue { id: ID!, identifier: String!, title: String!, estimate: Float, labels(first: Int): IssueLabelConnection! }
type IssueLabelConnection { nodes: [IssueLabel!]!, pageInfo: PageInfo! }
type IssueLabel { id: ID!, name: String! }
"""


class LinearFake(Limited):
    """Team ENG with an active cycle "Cycle 12"; personal API keys go in the Authorization header as is.

    Documents are executed against `LINEAR_SDL`; one that does not parse, validate or fit its variables
    is answered HTTP 400 with `errors` (Linear runs Apollo Server). Following Linear's developer docs:
    - a refused key: HTTP 400 with an error whose `extensions` carry what Linear's SDK reads (`code`
      AUTHENTICATION_ERROR, `type`, `userPresentableMessage`; "Errors" in Linear's API docs);
    - rate limits ("Rate limiting", linear.app/developers/rate-limiting): HTTP 400 with
      `extensions.code` RATELIMITED and `X-RateLimit-Requests-Limit/-Remaining/-Reset` (the reset in UTC
      epoch milliseconds).
    """

    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.cycle = {
            "id": "cyc-12",
            "number": 12,
            "name": None,
            "startsAt": "2026-03-02T00:00:00.000Z",
            "endsAt": "2026-03-16T00:00:00.000Z",
        }
        self.issues: list[LinearIssue] = []
        self.schema = _resolvers(
            build_schema(LINEAR_SDL), {"Query.teams": self._teams, "Cycle.issues": self._cycle_issues}
        )
        app = FastAPI()
        app.middleware("http")(self._gate)
        app.post("/graphql")(self._graphql)
        self.server = serve(app)
        self.url = self.server.url

    def limit_reply(self, remaining: float, reset: float) -> Response:
        error = {
            "message": "Rate limit exceeded",
            "extensions": {
                "code": "RATELIMITED",
                "type": "ratelimited",
                "userError": True,
                "userPresentableMessage": "You have exceeded the rate limit. Please try again later.",
            },
        }
        headers = {
            "X-RateLimit-Requests-Limit": "1500",
            "X-RateLimit-Requests-Remaining": "0",
            "X-RateLimit-Requests-Reset": str(int(reset * 1000)),
        }
        return JSONResponse({"errors": [error]}, status_code=400, headers=headers)

    def _teams(self, _: Any, info: Any, filter: dict[str, Any] | None = None, **__: Any) -> dict[str, Any]:
        key = ((filter or {}).get("key") or {}).get("eq")
        team = {"id": "team-eng", "key": "ENG", "name": "Engineering", "activeCycle": self.cycle}
        return {
            "nodes": [team] if key in (None, "ENG") else [],
            "pageInfo": {"hasNextPage": False, "hasPreviousPage": False},
        }

    def _cycle_issues(self, _: Any, info: Any, first: int = 50, after: str | None = None) -> dict[str, Any]:
        page, info_ = _connection(self.issues, first, after)
        nodes = [
            {
                "id": i.identifier,
                "identifier": i.identifier,
                "title": "work",
                "estimate": i.estimate,
                "labels": {
                    "nodes": [{"id": n, "name": n} for n in i.labels],
                    "pageInfo": {"hasNextPage": False, "hasPreviousPage": False},
                },
            }
            for i in page
        ]
        return {"nodes": nodes, "pageInfo": {**info_, "hasPreviousPage": bool(after)}}

    async def _graphql(self, request: Request) -> Response:
        if request.headers.get("authorization") != self.api_key:
            return JSONResponse(
                {
                    "errors": [
                        {
                            "message": "Authentication required, not authenticated",
                            "extensions": {
                                "code": "AUTHENTICATION_ERROR",
                                "type": "authentication error",
                                "userError": True,
                                "userPresentableMessage": "You need to authenticate to access this operation.",
                            },
                        }
                    ]
                },
                status_code=400,
            )
        answer = run_graphql(self.schema, await request.json())
        return JSONResponse(_js_numbers(answer.body), status_code=400 if answer.refused else 200)


# --- GitHub -------------------------------------------------------------------------------------------


@dataclass
class GitHubItem:
    number: int
    labels: list[str]
    pull_request: bool = False
    estimate: float | None = None  # a project number field
    iteration: str | None = "it-2"
    state: str = "open"  # or "closed"
    milestone: int | None = 5


GITHUB_SDL = """
scalar Date

type Query {
  repositoryOwner(login: String!): RepositoryOwner
}

interface Node { id: ID! }
interface RepositoryOwner { id: ID!, login: String! }
interface ProjectV2Owner { id: ID!, projectV2(number: Int!): ProjectV2 }

type Organization implements Node & RepositoryOwner & ProjectV2Owner {
  id: ID!
  login: String!
  projectV2(number: Int!): ProjectV2
}
type User implements Node & RepositoryOwner & ProjectV2Owner {
  id: ID!
  login: String!
  projectV2(number: Int!): ProjectV2
}

type PageInfo { hasNextPage: Boolean!, hasPreviousPage: Boolean!, startCursor: String, endCursor: String }

type ProjectV2 implements Node {
  id: ID!
  title: String!
  field(name: String!): ProjectV2FieldConfiguration
  items(first: Int, after: String, last: Int, before: String): ProjectV2ItemConnection!
}

union ProjectV2FieldConfiguration = ProjectV2Field | ProjectV2IterationField | ProjectV2SingleSelectField
type ProjectV2Field implements Node { id: ID!, name: String! }
type ProjectV2SingleSelectField implements Node { id: ID!, name: String! }
type ProjectV2IterationField implements Node {
  id: ID!
  name: String!
  configuration: ProjectV2IterationFieldConfiguration!
}
type ProjectV2IterationFieldConfiguration {
  duration: Int!
  startDay: Int!
  iterations: [ProjectV2IterationFieldIteration!]!
  completedIterations: [ProjectV2IterationFieldIteration!]!
}
type ProjectV2IterationFieldIteration { id: String!, title: String!, startDate: Date!, duration: Int! }

type ProjectV2ItemConnection { nodes: [ProjectV2Item], pageInfo: PageInfo!, totalCount: Int! }
type ProjectV2Item implements Node {
  id: ID!
  content: ProjectV2ItemContent
  fieldValueByName(name: String!): ProjectV2ItemFieldValue
}

union ProjectV2ItemContent = DraftIssue | Issue | PullRequest
type DraftIssue implements Node { id: ID!, title: String! }
type Issue implements Node {
  id: ID!
  number: Int!
  title: String!
  repository: Repository!
  labels(first: Int, after: String): LabelConnection
}
type PullRequest implements Node {
  id: ID!
  number: Int!
  title: String!
  repository: Repository!
  labels(first: Int, after: String): LabelConnection
}
type Repository implements Node { id: ID!, name: String!, nameWithOwner: String! }
type LabelConnection { nodes: [Label], pageInfo: PageInfo!, totalCount: Int! }
type Label implements Node { id: ID!, name: String! }

union ProjectV2ItemFieldValue =
    ProjectV2ItemFieldIterationValue
  | ProjectV2ItemFieldNumberValue
  | ProjectV2ItemFieldTextValue
type ProjectV2ItemFieldIterationValue { iterationId: String!, title: String!, startDate: Date!, duration: Int! }
type ProjectV2ItemFieldNumberValue { number: Float }
type ProjectV2ItemFieldTextValue { text: String }
"""


class GitHubFake(Limited):
    """Repository acme/payments with milestones and open and closed issues (REST), and project 3 with an
    "Iteration" field and an "Estimate" number field (GraphQL, executed against `GITHUB_SDL`; GitHub
    answers a document that does not validate with HTTP 200 and `errors`). Following GitHub's docs:
    - `per_page` is capped at 100 ("Using pagination in the REST API"): a larger page is a short one;
    - an exhausted primary rate limit ("Rate limits for the REST API"): HTTP 403 with
      `x-ratelimit-remaining: 0` and `x-ratelimit-reset` in UTC epoch seconds.
    """

    STATES = ("open", "closed", "all")
    PER_PAGE_CAP = 100

    def __init__(self, token: str) -> None:
        super().__init__()
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
        self.schema = _resolvers(
            build_schema(GITHUB_SDL),
            {
                "Query.repositoryOwner": self._owner,
                "Organization.projectV2": self._project,
                "ProjectV2.field": self._field,
                "ProjectV2.items": self._items,
                "ProjectV2Item.fieldValueByName": self._value,
            },
        )
        app = FastAPI()
        app.middleware("http")(self._auth)
        app.middleware("http")(self._gate)
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

    def limit_reply(self, remaining: float, reset: float) -> Response:
        headers = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-used": "5000",
            "x-ratelimit-reset": str(math.ceil(reset)),
            "x-ratelimit-resource": "core",
        }
        body = {
            "message": "API rate limit exceeded for user ID 1.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            "status": "403",
        }
        return JSONResponse(body, status_code=403, headers=headers)

    def _page(self, request: Request, items: list[Any], per_page: int, page: int) -> Response:
        per_page = min(per_page, self.PER_PAGE_CAP)
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            url = request.url.include_query_params(page=page + 1)
            headers["Link"] = (
                f'<{url}>; rel="next", <{request.url.include_query_params(page=1)}>; rel="first"'
            )
        return JSONResponse(chunk, headers=headers)

    def _bad_state(self, state: str) -> Response | None:
        if state in self.STATES:
            return None
        return JSONResponse(
            {
                "message": "Validation Failed",
                "errors": [{"resource": "Issue", "field": "state", "code": "invalid"}],
                "status": "422",
            },
            status_code=422,
        )

    async def _milestones(
        self, request: Request, owner: str, repo: str, state: str = "open", per_page: int = 30, page: int = 1
    ) -> Response:
        refused = self._bad_state(state)
        if refused is not None:
            return refused
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
        """Issues and pull requests, open ones unless `state` says otherwise (GitHub's default)."""
        refused = self._bad_state(state)
        if refused is not None:
            return refused
        found = [
            {
                "number": i.number,
                "title": "work",
                "state": i.state,
                "labels": [{"name": n} for n in i.labels],
                **({"pull_request": {"url": "…"}} if i.pull_request else {}),
            }
            for i in self.items
            if (milestone == "*" and i.milestone is not None)
            or (milestone == "none" and i.milestone is None)
            or (milestone.isdigit() and i.milestone == int(milestone))
            or milestone == ""
            if state == "all" or i.state == state
        ]
        return self._page(request, found, per_page, page)

    # GraphQL resolvers: (parent, info, **arguments).

    def _owner(self, _: Any, info: Any, login: str) -> dict[str, Any] | None:
        return {"__typename": "Organization", "id": "O_acme", "login": "acme"} if login == "acme" else None

    def _project(self, _: Any, info: Any, number: int) -> dict[str, Any] | None:
        return {"id": "PVT_3", "title": "Payments"} if number == 3 else None

    def _field(self, _: Any, info: Any, name: str) -> dict[str, Any] | None:
        if name == "Iteration":
            return {
                "__typename": "ProjectV2IterationField",
                "id": "F_it",
                "name": name,
                "configuration": {
                    "duration": 14,
                    "startDay": 1,
                    "iterations": self.iterations,
                    "completedIterations": [],
                },
            }
        if name == "Estimate":
            return {"__typename": "ProjectV2Field", "id": "F_est", "name": name}
        return None

    def _items(
        self, _: Any, info: Any, first: int | None = None, after: str | None = None, **__: Any
    ) -> dict[str, Any]:
        if first is None or not 1 <= first <= 100:
            raise GraphQLError("You must provide a `first` or `last` value between 1 and 100.")
        page, page_info = _connection(self.items, first, after)
        nodes = [
            {
                "id": f"PVTI_{item.number}",
                "item": item,
                "content": {
                    "__typename": "PullRequest" if item.pull_request else "Issue",
                    "id": f"I_{item.number}",
                    "number": item.number,
                    "title": "work",
                    "repository": {"id": "R_1", "name": "payments", "nameWithOwner": "acme/payments"},
                    "labels": {
                        "nodes": [{"id": n, "name": n} for n in item.labels],
                        "totalCount": len(item.labels),
                    },
                },
            }
            for item in page
        ]
        return {
            "nodes": nodes,
            "pageInfo": {**page_info, "hasPreviousPage": bool(after)},
            "totalCount": len(self.items),
        }

    def _value(self, parent: dict[str, Any], info: Any, name: str) -> dict[str, Any] | None:
        item: GitHubItem = parent["item"]
        if name == "Iteration" and item.iteration is not None:
            chosen = next((i for i in self.iterations if i["id"] == item.iteration), None)
            return {
                "__typename": "ProjectV2ItemFieldIterationValue",
                "iterationId": item.iteration,
                "title": chosen["title"] if chosen else "",
                "startDate": chosen["startDate"] if chosen else "",
                "duration": chosen["duration"] if chosen else 0,
            }
        if name == "Estimate" and item.estimate is not None:
            return {"__typename": "ProjectV2ItemFieldNumberValue", "number": item.estimate}
        return None

    async def _graphql(self, request: Request) -> Response:
        answer = run_graphql(self.schema, await request.json())
        body = answer.body
        if answer.refused:
            body = {"errors": [_github_error(e) for e in body["errors"]]}
        return JSONResponse(body)


def _github_error(error: dict[str, Any]) -> dict[str, Any]:
    """GitHub's own wording of an unknown field, the most likely mistake in a document."""
    match = re.match(r"Cannot query field '(\w+)' on type '(\w+)'", error.get("message", ""))
    if match is None:
        return error
    field_name, type_name = match.groups()
    return {
        "path": ["query"],
        "extensions": {"code": "undefinedField", "typeName": type_name, "fieldName": field_name},
        "locations": error.get("locations", []),
        "message": f"Field '{field_name}' doesn't exist on type '{type_name}'",
    }
