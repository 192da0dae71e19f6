"""Importing the active sprint from each tracker, checking the request the bot sent (path, query or
GraphQL document, auth header) through a recording proxy, and what was recorded and shown."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import AppConfig, load_config
from bot.debt import service, sync
from bot.debt.sync import SyncResult
from localslack import FakeSlack
from storage import debt as repo
from storage import debt_status as status_repo
from tests.conftest import BotFactory, remember_secret
from tests.harness import BotServer, Seeded
from tests.helpers.debt_trackers import (
    CloudIssue,
    GitHubFake,
    GitHubItem,
    JiraCloudFake,
    LinearFake,
    LinearIssue,
    jira_datacenter,
)
from tests.helpers.tracker_proxy import RecordingProxy
from tests.test_debt_slack import debt_command

NOW = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def proxies() -> Iterator[list[RecordingProxy]]:
    started: list[RecordingProxy] = []
    yield started
    for proxy in started:
        proxy.stop()


def configure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tracker: str, team_import: str, **env: str
) -> AppConfig:
    """The operator's file with one tracker and the payments team importing from it."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
        remember_secret(value)
    path = tmp_path / "scalebot.yaml"
    path.write_text(
        "trackers:\n  work:\n"
        + "".join(f"    {line}\n" for line in tracker.strip().splitlines())
        + "teams:\n  - name: Payments\n    channel: C0PAYMENTS\n    debt:\n      import:\n        tracker: work\n"
        + "".join(f"        {line}\n" for line in team_import.strip().splitlines())
    )
    return load_config(path)


def run_sync(bot: BotServer, s: Seeded) -> SyncResult:
    async def go() -> SyncResult:
        team = await service.team_for(bot.rt, s.team_id, s.channel)
        return await sync.sync(bot.rt, team)

    return bot.call(go())


def entries(bot: BotServer, s: Seeded) -> list[tuple[str, float, float, str, str, int | None]]:
    return [
        (sprint.name, e.debt, e.capacity, e.source, e.author, e.unestimated)
        for sprint, rows in bot.db(repo.sprints, s.team_id, s.channel)
        for e in rows
    ]


def test_jira_datacenter_import_from_jira820_records_the_active_sprint_once(
    make_bot: BotFactory,
    fake: FakeSlack,
    seeded: Seeded,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    proxies: list[RecordingProxy],
) -> None:
    s = seeded
    server, world = jira_datacenter(NOW.date())
    proxy = RecordingProxy(server.url, require_auth="Bearer dc-pat-7f3a9")
    proxies.append(proxy)
    config = configure(
        tmp_path,
        monkeypatch,
        f"kind: jira_datacenter\nurl: {proxy.url}\ntoken_env: TEST_JIRA_DC_PAT\npage_size: 2\nbackoff_seconds: 0.01",
        "board: 7\nlabels: [tech-debt]\nestimate_field: Story Points",
        TEST_JIRA_DC_PAT="dc-pat-7f3a9",
    )
    bot = make_bot(config=config, clock=clock)
    try:
        said = debt_command(fake, s, s.lead, "sync")
        # 3 + 5 + 8 + 2 + (unestimated, skipped); the 3-point sub-task is its parent's. Debt: 3 + 2.
        assert ":inbox_tray: Recorded *PAY Sprint 12* from the tracker (5 issues)." in said
        assert "*Current sprint: PAY Sprint 12* (2026-03-02 – 2026-03-13)" in said
        assert "*5 of 18 points = 27.8%* · in band" in said
        assert "Latest write: imported from Jira Data Center (`work`)" in said
        assert "5 issues; 1 unestimated, skipped." in said

        sid = world.sprint_id
        assert {(r.method, r.authorization) for r in proxy.seen} == {("GET", "Bearer dc-pat-7f3a9")}
        assert proxy.paths() == [
            "/rest/api/2/field",
            "/rest/agile/1.0/board/7/sprint",
            f"/rest/agile/1.0/sprint/{sid}/issue",
            f"/rest/agile/1.0/sprint/{sid}/issue",
            f"/rest/agile/1.0/sprint/{sid}/issue",
            "/rest/api/2/search",
            "/rest/api/2/search",
        ]
        assert proxy.seen[1].param("state") == "active"
        assert [r.param("startAt") for r in proxy.seen[2:5]] == ["0", "2", "4"]
        assert proxy.seen[2].param("fields") == "labels,issuetype,customfield_10004"
        search = proxy.seen[5]
        assert search.param("jql") == f'sprint = {sid} AND labels in ("tech-debt")'
        assert (search.param("startAt"), proxy.seen[6].param("startAt"), search.param("maxResults")) == (
            "0",
            "2",
            "2",
        )

        # Twice records nothing twice.
        said = debt_command(fake, s, s.lead, "sync")
        assert "Nothing changed since the last import of *PAY Sprint 12*" in said
        assert entries(bot, s) == [("PAY Sprint 12", 5.0, 18.0, "jira_datacenter", "work", 1)]

        # A typed correction wins, and an unchanged import does not undo it; the answer says which.
        said = debt_command(fake, s, s.lead2, "4 of 18")
        assert (
            "Corrected *PAY Sprint 12*: now 4 of 18 points (22.2%), was 5 of 18 points (27.8%), imported from Jira Data Center."
            in said
        )
        said = debt_command(fake, s, s.lead, "sync")
        assert f"Latest write: typed in Slack by <@{s.lead2}>" in said

        # The tracker changes: the import is the latest write again.
        world.set_points(world.keys[4], 1)  # the unestimated tech-debt story gets a point
        said = debt_command(fake, s, s.lead, "sync")
        assert "*6 of 19 points = 31.6%* · over" in said
        assert "Latest write: imported from Jira Data Center (`work`)" in said
        assert [e[1:3] for e in entries(bot, s)] == [(5.0, 18.0), (4.0, 18.0), (6.0, 19.0)]
    finally:
        server.stop()


