"""Exactly once through a kill -9 of the poster midway: a manager's digest whose post reached Slack but
was never recorded is found again, not sent twice; a canvas created but not recorded is found in the
channel's properties, never created a second time, and its content is written by the run that follows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.digest import service, slack_calls
from bot.digest.model import Week
from bot.runtime import Runtime, build_runtime
from common.clock import ManualClock
from localslack import FakeSlack
from storage import digest as repo
from storage import digest_canvas, installations, migrate
from tests.conftest import LOG_DIR_ENV
from tests.digest_support import parents, part, team_messages
from tests.harness import SIGNING_SECRET, Seeded

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DIGEST = "C0DIGEST"
TEAMS = 30
MANAGERS = ["U0MGR00", "U0MGR01", "U0MGR02"]
STALL = 3.0


@pytest.fixture(autouse=True)
def quick_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack_calls, "POST_INTERVAL", 0.01)


@pytest.fixture
def world(fake: FakeSlack, seeded: Seeded, tmp_path: Path) -> tuple[dict[str, str], str]:
    for user in MANAGERS:
        fake.add_user(seeded.team_id, user, user.lower(), tz="UTC")
    fake.add_channel(seeded.team_id, DIGEST, "scale-digest", members=MANAGERS)
    config = {
        "teams": [
            {"name": f"Team {i:02d}", "channel": f"C{1000000 + i}", "managers": [MANAGERS[i % 3]]}
            for i in range(TEAMS)
        ],
        "digest": {"channel": DIGEST, "timezone": "UTC", "reply_cap": 20},
    }
    config_file = tmp_path / "scalebot.yaml"
    config_file.write_text(yaml.safe_dump(config))
    db_url = f"sqlite:///{tmp_path}/digest.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "SLACK_API_URL": fake.api_url,
        "SLACK_BOT_TOKEN": seeded.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SCALEBOT_CONFIG": str(config_file),
        "LOG_LEVEL": "INFO",
    }
    for name in ("REDIS_URL", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        env.pop(name, None)
    rt = runtime(env, datetime.now(UTC))
    migrate.upgrade(rt.db)
    rt.db.call(
        installations.save_installation,
        installations.InstallationRow(
            workspace_id=seeded.team_id, bot_token=seeded.bot_token, installed_at=NOW - timedelta(days=30)
        ),
    )
    rt.db.close()
    return env, db_url


def runtime(env: dict[str, str], now: datetime) -> Runtime:
    from bot.settings import load_settings

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return build_runtime(load_settings(), clock=ManualClock(now))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not in time: {what}")
        time.sleep(0.02)


def start_poster(env: dict[str, str]) -> subprocess.Popen[str]:
    log = open(Path(os.environ[LOG_DIR_ENV]) / "digest-poster.log", "a")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.digest_poster", NOW.isoformat()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def rerun(env: dict[str, str]) -> Any:
    """The run after the kill, in this process, once the dead poster's lease has run out."""
    import asyncio

    rt = runtime(env, datetime.now(UTC) + timedelta(minutes=5))

    async def send() -> Any:
        try:
            return await service.send_week(rt, "T0001", Week.of(NOW, "UTC"), NOW, reason="now")
        finally:
            await rt.close()

    return asyncio.run(send())


def own_digests(fake: FakeSlack) -> Counter[str]:
    ims = {
        c.args["channel"] for c in fake.calls("chat.postMessage") if c.args.get("channel", "").startswith("D")
    }
    return Counter(
        m["metadata"]["event_payload"]["key"] for ch in ims for m in fake.messages(ch) if part(m) == "manager"
    )


def test_a_manager_digest_posted_by_a_killed_poster_is_found_again_not_sent_twice(
    fake: FakeSlack, world: tuple[dict[str, str], str]
) -> None:
    env, _ = world
    # chat.postMessage: the parent, 20 replies, then the managers' digests; the first of those stalls.
    fake.stall_next("chat.postMessage", STALL, after=21)
    proc = start_poster(env)
    rt = runtime(env, datetime.now(UTC))

    def in_flight() -> bool:  # its intent stored and its request held by Slack (not merely about to go)
        rows = rt.db.call(repo.posts, "T0001", "2026-W48")
        stored = any(r.kind == "manager" and r.ts is None and r.error is None for r in rows)
        return stored and fake.stalls_left("chat.postMessage") == 0

    try:
        wait(in_flight, 60, "a manager's digest in flight")
    finally:
        kill(proc)
    wait(lambda: sum(own_digests(fake).values()) >= 1, STALL + 5, "the stalled post landing")
    rt.db.close()

    outcome = rerun(env)
    assert own_digests(fake) == Counter({m: 1 for m in MANAGERS})
    assert outcome.managers == len(MANAGERS) - 1  # the one the dead poster sent was found, not sent
    (parent,) = parents(fake, DIGEST)
    assert len(team_messages(fake, DIGEST, parent["ts"])) == 20
    assert any(
        c.method == "conversations.history" and c.args.get("channel", "").startswith("D")
        for c in fake.calls()
    )


def test_a_canvas_created_by_a_killed_poster_is_found_again_never_created_twice(
    fake: FakeSlack, world: tuple[dict[str, str], str]
) -> None:
    env, _ = world
    fake.stall_next("conversations.canvases.create", STALL)
    proc = start_poster(env)
    rt = runtime(env, datetime.now(UTC))

    def creating() -> bool:
        row = rt.db.call(digest_canvas.get_canvas, "T0001")
        stored = row is not None and row.canvas_id is None
        return stored and fake.stalls_left("conversations.canvases.create") == 0

    try:
        wait(creating, 60, "the canvas being created")
    finally:
        kill(proc)
    wait(lambda: len(fake.canvases()) == 1, STALL + 5, "the stalled create landing")
    rt.db.close()

    rerun(env)
    (canvas,) = fake.canvases()
    assert len(fake.calls("conversations.canvases.create")) == 1
    assert canvas.edits == 1  # the content this run wrote, in place
    assert (
        sum(1 for line in canvas.markdown.splitlines() if line.startswith("| Team ") and "![](#C" in line)
        == TEAMS
    )
    rt2 = runtime(env, datetime.now(UTC))
    assert rt2.db.call(digest_canvas.get_canvas, "T0001").canvas_id == canvas.id
    rt2.db.close()
    assert len(parents(fake, DIGEST)) == 1
