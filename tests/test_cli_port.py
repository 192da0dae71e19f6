"""`./scripts/run` (`scalebot serve`) on a port another program holds: one sentence naming the port and
how to pick another, exit status 2, no traceback, and nothing started (no database created)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import LOG_DIR_ENV

ROOT = Path(__file__).resolve().parent.parent


def serve(port: int, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SCALEBOT_CONFIG", "DATABASE_URL"))
    }
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    with open(Path(os.environ[LOG_DIR_ENV]) / "cli.log", "a", encoding="utf-8") as log:
        log.write(f"$ scalebot serve --port {port}\n{result.stdout}{result.stderr}")
    return result


def test_a_busy_port_is_named_with_how_to_pick_another(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        result = serve(port, tmp_path)
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is busy" in result.stderr
    assert f"./scripts/run --port {port + 1}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "scalebot.sqlite3").exists(), "the bot started before finding the port busy"
