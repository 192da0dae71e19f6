"""The operator's tech-debt import settings: each problem named with the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config, run_checks
from bot.debt import checks
from bot.yamlfile import ConfigFileError

TRACKERS = """\
trackers:
  jira:
    kind: jira_datacenter
    url: https://jira.example.org
    token_env: TEST_DEBT_JIRA_PAT
  linear:
    kind: linear
    api_key_env: TEST_DEBT_LINEAR_KEY
  github:
    kind: github
    token_env: TEST_DEBT_GITHUB_TOKEN
"""


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TEST_DEBT_JIRA_PAT", "TEST_DEBT_LINEAR_KEY", "TEST_DEBT_GITHUB_TOKEN"):
        monkeypatch.setenv(name, f"value-of-{name.lower()}")


def write(tmp_path: Path, teams: str) -> Path:
    path = tmp_path / "scalebot.yaml"
    path.write_text(TRACKERS + "teams:\n" + teams)
    return path


def test_a_complete_import_section_has_no_problems(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
  - name: Payments
    channel: C0PAYMENTS
    debt:
      unit: points
      nudge_after: 3
      import: {tracker: jira, board: 42, labels: [tech-debt, scalability], estimate_field: Story Points}
  - name: Search
    channel: C0SEARCH
    debt:
      import: {tracker: github, repository: acme/search, milestone: "@current", size_labels: {size/S: 1, size/M: 3}}
""",
    )
    config = load_config(path)
    assert checks.check(config) == []
    assert config.teams[0].debt.nudge_after == 3


def test_an_import_missing_what_its_tracker_needs_is_named_with_file_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
  - name: Payments
    channel: C0PAYMENTS
    debt:
      import: {tracker: jira, team_key: ENG}
  - name: Search
    channel: C0SEARCH
    debt:
      import: {tracker: linear, jql: "labels = debt"}
  - name: Growth
    channel: C0GROWTH
    debt:
      import: {tracker: github, repository: acme, milestone: Sprint 4, project: 3}
""",
    )
    problems = run_checks(load_config(path))
    where = str(path.resolve())
    assert (
        f"{where}: teams[0].debt.import.board: a Jira import needs the board whose active sprint is imported, like `board: 42`"
        in problems
    )
    assert (
        f"{where}: teams[0].debt.import.team_key: Jira imports do not use `team_key`; remove it" in problems
    )
    assert (
        f"{where}: teams[1].debt.import.team_key: a Linear import needs the team key whose active cycle is imported, like `ENG`"
        in problems
    )
    assert (
        f"{where}: teams[1].debt.import.jql: JQL is for Jira; Linear imports choose tech debt by `labels`"
        in problems
    )
    assert (
        f"{where}: teams[2].debt.import.repository: a GitHub import needs the repository as owner/name"
        in problems
    )
    assert (
        f"{where}: teams[2].debt.import.project: choose a milestone or a project iteration, not both"
        in problems
    )
    assert any(
        p.startswith(f"{where}: teams[2].debt.import.size_labels: with no size labels") for p in problems
    )
    assert not any("value-of-" in p for p in problems)


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("schedule: 6am", "'6am' is not a time like 09:00 (24-hour HH:MM)"),
        ("timezone: Mars/Olympus", "'Mars/Olympus' is not an IANA time zone"),
        ("unestimated: -1", "a default size cannot be negative"),
        ("tracker: nowhere", "unknown tracker 'nowhere' (declared under trackers: github, jira, linear)"),
    ],
)
def test_a_bad_value_in_the_import_section_is_refused_at_load(
    tmp_path: Path, setting: str, says: str
) -> None:
    base = {"tracker": "jira", "board": "7"}
    key, _, value = setting.partition(": ")
    base[key] = value
    body = ", ".join(f"{k}: {v}" for k, v in base.items())
    path = write(
        tmp_path, f"  - name: Payments\n    channel: C0PAYMENTS\n    debt:\n      import: {{{body}}}\n"
    )
    with pytest.raises(ConfigFileError) as caught:
        load_config(path)
    assert says in str(caught.value)


def test_the_documented_example_loads_and_passes_the_checks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "debt.md").read_text(encoding="utf-8")
    section = page[page.index("\n## Importing from Jira, Linear or GitHub") :]
    example = section[
        section.index("```yaml") + len("```yaml") : section.index("```", section.index("```yaml") + 7)
    ]
    for name in ("JIRA_PAT", "JIRA_EMAIL", "JIRA_API_TOKEN", "LINEAR_API_KEY", "GITHUB_TOKEN"):
        monkeypatch.setenv(name, f"example-{name.lower()}")
    path = tmp_path / "example.yaml"
    path.write_text(example)
    config = load_config(path)
    assert checks.check(config) == []
    assert [t.debt.import_.tracker for t in config.teams if t.debt.import_] == [
        "jira",
        "linear",
        "github",
        "github",
    ]
