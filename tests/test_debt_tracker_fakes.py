"""The tracker fakes refuse what the real services refuse, so the import tests cannot pass on a request
the real tracker would turn down: a GraphQL document with a misspelled field (Linear, GitHub), an
issue list without `state=all` (GitHub returns open issues only), a search parameter Jira Cloud does not
take. Each importer's own documents and parameters are accepted as they are."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from bot.debt import importers
from bot.debt.config import DebtImportConfig, GitHubTracker, LinearTracker
from bot.debt.importers import ImportFailed, github, linear
from tests.helpers.debt_trackers import (
    CloudIssue,
    GitHubFake,
    GitHubItem,
    JiraCloudFake,
    LinearFake,
    LinearIssue,
)

TODAY = date(2026, 3, 5)
SECRETS = {"LINEAR_KEY": "lin_api_fakes", "GITHUB_TOKEN": "ghp_fakes"}


def secret(name: str) -> str:
    return SECRETS[name]


@pytest.fixture
def linear_fake() -> Iterator[LinearFake]:
    fake = LinearFake(SECRETS["LINEAR_KEY"])
    yield fake
    fake.server.stop()


@pytest.fixture
def github_fake() -> Iterator[GitHubFake]:
    fake = GitHubFake(SECRETS["GITHUB_TOKEN"])
    yield fake
    fake.server.stop()


def import_linear(fake: LinearFake) -> importers.ImportedSprint:
    tracker = LinearTracker(kind="linear", url=f"{fake.url}/graphql", api_key_env="LINEAR_KEY", retries=0)
    spec = DebtImportConfig(tracker="lin", team_key="ENG")
    return asyncio.run(importers.fetch(tracker, spec, secret, TODAY))


def import_github_project(fake: GitHubFake) -> importers.ImportedSprint:
    tracker = GitHubTracker(kind="github", url=fake.url, token_env="GITHUB_TOKEN", retries=0)
    spec = DebtImportConfig(tracker="gh", repository="acme/payments", project=3, estimate_field="Estimate")
    return asyncio.run(importers.fetch(tracker, spec, secret, TODAY))


def test_linear_answers_the_importers_document_with_exactly_what_it_selects(linear_fake: LinearFake) -> None:
    linear_fake.issues = [LinearIssue("ENG-1", 2, ["tech-debt"])]
    sprint = import_linear(linear_fake)
    assert (sprint.name, sprint.starts, sprint.ends) == ("Cycle 12", date(2026, 3, 2), date(2026, 3, 16))
    answer = httpx.post(
        f"{linear_fake.url}/graphql",
        json={"query": "{ teams { nodes { key } } }"},
        headers={"Authorization": SECRETS["LINEAR_KEY"]},
    ).json()
    assert answer == {"data": {"teams": {"nodes": [{"key": "ENG"}]}}}  # nothing that was not asked for


def test_linear_refuses_a_misspelled_field_with_graphql_errors_and_the_import_says_so(
    linear_fake: LinearFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = httpx.post(
        f"{linear_fake.url}/graphql",
        json={"query": "{ teams { nodes { activeCycle { startAt } } } }"},
        headers={"Authorization": SECRETS["LINEAR_KEY"]},
    )
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["message"].startswith("Cannot query field 'startAt' on type 'Cycle'.")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    monkeypatch.setattr(linear, "QUERY", linear.QUERY.replace("estimate", "estimat"))
    with pytest.raises(
        ImportFailed, match=r"Linear answered HTTP 400 \(/graphql\): Cannot query field 'estimat'"
    ):
        import_linear(linear_fake)


def test_linear_refuses_variables_that_do_not_fit_their_types(linear_fake: LinearFake) -> None:
    answer = httpx.post(
        f"{linear_fake.url}/graphql",
        json={"query": linear.QUERY, "variables": {"teamKey": "ENG", "first": "fifty"}},
        headers={"Authorization": SECRETS["LINEAR_KEY"]},
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_github_answers_the_importers_document_and_refuses_a_misspelled_field_as_github_does(
    github_fake: GitHubFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    github_fake.items = [GitHubItem(10, ["tech-debt"], estimate=5), GitHubItem(11, [], estimate=3)]
    sprint = import_github_project(github_fake)
    assert (sprint.name, [i.estimate for i in sprint.issues]) == ("Iteration 2", [5.0, 3.0])

    monkeypatch.setattr(github, "QUERY", github.QUERY.replace("nameWithOwner", "fullName"))
    with pytest.raises(
        ImportFailed, match="GitHub answered an error: Field 'fullName' doesn't exist on type 'Repository'"
    ):
        import_github_project(github_fake)
    answer = httpx.post(
        f"{github_fake.url}/graphql",
        json={"query": '{ repositoryOwner(login: "acme") { login logn } }'},
        headers={"Authorization": f"Bearer {SECRETS['GITHUB_TOKEN']}"},
    )
    assert answer.status_code == 200  # GitHub reports a bad document in the body
    assert answer.json() == {
        "errors": [
            {
                "path": ["query"],
                "extensions": {"code": "undefinedField", "typeName": "RepositoryOwner", "fieldName": "logn"},
                "locations": [{"line": 1, "column": 42}],
                "message": "Field 'logn' doesn't exist on type 'RepositoryOwner'",
            }
        ]
    }


def test_github_lists_open_issues_unless_asked_for_another_state(github_fake: GitHubFake) -> None:
    github_fake.items = [GitHubItem(1, []), GitHubItem(2, [], state="closed"), GitHubItem(3, [], milestone=6)]
    headers = {"Authorization": f"Bearer {SECRETS['GITHUB_TOKEN']}"}

    def numbers(**params: str) -> list[int]:
        answer = httpx.get(f"{github_fake.url}/repos/acme/payments/issues", params=params, headers=headers)
        assert answer.status_code == 200
        return [i["number"] for i in answer.json()]

    assert numbers(milestone="5") == [1]
    assert numbers(milestone="5", state="closed") == [2]
    assert numbers(milestone="5", state="all") == [1, 2]
    assert numbers(milestone="*", state="all") == [1, 2, 3]
    refused = httpx.get(
        f"{github_fake.url}/repos/acme/payments/issues", params={"state": "done"}, headers=headers
    )
    assert refused.status_code == 422 and refused.json()["message"] == "Validation Failed"


def test_jira_cloud_search_refuses_a_parameter_it_does_not_take() -> None:
    jira = JiraCloudFake("ops@acme.test", "token")
    jira.issues = [CloudIssue("PAY-1", 3, ["tech-debt"])]
    auth = {"Authorization": "Basic " + base64.b64encode(b"ops@acme.test:token").decode()}
    url = f"{jira.url}/rest/api/3/search/jql"
    try:
        jql = 'sprint = 31 AND labels in ("tech-debt")'
        ok = httpx.get(url, params={"jql": jql, "maxResults": 50, "fields": "labels"}, headers=auth)
        assert ok.status_code == 200 and [i["key"] for i in ok.json()["issues"]] == ["PAY-1"]
        # startAt pages the old /rest/api/3/search; the /search/jql endpoint pages by nextPageToken only.
        refused = httpx.get(url, params={"jql": jql, "startAt": 0}, headers=auth)
        assert refused.status_code == 400
        assert refused.json()["errorMessages"] == ["Unrecognized parameter: startAt"]
    finally:
        jira.server.stop()