def test_jira_datacenter_tech_debt_chosen_by_a_jql_filter(
    make_bot: BotFactory,
    seeded: Seeded,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    proxies: list[RecordingProxy],
) -> None:
    server, world = jira_datacenter(NOW.date())
    proxy = RecordingProxy(server.url, require_auth="Bearer dc-pat-2")
    proxies.append(proxy)
    config = configure(
        tmp_path,
        monkeypatch,
        f"kind: jira_datacenter\nurl: {proxy.url}\ntoken_env: TEST_JIRA_DC_PAT2",
        "board: 7\njql: labels = scalability\nestimate_field: customfield_10004\nunestimated: 1",
        TEST_JIRA_DC_PAT2="dc-pat-2",
    )
    bot = make_bot(config=config, clock=clock)
    try:
        result = run_sync(bot, seeded)
        assert result.ok and result.tally is not None
        assert (result.tally.debt, result.tally.capacity, result.tally.unestimated) == (2, 19, 1)
        assert result.tally.rule == "counted as 1 points"
        assert "/rest/api/2/field" not in proxy.paths()  # configured by id: no lookup
        search = next(r for r in proxy.seen if r.path == "/rest/api/2/search")
        assert search.param("jql") == f"sprint = {world.sprint_id} AND (labels = scalability)"
    finally:
        server.stop()


def test_jira_cloud_import_pages_the_search_by_next_page_token_and_finds_the_points_field_by_name(
    make_bot: BotFactory,
    fake: FakeSlack,
    seeded: Seeded,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    proxies: list[RecordingProxy],
) -> None:
    jira = JiraCloudFake("ops@acme.test", "cloud-token-5k2")
    jira.issues = [
        CloudIssue("PAY-1", 3, ["tech-debt"]),
        CloudIssue("PAY-2", 5),
        CloudIssue("PAY-3", None, ["tech-debt"]),
        CloudIssue("PAY-4", 2, ["tech-debt"]),
        CloudIssue("PAY-5", 8),
    ]
    proxy = RecordingProxy(jira.url)
    proxies.append(proxy)
    config = configure(
        tmp_path,
        monkeypatch,
        f"kind: jira_cloud\nurl: {proxy.url}\nemail_env: TEST_JIRA_EMAIL\ntoken_env: TEST_JIRA_TOKEN\npage_size: 2",
        "board: 7\nestimate_field: Story point estimate\nunestimated: 2",
        TEST_JIRA_EMAIL="ops@acme.test",
        TEST_JIRA_TOKEN="cloud-token-5k2",
    )
    make_bot(config=config, clock=clock)
    try:
        said = debt_command(fake, seeded, seeded.lead, "sync")
        # 3 + 5 + (2, the default size) + 2 + 8 = 20; debt 3 + 2 + 2 = 7.
        assert "*7 of 20 points = 35%* · over" in said
        assert "5 issues; 1 unestimated, counted as 2 points." in said
        expected = "Basic " + base64.b64encode(b"ops@acme.test:cloud-token-5k2").decode()
        assert {r.authorization for r in proxy.seen} == {expected}
        searches = [r for r in proxy.seen if r.path == "/rest/api/3/search/jql"]
        # The sprint's issues (capacity) and its tech-debt issues, each through the enhanced search.
        capacity = [r for r in searches if r.param("jql") == "sprint = 31"]
        debt = [r for r in searches if r.param("jql") == 'sprint = 31 AND labels in ("tech-debt")']
        assert len(capacity) + len(debt) == len(searches)
        assert [r.param("nextPageToken") for r in capacity] == [None, "2", "4"]
        assert [r.param("nextPageToken") for r in debt] == [None, "2"]
        assert {r.param("fields") for r in searches} == {"labels,issuetype,customfield_10016"}
        assert not [r for r in proxy.seen if r.path.startswith("/rest/agile/1.0/sprint/")]
        assert proxy.paths()[:2] == ["/rest/api/3/field", "/rest/agile/1.0/board/7/sprint"]
    finally:
        jira.server.stop()


