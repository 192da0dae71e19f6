"""`scalebot` commands as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LOG_DIR_ENV, remember_secret

ROOT = Path(__file__).resolve().parent.parent


def scalebot(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SCALEBOT_CONFIG", "DATABASE_URL"))
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**base, **(env or {})},
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # What an operator would see goes where the run-wide secret check reads.
    with open(Path(os.environ[LOG_DIR_ENV]) / "cli.log", "a", encoding="utf-8") as log:
        log.write(f"$ scalebot {' '.join(args)}\n{result.stdout}{result.stderr}")
    return result


def test_manifest_fills_in_the_request_urls() -> None:
    result = scalebot("manifest", "--url", "https://scalebot.example.org/")
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    command = manifest["features"]["slash_commands"][0]
    assert command["url"] == "https://scalebot.example.org/slack/events"
    assert (
        manifest["settings"]["interactivity"]["message_menu_options_url"]
        == "https://scalebot.example.org/slack/events"
    )
    assert manifest["oauth_config"]["redirect_urls"] == ["https://scalebot.example.org/slack/oauth_redirect"]
    assert "{base}" not in result.stdout


def test_manifest_refuses_a_url_without_a_scheme() -> None:
    result = scalebot("manifest", "--url", "scalebot.example.org")
    assert result.returncode == 2 and "https://" in result.stderr


def test_config_check_accepts_a_good_file(tmp_path: Path) -> None:
    config = tmp_path / "scalebot.yaml"
    config.write_text("teams:\n  - name: Payments\n    channel: C0PAYMENTS\n")
    result = scalebot("config", "check", env={"SCALEBOT_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    assert "OK: mode local" in result.stdout and "1 team, " in result.stdout


def test_config_check_names_file_line_and_problem(tmp_path: Path) -> None:
    config = tmp_path / "scalebot.yaml"
    config.write_text("teams:\n  - name: Payments\n    channel: payments\n")
    result = scalebot("config", "check", env={"SCALEBOT_CONFIG": str(config)})
    assert result.returncode == 2
    assert f"{config}:3: teams[0].channel:" in result.stderr and "not a Slack channel id" in result.stderr


def test_config_check_names_the_missing_credential() -> None:
    remember_secret("xoxb-1-2-3-operator")
    result = scalebot("config", "check", env={"SLACK_BOT_TOKEN": "xoxb-1-2-3-operator"})
    assert result.returncode == 2 and "SLACK_SIGNING_SECRET" in result.stderr
    assert "xoxb-1-2-3-operator" not in result.stderr


def test_local_mode_refuses_a_public_host_unless_allowed() -> None:
    result = scalebot("serve", "--host", "0.0.0.0", "--port", "1")
    assert result.returncode == 2 and "--allow-remote" in result.stderr


def test_jobs_lists_nothing_on_a_fresh_database(tmp_path: Path) -> None:
    result = scalebot("jobs", env={"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no scheduled jobs"


@pytest.mark.slow
def test_serve_answers_healthz_from_a_clean_directory(tmp_path: Path) -> None:
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SCALEBOT_CONFIG", "DATABASE_URL"))
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=base,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60  # a cold start on a busy machine
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "serve did not answer /healthz"
            time.sleep(0.1)
        assert (tmp_path / "scalebot.sqlite3").exists()  # the default database: a file in the working dir
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["status"] == "ready"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
        (Path(os.environ[LOG_DIR_ENV]) / "cli-serve.log").write_text(out, encoding="utf-8")
    assert "127.0.0.1" in out
