"""A revoked or uninstalled workspace stops being acted on at once, in single-workspace modes too;
Socket Mode never hangs start-up and stops within 5 s on SIGTERM (issue 13, class 6)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.single_workspace import STOPPED_TEXT
from localslack import Actor, FakeSlack
from storage import installations
from tests.conftest import LOG_DIR_ENV
from tests.harness import BotServer, Seeded, wait_until

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("event_type", ["tokens_revoked", "app_uninstalled"])
def test_after_revocation_token_mode_calls_slack_no_more_and_is_not_ready(
    bot: BotServer, actor: Actor, fake: FakeSlack, seeded: Seeded, event_type: str
) -> None:
    assert httpx.get(f"{bot.url}/readyz").status_code == 200
    event = {"type": event_type}
    if event_type == "tokens_revoked":
        event["tokens"] = {"oauth": [], "bot": ["UBOT"]}  # type: ignore[assignment]
    assert actor.event(seeded.team_id, event).status_code == 200
    wait_until(lambda: bot.db(installations.find_installation, seeded.team_id) is None, timeout=5)

    calls_before = len(fake.calls())
    response = actor.slash_command(seeded.team_id, seeded.lead, seeded.channel, "premortem")
    assert response.status_code == 200
    assert STOPPED_TEXT in response.text
    actor.open_home(seeded.team_id, seeded.member)
    time.sleep(0.5)  # work after the ack would have called Slack by now
    assert [c.method for c in fake.calls()[calls_before:]] == []
    assert fake.home(seeded.member) is None

    ready = httpx.get(f"{bot.url}/readyz")
    assert ready.status_code == 503
    assert any("inactive" in r and "SLACK_BOT_TOKEN" in r for r in ready.json()["reasons"])


class BlackHole:
    """A TCP server that accepts connections and never answers (an unreachable Slack)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    yield hole
    hole.close()


def _socket_mode_serve(tmp_path: Path, api_url: str) -> tuple[subprocess.Popen[str], int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SCALEBOT_", "DATABASE_URL"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-1-socketmode-test",
        SLACK_APP_TOKEN="xapp-1-A0SCALEBOT-1-socketmodetest",
        SLACK_API_URL=api_url,
        DATABASE_URL=f"sqlite:///{tmp_path}/socket.db",
        PYTHONPATH=str(ROOT),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc, port


def _stop_within(proc: subprocess.Popen[str], seconds: float, name: str) -> str:
    proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    try:
        out, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f"did not stop within {seconds} s of SIGTERM:\n{out[-3000:]}") from None
    (Path(os.environ[LOG_DIR_ENV]) / f"{name}.log").write_text(out, encoding="utf-8")
    assert time.monotonic() - started < seconds
    return out


@pytest.mark.slow
@pytest.mark.parametrize("when", ["during start-up", "while retrying"])
def test_socket_mode_with_an_unreachable_slack_stops_within_5_s_of_sigterm(
    tmp_path: Path, black_hole: BlackHole, when: str
) -> None:
    proc, port = _socket_mode_serve(tmp_path, f"http://127.0.0.1:{black_hole.port}/api/")
    if when == "during start-up":
        time.sleep(1.0)
    else:
        deadline = time.monotonic() + 30
        while True:  # start-up is over: /healthz answers while the websocket keeps failing
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "serve never answered"
            time.sleep(0.1)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz")
        assert ready.status_code == 503 and "Socket Mode not connected" in ready.text
    _stop_within(proc, 5.0, f"socket-sigterm-{when.replace(' ', '-')}")
