"""A channel's team: the setup modal wins over the config file, the file over the channel's name."""

from __future__ import annotations

from bot.config import AppConfig, TeamConfig
from bot.teams import file_teams, resolve_team


def config() -> AppConfig:
    return AppConfig(
        teams=[
            TeamConfig(name="Payments", channel="C0PAYMENTS", leads=["U0LEAD1"], playbook="payments.yaml"),
            TeamConfig(name="Search EU", channel="C0SEARCH", workspace="T0002"),
        ]
    )


def test_a_channel_in_the_file_is_the_files_team() -> None:
    team = resolve_team(config(), "T0001", "C0PAYMENTS", "payments")
    assert (team.name, team.playbook, team.leads, team.source) == (
        "Payments",
        "payments.yaml",
        ("U0LEAD1",),
        "file",
    )


def test_a_channel_nobody_declared_is_a_team_named_after_it_with_the_default_playbook() -> None:
    team = resolve_team(config(), "T0001", "C0OTHER", "growth-squad")
    assert (team.name, team.playbook, team.source, team.key) == (
        "growth-squad",
        "default",
        "channel",
        "growth-squad",
    )


def test_an_entry_for_another_workspace_does_not_apply() -> None:
    assert resolve_team(config(), "T0001", "C0SEARCH", "search").source == "channel"
    assert resolve_team(config(), "T0002", "C0SEARCH", "search").name == "Search EU"
    assert [t.name for t in file_teams(config(), "T0001")] == ["Payments"]


def test_setup_wins_over_the_file_and_says_both_exist() -> None:
    team = resolve_team(
        config(), "T0001", "C0PAYMENTS", "payments", {"name": "Payments Core", "leads": ["U0LEAD2"]}
    )
    assert (team.name, team.leads, team.source, team.also_in_file) == (
        "Payments Core",
        ("U0LEAD2",),
        "setup",
        True,
    )
    assert team.playbook == "payments.yaml"


def test_concurrent_first_commands_in_a_channel_remember_one_team(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import threading
    from datetime import UTC, datetime

    from storage import migrate
    from storage import teams as repo
    from storage.db import Database

    db = Database(f"sqlite:///{tmp_path}/db.sqlite3")
    migrate.upgrade(db)
    barrier, rows, errors = threading.Barrier(8), [], []

    def first_command() -> None:
        barrier.wait()
        try:
            rows.append(db.call(repo.remember, "T1", "C1", "payments", datetime.now(UTC)).id)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_command) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(rows)) == 1
    assert len(db.call(repo.list_teams, "T1")) == 1
    db.close()
