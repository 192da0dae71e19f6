"""Trackers as their vendors document them: each team's import comes only from requests made with its own
credentials, rate limits are honoured to their reset (a short one waited out, a long one never re-sent
early and reported with when to ask again), and the fakes' documented shapes (Jira's ids-only search,
any well-formed JQL, page caps, the agile fallback, Linear's auth error)."""

from __future__ import annotations

import asyncio
import base64
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.debt import importers
from bot.debt.config import DebtImportConfig, GitHubTracker, JiraCloudTracker, LinearTracker, TrackerConfig
from bot.debt.importers import ImportFailed
from bot.debt.importers.base import ImportRateLimited
from tests.helpers.debt_trackers import (
    CloudIssue,
    GitHubFake,
    GitHubItem,
    JiraCloudFake,
    Limited,
    LinearFake,
    LinearIssue,
)

TODAY = date(2026, 3, 5)
SECRETS = {
    "JIRA_EMAIL": "ops@acme.test",
    "JIRA_TOKEN_A": "jira-token-A",
    "JIRA_TOKEN_B": "jira-token-B-revoked",
    "LINEAR_A": "lin_api_A",
    "LINEAR_B": "lin_api_B_revoked",
    "GITHUB_A": "ghp_A",
    "GITHUB_B": "ghp_B_revoked",
}


def secret(name: str) -> str:
    return SECRETS[name]


@dataclass
class Tracker:
    """One tracker fake with a good key (org A) and a configured key it refuses (org B)."""

    name: str
    fake: Limited
    config: Callable[[str], TrackerConfig]  # org "A" or "B" -> its tracker config
    spec: DebtImportConfig
    auth: Callable[[str], str]  # org -> the Authorization header its requests carry
    expected: tuple[str, float]  # org A's sprint name and capacity

    def fetch(self, org: str) -> importers.ImportedSprint:
        return asyncio.run(importers.fetch(self.config(org), self.spec, secret, TODAY))

    def stop(self) -> None:
        self.fake.server.stop()  # type: ignore[attr-defined]


def jira() -> Tracker:
    fake = JiraCloudFake(SECRETS["JIRA_EMAIL"], SECRETS["JIRA_TOKEN_A"])
    fake.issues = [CloudIssue("PAY-1", 3, ["tech-debt"]), CloudIssue("PAY-2", 5)]
    return Tracker(
        "Jira Cloud",
        fake,
        lambda org: JiraCloudTracker(
            kind="jira_cloud", url=fake.url, email_env="JIRA_EMAIL", token_env=f"JIRA_TOKEN_{org}", retries=1
        ),
        DebtImportConfig(tracker="jira", board=7, estimate_field="customfield_10016"),
        lambda org: (
            "Basic "
            + base64.b64encode(f"{SECRETS['JIRA_EMAIL']}:{SECRETS[f'JIRA_TOKEN_{org}']}".encode()).decode()
        ),
        ("PAY Sprint 31", 8.0),
    )


def linear() -> Tracker:
    fake = LinearFake(SECRETS["LINEAR_A"])
    fake.issues = [LinearIssue("ENG-1", 2, ["tech-debt"]), LinearIssue("ENG-2", 6)]
    return Tracker(
        "Linear",
        fake,
        lambda org: LinearTracker(
            kind="linear", url=f"{fake.url}/graphql", api_key_env=f"LINEAR_{org}", retries=1
        ),
        DebtImportConfig(tracker="linear", team_key="ENG"),
        lambda org: SECRETS[f"LINEAR_{org}"],
        ("Cycle 12", 8.0),
    )


def github() -> Tracker:
    fake = GitHubFake(SECRETS["GITHUB_A"])
    fake.items = [GitHubItem(1, ["size/M", "tech-debt"]), GitHubItem(2, ["size/L"], state="closed")]
    return Tracker(
        "GitHub",
        fake,
        lambda org: GitHubTracker(kind="github", url=fake.url, token_env=f"GITHUB_{org}", retries=1),
        DebtImportConfig(
            tracker="gh",
            repository="acme/payments",
            milestone="Sprint 42",
            size_labels={"size/M": 3, "size/L": 5},
        ),
        lambda org: f"Bearer {SECRETS[f'GITHUB_{org}']}",
        ("Sprint 42", 8.0),
    )


TRACKERS = {"jira": jira, "linear": linear, "github": github}


@pytest.fixture(params=sorted(TRACKERS))
def tracker(request: pytest.FixtureRequest) -> Iterator[Tracker]:
    made = TRACKERS[str(request.param)]()
    yield made
    made.stop()


def capacity(sprint: importers.ImportedSprint) -> float:
    return sum(i.estimate or 0 for i in sprint.issues)


