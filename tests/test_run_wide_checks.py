"""The run-wide checks (tests/run_wide.py) find what they look for; the session-finish hook runs them."""

from __future__ import annotations

from pathlib import Path

from tests.run_wide import manifest_problems, scope_problems, secret_leaks

SECRET = "xoxb-1234567890-abcdefghij"


def test_a_secret_in_any_log_file_of_the_run_is_reported_by_file(tmp_path: Path) -> None:
    (tmp_path / "tests.log").write_text("INFO token=[redacted]\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "scheduler-1.log").write_text(f"DEBUG sent Authorization: Bearer {SECRET}\n")
    assert secret_leaks(tmp_path, {SECRET, "short"}) == ["scheduler-1.log contains a secret: …xoxb-1…"]


def test_clean_logs_pass_and_an_empty_capture_is_itself_a_failure(tmp_path: Path) -> None:
    assert secret_leaks(tmp_path, {SECRET}) == [f"the run wrote no log file under {tmp_path}"]
    (tmp_path / "tests.log").write_text("INFO all fine\n")
    assert secret_leaks(tmp_path, {SECRET}) == []
    assert secret_leaks(tmp_path, set()) == ["the run configured no secrets to look for"]


def test_a_method_called_without_its_scope_is_reported() -> None:
    problems = scope_problems(
        {"chat.postMessage", "users.info"}, {"commands", "chat:write"}, whole_suite=False
    )
    assert problems == ["the manifest lacks the scopes ['users:read']"]


def test_an_unused_scope_is_reported_only_when_the_whole_suite_ran() -> None:
    granted = {"commands", "chat:write", "files:write"}
    assert scope_problems({"chat.update"}, granted, whole_suite=False) == []
    assert scope_problems({"chat.update"}, granted, whole_suite=True) == [
        "no call of the whole suite needs the scopes ['files:write']; drop them"
    ]


def test_a_method_of_unknown_scope_must_be_added_to_the_table() -> None:
    (problem,) = scope_problems({"reactions.add"}, {"commands"}, whole_suite=False)
    assert "reactions.add" in problem and "METHOD_SCOPES" in problem


def test_the_shipped_manifest_escapes_the_slash_command() -> None:
    assert manifest_problems() == []