def test_linear_import_reads_the_active_cycle_with_estimates_and_labels_page_by_page(
    make_bot: BotFactory,
    seeded: Seeded,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    proxies: list[RecordingProxy],
) -> None:
    linear = LinearFake("lin_api_9Qx")
    linear.issues = [
        LinearIssue("ENG-1", 2, ["tech-debt"]),
        LinearIssue("ENG-2", 5, ["Feature"]),
        LinearIssue("ENG-3", None, ["tech-debt"]),
        LinearIssue("ENG-4", 1, ["Tech-Debt"]),
    ]
    proxy = RecordingProxy(linear.url)
    proxies.append(proxy)
    config = configure(
        tmp_path,
        monkeypatch,
        f"kind: linear\nurl: {proxy.url}/graphql\napi_key_env: TEST_LINEAR_KEY\npage_size: 3",
        "team_key: ENG",
        TEST_LINEAR_KEY="lin_api_9Qx",
    )
    bot = make_bot(config=config, clock=clock)
    try:
        result = run_sync(bot, seeded)
        assert result.ok and result.sprint == "Cycle 12"
        assert entries(bot, seeded) == [("Cycle 12", 3.0, 8.0, "linear", "work", 1)]
        rows = bot.db(repo.sprints, seeded.team_id, seeded.channel)
        assert (rows[0][0].starts, rows[0][0].ends) == (date(2026, 3, 2), date(2026, 3, 16))
        assert [(r.method, r.path, r.authorization) for r in proxy.seen] == [
            ("POST", "/graphql", "lin_api_9Qx")
        ] * 2
        document = proxy.seen[0].body["query"]
        for part in (
            "activeCycle",
            "startsAt",
            "endsAt",
            "estimate",
            "labels { nodes { name } }",
            "pageInfo { hasNextPage endCursor }",
        ):
            assert part in document
        assert [r.body["variables"] for r in proxy.seen] == [
            {"teamKey": "ENG", "first": 3, "after": None},
            {"teamKey": "ENG", "first": 3, "after": "3"},
        ]
    finally:
        linear.server.stop()


def github_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, team_import: str) -> AppConfig:
    return configure(
        tmp_path,
        monkeypatch,
        f"kind: github\nurl: {url}\ntoken_env: TEST_GITHUB_TOKEN\npage_size: 2",
        "repository: acme/payments\n" + team_import,
        TEST_GITHUB_TOKEN="ghp_testtoken123",
    )