def test_each_key_gets_only_its_own_answer_and_a_refused_key_sees_the_refusal(tracker: Tracker) -> None:
    good = tracker.fetch("A")
    assert (good.name, capacity(good)) == tracker.expected
    with pytest.raises(ImportFailed) as refused:
        tracker.fetch("B")
    assert "refused the credentials" in refused.value.reason
    assert not any(value in refused.value.reason for value in SECRETS.values())
    seen = tracker.fake.seen
    with_b = [s for s in seen if s[2] == tracker.auth("B")]
    assert with_b, "org B's import sent its own key"
    # Org B's import sent nothing with org A's key: after its first request, only B's key was used.
    first_b = seen.index(with_b[0])
    assert {s[2] for s in seen[first_b:]} == {tracker.auth("B")}


def test_a_short_rate_limit_is_waited_out_and_the_import_is_complete(tracker: Tracker) -> None:
    reset = tracker.fake.limit_for(1.5)
    sprint = tracker.fetch("A")
    assert (sprint.name, capacity(sprint)) == tracker.expected
    early = [s for s in tracker.fake.seen if s[0] < reset]
    assert len(early) == 1, "one request met the limit; none was re-sent before the reset"
    assert len(tracker.fake.seen) > 1


def test_a_long_rate_limit_sends_nothing_early_and_says_when_to_ask_again(tracker: Tracker) -> None:
    reset = tracker.fake.limit_for(600)
    began = time.monotonic()
    with pytest.raises(ImportRateLimited) as limited:
        tracker.fetch("A")
    assert time.monotonic() - began < 5.0
    assert limited.value.next_try >= reset - 1  # GitHub and Jira state the reset to the second or minute
    at = datetime.fromtimestamp(math.ceil(limited.value.next_try), UTC)
    shown = at + timedelta(seconds=60 - at.second) if at.second else at
    assert limited.value.reason == (
        f"{tracker.name} asked us to wait 10 minutes; next try at {shown:%H:%M} UTC ({shown:%Y-%m-%d})"
    )
    assert len(tracker.fake.seen) == 1
    with pytest.raises(ImportRateLimited):  # asked again before the reset: nothing is sent
        tracker.fetch("A")
    assert len(tracker.fake.seen) == 1


# --- the fakes' documented shapes ---------------------------------------------------------------------


@pytest.fixture
def cloud() -> Iterator[JiraCloudFake]:
    fake = JiraCloudFake(SECRETS["JIRA_EMAIL"], SECRETS["JIRA_TOKEN_A"])
    fake.issues = [
        CloudIssue("PAY-1", 3, ["tech-debt"]),
        CloudIssue("PAY-2", 5, ["feature"]),
        CloudIssue("PAY-3", None, ["tech-debt", "scalability"]),
        CloudIssue("PAY-4", 8),
    ]
    yield fake
    fake.server.stop()


def search(fake: JiraCloudFake, **params: Any) -> httpx.Response:
    auth = (SECRETS["JIRA_EMAIL"], SECRETS["JIRA_TOKEN_A"])
    return httpx.get(f"{fake.url}/rest/api/3/search/jql", params=params, auth=auth)


def test_jira_cloud_search_returns_ids_only_when_fields_is_omitted(cloud: JiraCloudFake) -> None:
    bare = search(cloud, jql="sprint = 31").json()
    assert bare["issues"][0] == {"id": "1"}
    full = search(cloud, jql="sprint = 31", fields="labels").json()
    assert full["issues"][0] == {"id": "1", "key": "PAY-1", "fields": {"labels": ["tech-debt"]}}


@pytest.mark.parametrize(
    ("jql", "keys"),
    [
        ('sprint = 31 AND labels in ("tech-debt")', ["PAY-1", "PAY-3"]),
        ("sprint = 31 AND (labels = tech-debt OR labels = feature)", ["PAY-1", "PAY-2", "PAY-3"]),
        ("sprint in openSprints() AND labels = scalability ORDER BY key DESC", ["PAY-3"]),
        ("sprint = 31 AND NOT labels in (feature, tech-debt)", ["PAY-4"]),
        ("sprint = 31 AND labels is EMPTY", ["PAY-4"]),
        ('sprint = 31 AND "Story point estimate" >= 5', ["PAY-2", "PAY-4"]),
        ("sprint = 31 AND labels != feature", ["PAY-1", "PAY-3"]),
        ("project = PAY AND issuetype = Story AND key in (PAY-2, PAY-4)", ["PAY-2", "PAY-4"]),
    ],
)
def test_jira_cloud_accepts_any_well_formed_jql(cloud: JiraCloudFake, jql: str, keys: list[str]) -> None:
    answer = search(cloud, jql=jql, fields="labels")
    assert answer.status_code == 200, answer.text
    assert [i["key"] for i in answer.json()["issues"]] == keys


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("sprint = 31 AND (labels = x", "Error in the JQL Query: Expecting ')'"),
        ("sprint = 31 AND", "Error in the JQL Query"),
        ("sprint == 31", "Error in the JQL Query"),
        ("teamz = 4", "Field 'teamz' does not exist or you do not have permission to view it."),
        ("sprint in notAFunction()", "Unable to find JQL function 'notAFunction()'."),
    ],
)
def test_jira_cloud_refuses_malformed_jql_with_jiras_400(
    cloud: JiraCloudFake, jql: str, message: str
) -> None:
    answer = search(cloud, jql=jql, fields="labels")
    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == {"errorMessages", "errors"} and body["errors"] == {}
    assert body["errorMessages"][0].startswith(message)


