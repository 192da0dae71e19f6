"""PostgreSQL's driver is the `postgres` extra: a SQLite-only install runs without it, and a postgres://
DATABASE_URL without it is one clear sentence (no traceback, no password)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import LOG_DIR_ENV, remember_secret

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "pg-extra-hunter2-secret"

# Runs the real CLI in a Python where `import psycopg` fails, as in a plain `pip install scalebot`.
WITHOUT_PSYCOPG = (
    "import sys; sys.modules['psycopg'] = None; from bot.cli import main; sys.exit(main(sys.argv[1:]))"
)


def run_without_psycopg(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SCALEBOT_CONFIG"))}
    env["DATABASE_URL"] = database_url
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_PSYCOPG, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    with open(Path(os.environ[LOG_DIR_ENV]) / "cli.log", "a", encoding="utf-8") as log:
        log.write(f"$ scalebot {' '.join(args)} (no psycopg)\n{result.stdout}{result.stderr}")
    return result


def test_a_postgres_url_without_the_driver_says_which_extra_to_install() -> None:
    remember_secret(PASSWORD)
    url = f"postgresql://scalebot:{PASSWORD}@127.0.0.1:9/scalebot"
    result = run_without_psycopg("migrate", database_url=url)
    assert result.returncode == 2, result.stderr
    assert "DATABASE_URL" in result.stderr
    assert "pip install 'scalebot[postgres]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert PASSWORD not in result.stderr + result.stdout


def test_sqlite_needs_no_postgres_driver(tmp_path: Path) -> None:
    result = run_without_psycopg("migrate", database_url=f"sqlite:///{tmp_path}/lean.sqlite3")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "lean.sqlite3").exists()


def test_the_driver_is_an_extra_that_the_image_and_the_test_venv_install() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("psycopg")]
    assert any(d.startswith("psycopg[binary]") for d in project["optional-dependencies"]["postgres"])
    assert '".[postgres]"' in (ROOT / "Dockerfile").read_text()
    assert '".[dev,postgres]"' in (ROOT / "scripts" / "bootstrap-venv").read_text()
    lock = (ROOT / "requirements.lock").read_text()
    assert "psycopg==" in lock and "psycopg-binary==" in lock