def test_github_import_of_the_current_milestone_by_size_labels_follows_link_pages(
    make_bot: BotFactory,
    seeded: Seeded,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    proxies: list[RecordingProxy],
) -> None:
    github = GitHubFake("ghp_testtoken123")
    github.items = [
        GitHubItem(1, ["size/M", "tech-debt"]),
        GitHubItem(2, ["size/L"]),
        GitHubItem(3, ["size/S", "tech-debt"], pull_request=True),
        GitHubItem(4, []),
        GitHubItem(5, ["size/M", "tech-debt"], state="closed"),  # done already: still the sprint's work
        GitHubItem(6, ["size/L"], milestone=6),  # the next milestone's
    ]
    proxy = RecordingProxy(github.url)
    proxies.append(proxy)
    config = github_config(
        tmp_path,
        monkeypatch,
        proxy.url,
        'milestone: "@current"\nsize_labels: {size/S: 1, size/M: 3, size/L: 5}',
    )
    bot = make_bot(config=config, clock=clock)
    try:
        result = run_sync(bot, seeded)
        assert result.ok and result.sprint == "Sprint 42"  # the open milestone due next
        assert entries(bot, seeded) == [("Sprint 42", 7.0, 12.0, "github", "work", 1)]
        assert {r.authorization for r in proxy.seen} == {"Bearer ghp_testtoken123"}
        issues = [r for r in proxy.seen if r.path == "/repos/acme/payments/issues"]
        assert [
            (r.param("milestone"), r.param("state"), r.param("per_page"), r.param("page")) for r in issues
        ] == [
            ("5", "all", "2", None),
            ("5", "all", "2", "2"),
            ("5", "all", "2", "3"),
        ]
        milestones = [r for r in proxy.seen if r.path == "/repos/acme/payments/milestones"]
        assert milestones[0].param("state") == "all"
    finally:
        github.server.stop()


def test_github_import_of_a_projects_iteration_with_an_estimate_field(
    make_bot: BotFactory,
    seeded: Seeded,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    proxies: list[RecordingProxy],
) -> None:
    github = GitHubFake("ghp_testtoken123")
    github.items = [
        GitHubItem(10, ["tech-debt"], estimate=5),
        GitHubItem(11, [], estimate=3),
        GitHubItem(12, ["tech-debt"], estimate=8, iteration="it-1"),  # last iteration: not counted
        GitHubItem(13, ["size/S", "tech-debt"], pull_request=True),  # no estimate: its size label
    ]
    proxy = RecordingProxy(github.url)
    proxies.append(proxy)
    config = github_config(
        tmp_path, monkeypatch, proxy.url, "project: 3\nestimate_field: Estimate\nsize_labels: {size/S: 1}"
    )
    bot = make_bot(config=config, clock=clock)
    try:
        result = run_sync(bot, seeded)
        assert result.ok and result.sprint == "Iteration 2"
        assert entries(bot, seeded) == [("Iteration 2", 6.0, 9.0, "github", "work", 0)]
        rows = bot.db(repo.sprints, seeded.team_id, seeded.channel)
        assert (rows[0][0].starts, rows[0][0].ends) == (date(2026, 3, 2), date(2026, 3, 15))
        assert [r.path for r in proxy.seen] == ["/graphql", "/graphql"]
        assert proxy.seen[0].authorization == "Bearer ghp_testtoken123"
        variables: list[dict[str, Any]] = [r.body["variables"] for r in proxy.seen]
        assert variables[0] == {
            "owner": "acme",
            "number": 3,
            "iterationField": "Iteration",
            "estimateField": "Estimate",
            "first": 2,
            "after": None,
        }
        assert variables[1]["after"] == "2"
        assert "fieldValueByName(name: $iterationField)" in proxy.seen[0].body["query"]
    finally:
        github.server.stop()


def test_a_tracker_refusing_the_credentials_marks_the_import_stale_without_showing_the_token(
    make_bot: BotFactory,
    fake: FakeSlack,
    seeded: Seeded,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    proxies: list[RecordingProxy],
) -> None:
    github = GitHubFake("ghp_the_right_one")
    proxy = RecordingProxy(github.url)
    proxies.append(proxy)
    config = github_config(tmp_path, monkeypatch, proxy.url, "milestone: Sprint 42\nsize_labels: {size/S: 1}")
    bot = make_bot(config=config, clock=clock)
    try:
        said = debt_command(fake, seeded, seeded.lead, "sync")
        assert (
            "The import failed: GitHub refused the credentials (HTTP 401 for /repos/acme/payments/milestones)"
            in said
        )
        assert "ghp_testtoken123" not in json.dumps(fake.ephemerals(seeded.lead))
        status = bot.db(status_repo.import_status, seeded.team_id, seeded.channel)
        assert status.stale and "refused the credentials" in status.reason
        assert entries(bot, seeded) == []
    finally:
        github.server.stop()