def test_jira_cloud_caps_pages_and_the_importer_follows_short_pages(cloud: JiraCloudFake) -> None:
    cloud.issues = [CloudIssue(f"PAY-{n}", 1, ["tech-debt"] if n % 3 == 0 else []) for n in range(1, 131)]
    page = search(cloud, jql="sprint = 31", fields="labels", maxResults=500).json()
    assert len(page["issues"]) == JiraCloudFake.SEARCH_CAP and page["nextPageToken"] == "100"
    tracker = JiraCloudTracker(
        kind="jira_cloud", url=cloud.url, email_env="JIRA_EMAIL", token_env="JIRA_TOKEN_A"
    )
    spec = DebtImportConfig(tracker="jira", board=7, estimate_field="customfield_10016")
    sprint = asyncio.run(importers.fetch(tracker, spec, secret, TODAY))
    assert len(sprint.issues) == 130 and sum(1 for i in sprint.issues if i.debt) == 43


def test_jira_cloud_without_the_enhanced_search_falls_back_to_the_agile_endpoint(
    cloud: JiraCloudFake,
) -> None:
    cloud.search_available = False
    tracker = JiraCloudTracker(
        kind="jira_cloud", url=cloud.url, email_env="JIRA_EMAIL", token_env="JIRA_TOKEN_A", page_size=100
    )
    spec = DebtImportConfig(
        tracker="jira",
        board=7,
        estimate_field="customfield_10016",
        jql="labels = scalability OR labels = feature",
    )
    sprint = asyncio.run(importers.fetch(tracker, spec, secret, TODAY))
    assert {i.key: (i.estimate, i.debt) for i in sprint.issues} == {
        "PAY-1": (3, False),
        "PAY-2": (5, True),
        "PAY-3": (None, True),
        "PAY-4": (8, False),
    }
    paths = [s[1] for s in cloud.seen]
    assert "/rest/agile/1.0/sprint/31/issue" in paths and "/rest/api/3/search/jql" in paths


def test_the_documented_jql_option_reaches_jira_cloud_and_chooses_the_debt(cloud: JiraCloudFake) -> None:
    tracker = JiraCloudTracker(
        kind="jira_cloud", url=cloud.url, email_env="JIRA_EMAIL", token_env="JIRA_TOKEN_A"
    )
    spec = DebtImportConfig(
        tracker="jira",
        board=7,
        estimate_field="customfield_10016",
        jql='labels in ("scalability") OR key = PAY-4',
    )
    sprint = asyncio.run(importers.fetch(tracker, spec, secret, TODAY))
    assert sorted(i.key for i in sprint.issues if i.debt) == ["PAY-3", "PAY-4"]
    assert not [s for s in cloud.seen if s[1].startswith("/rest/agile/1.0/sprint/")]


def test_linear_refuses_a_key_with_the_fields_linears_sdk_reads_and_the_import_says_refused() -> None:
    fake = LinearFake(SECRETS["LINEAR_A"])
    try:
        answer = httpx.post(
            f"{fake.url}/graphql",
            json={"query": "{ teams { nodes { key } } }"},
            headers={"Authorization": "nope"},
        )
        assert answer.status_code == 400
        [error] = answer.json()["errors"]
        assert error["extensions"]["code"] == "AUTHENTICATION_ERROR"
        assert error["extensions"]["type"] and error["extensions"]["userPresentableMessage"]
        tracker = LinearTracker(kind="linear", url=f"{fake.url}/graphql", api_key_env="LINEAR_B", retries=0)
        with pytest.raises(ImportFailed) as refused:
            asyncio.run(
                importers.fetch(tracker, DebtImportConfig(tracker="l", team_key="ENG"), secret, TODAY)
            )
        assert refused.value.reason.startswith("Linear refused the credentials (HTTP 400 for /graphql)")
    finally:
        fake.server.stop()


def test_github_caps_per_page_at_100() -> None:
    fake = GitHubFake(SECRETS["GITHUB_A"])
    try:
        fake.items = [GitHubItem(n, []) for n in range(1, 151)]
        answer = httpx.get(
            f"{fake.url}/repos/acme/payments/issues",
            params={"milestone": "5", "state": "all", "per_page": 500},
            headers={"Authorization": f"Bearer {SECRETS['GITHUB_A']}"},
        )
        assert len(answer.json()) == 100 and 'rel="next"' in answer.headers["link"]
    finally:
        fake.server.stop()
