"""The bot under test: the real application in a real uvicorn server on a loopback port, in a thread.

`BotServer` runs `bot.app.create_app` with its lifespan (migrations, scheduler), so what tests reach over
HTTP is what `scalebot serve` serves. `seed_workspace` gives every test the same small workspace in the
Slack fake: a payments team channel with a tech lead, a manager, a member and an admin.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

from bot.app import AppState, create_app
from bot.config import AppConfig
from bot.runtime import Runtime
from bot.settings import Settings
from common.clock import Clock
from localslack import FakeSlack, Workspace

T = TypeVar("T")

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


class BotServer:
    """`create_app(settings)` served on 127.0.0.1; start, stop and restart on the same port."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        config: AppConfig | None = None,
        run_scheduler: bool = False,
        scheduler_options: dict[str, Any] | None = None,
        process_before_response: bool = True,
    ) -> None:
        self.settings = settings
        self.clock, self.config = clock, config
        self.run_scheduler = run_scheduler
        self.scheduler_options = scheduler_options or {"max_wait": 0.05, "sweep_every": 3600}
        self.process_before_response = process_before_response
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app: FastAPI | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    @property
    def state(self) -> AppState:
        assert self.app is not None
        return self.app.state.scalebot  # type: ignore[no-any-return]

    @property
    def rt(self) -> Runtime:
        return self.state.rt

    def build_app(self) -> FastAPI:
        """The application this server serves (a subclass may wrap it)."""
        return create_app(
            self.settings,
            clock=self.clock,
            config=self.config,
            run_scheduler=self.run_scheduler,
            scheduler_options=self.scheduler_options,
            process_before_response=self.process_before_response,
        )

    def started(self) -> None:
        """Called once the server answers (a subclass may record what it needs)."""

    def start(self, timeout: float = 15.0) -> BotServer:
        app = self.build_app()

        async def remember_loop(_: FastAPI) -> None:
            self.loop = asyncio.get_running_loop()

        app.state.startup_hooks.append(remember_loop)
        self.app = app
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            lifespan="on",
            loop="asyncio",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"bot@{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the bot did not start; see the captured log")
            time.sleep(0.01)
        self.started()
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
            assert not self._thread.is_alive(), "the bot did not stop"
        self._server = self._thread = None
        self.loop = None

    def restart(self) -> BotServer:
        self.stop()
        return self.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run a coroutine on the bot's event loop (to read what it stored, as the bot would)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def db(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a storage function in a session, from the test thread."""
        return self.rt.db.call(fn, *args, **kwargs)

    def __enter__(self) -> BotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class Seeded:
    """The workspace every test starts with."""

    workspace: Workspace
    team_id: str = "T0001"
    channel: str = "C0PAYMENTS"
    other_channel: str = "C0SEARCH"
    lead: str = "U0LEAD1"
    lead2: str = "U0LEAD2"
    lead3: str = "U0LEAD3"
    manager: str = "U0MGR1"
    member: str = "U0MEMBER1"
    admin: str = "U0ADMIN1"
    outsider: str = "U0OUTSIDE1"

    @property
    def bot_token(self) -> str:
        return self.workspace.bot_token


def seed_workspace(fake: FakeSlack, team_id: str = "T0001", name: str = "Acme") -> Seeded:
    ws = fake.add_workspace(team_id=team_id, name=name, domain=name.lower())
    s = Seeded(workspace=ws, team_id=team_id)
    fake.add_user(team_id, s.lead, "ana", real_name="Ana Lead", tz="Europe/Berlin")
    fake.add_user(team_id, s.lead2, "bo", real_name="Bo Lead", tz="America/New_York")
    fake.add_user(team_id, s.lead3, "chen", real_name="Chen Lead", tz="Asia/Tokyo")
    fake.add_user(team_id, s.manager, "maria", real_name="Maria Manager", tz="Europe/London")
    fake.add_user(team_id, s.member, "sam", real_name="Sam Member", tz="Europe/Berlin")
    fake.add_user(team_id, s.admin, "root", real_name="Ada Admin", tz="UTC", is_admin=True)
    fake.add_user(team_id, s.outsider, "olly", real_name="Olly Outside", tz="UTC")
    members = [s.lead, s.lead2, s.lead3, s.manager, s.member, s.admin]
    fake.add_channel(team_id, s.channel, "payments", members=members)
    fake.add_channel(team_id, s.other_channel, "search", members=members)
    return s


def bot_settings(fake: FakeSlack, seeded: Seeded, database_url: str, **overrides: Any) -> Settings:
    """Single-workspace HTTP mode against the fake."""
    values: dict[str, Any] = {
        "slack_bot_token": seeded.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.api_url,
        "database_url": database_url,
        "log_level": "DEBUG",
    }
    values.update(overrides)
    return Settings(**values)


def wait_until(predicate: Any, timeout: float = 5.0, interval: float = 0.02, message: str = "") -> Any:
    """Poll until `predicate()` is truthy (work after the ack is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or "condition not met in time")
        time.sleep(interval)
