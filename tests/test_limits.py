"""Slow and abandoned uploads against `scalebot serve` run as an operator runs it (issue 13, class 1)."""

from __future__ import annotations

import os
import re
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from bot.limits import BODY_DEADLINE, HEADER_DEADLINE, connection_cap
from localslack import FakeSlack, signed_headers
from tests.conftest import LOG_DIR_ENV
from tests.harness import SIGNING_SECRET, Seeded

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTOR_LIMIT = 128


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _low_descriptor_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTOR_LIMIT, DESCRIPTOR_LIMIT))


class ServeProcess:
    """`scalebot serve` in HTTP mode, in a subprocess limited to DESCRIPTOR_LIMIT open files."""

    def __init__(self, fake: FakeSlack, seeded: Seeded, tmp_path: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.events_url = f"{self.url}/slack/events"
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SCALEBOT_", "DATABASE_URL"))
        }
        env.update(
            SLACK_BOT_TOKEN=seeded.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake.api_url,
            DATABASE_URL=f"sqlite:///{tmp_path}/serve.db",
            LOG_LEVEL="INFO",
            PYTHONPATH=str(ROOT),
        )
        self.out_path = tmp_path / "serve.log"
        with open(self.out_path, "w", encoding="utf-8") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port), "--no-scheduler"],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_low_descriptor_limit,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None and time.monotonic() < deadline, self.out_path.read_text()
            time.sleep(0.1)

    def stop(self) -> list[str]:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
        text = self.out_path.read_text(encoding="utf-8")
        (Path(os.environ[LOG_DIR_ENV]) / "limits-serve.log").write_text(text, encoding="utf-8")
        return text.splitlines()


@pytest.fixture
def served_process(fake: FakeSlack, seeded: Seeded, tmp_path: Path) -> Iterator[ServeProcess]:
    server = ServeProcess(fake, seeded, tmp_path)
    try:
        yield server
    finally:
        server.stop()


def _slow_upload(port: int) -> socket.socket:
    """Headers promising a 1000-byte body, then ten bytes of it, then nothing."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncommand=%2F"
    )
    sock.settimeout(0.01)
    return sock


def _closed(sock: socket.socket) -> bool:
    """The server answered (408) or closed the connection."""
    try:
        sock.recv(4096)
        return True
    except TimeoutError:
        return False
    except OSError:
        return True


def _signed_help(seeded: Seeded) -> tuple[bytes, dict[str, str]]:
    body = urlencode(
        {
            "command": "/scale-check",
            "text": "help",
            "team_id": seeded.team_id,
            "user_id": seeded.member,
            "channel_id": seeded.channel,
            "trigger_id": "1.2.3",
        }
    ).encode()
    headers = {**signed_headers(SIGNING_SECRET, body), "Content-Type": "application/x-www-form-urlencoded"}
    return body, headers


@pytest.mark.slow
def test_slow_uploads_are_cut_off_while_a_signed_request_answers(
    served_process: ServeProcess, seeded: Seeded
) -> None:
    server = served_process
    assert connection_cap(DESCRIPTOR_LIMIT) < DESCRIPTOR_LIMIT
    opened: list[tuple[float, socket.socket]] = []
    headerless = socket.create_connection(("127.0.0.1", server.port))  # never sends its headers
    headerless_at = time.monotonic()
    try:
        # More slow uploads than the server has descriptors; the last few are abandoned mid-body.
        for _ in range(DESCRIPTOR_LIMIT + 40):
            opened.append((time.monotonic(), _slow_upload(server.port)))
        for _, sock in opened[-10:]:
            sock.close()
        opened = opened[:-10]

        body, headers = _signed_help(seeded)
        started = time.monotonic()
        response = httpx.post(server.events_url, content=body, headers=headers, timeout=10)
        elapsed = time.monotonic() - started
        assert response.status_code == 200, response.text
        assert "/scale-check help" in response.text
        assert elapsed < 3, f"the signed request took {elapsed:.1f} s"

        # Every slow upload is cut off within the documented deadline (plus scheduling slack).
        limit = BODY_DEADLINE + 3
        pending = list(opened)
        while pending:
            now = time.monotonic()
            pending = [(t, s) for t, s in pending if not _closed(s)]
            overdue = [t for t, _ in pending if now - t > limit]
            assert not overdue, f"{len(overdue)} slow uploads still open after {limit:g} s"
            time.sleep(0.2)
        headerless.settimeout(max(0.1, headerless_at + HEADER_DEADLINE + 3 - time.monotonic()))
        assert headerless.recv(10) == b""  # closed after the header deadline
    finally:
        for _, sock in opened:
            sock.close()
        headerless.close()
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    time.sleep(0.3)
    lines = server.stop()
    assert not [line for line in lines if re.search(r"\bERROR\b|Traceback", line)], "\n".join(lines[-40:])
    assert any("request cut off" in line and "408" not in line for line in lines)
    assert any("client went away" in line for line in lines)
    assert any("closed to make room" in line for line in lines)
