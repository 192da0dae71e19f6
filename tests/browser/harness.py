"""scalebot in local mode for the console's tests: a real uvicorn server, the embedded workspace, Chromium.

`LocalBot` serves `create_app` with no Slack credentials (so `bot.local` wires the embedded workspace and
the console in) on a loopback port in a thread, with its lifespan; `restart()` keeps the port and the
database, as a second `scalebot serve` would. `launch_chromium` starts Debian's Chromium headless.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from bot.app import AppState, create_app
from bot.local import LocalWorkspace, serve_at
from bot.settings import Settings
from localslack import Store
from tests.conftest import RECORDED_METHODS, remember_secret

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

LEAD, MANAGER, MEMBER, ADMIN = "U0LEAD", "U0MANAGER", "U0MEMBER", "U0ADMIN"
PAYMENTS, SEARCH, MANAGERS = "C0PAYMENTS", "C0SEARCH", "C0ENGMGRS"

Setup = Callable[[FastAPI], object]


def local_settings(database_url: str) -> Settings:
    """Local mode whatever the environment holds: every Slack credential unset."""
    return Settings(
        slack_bot_token=None,
        slack_signing_secret=None,
        slack_app_token=None,
        slack_client_id=None,
        slack_client_secret=None,
        redis_url=None,
        scalebot_config=None,
        database_url=database_url,
        log_level="DEBUG",
    )


class LocalBot:
    """`scalebot serve` in local mode, in this process; start, stop and restart on one port and database."""

    def __init__(self, database_url: str, setup: Setup | None = None, **create: Any) -> None:
        self.database_url = database_url
        self.setup = setup
        self.create = {"run_scheduler": False, **create}
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app: FastAPI | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.http = httpx.Client(base_url=self.url, timeout=10)

    @property
    def state(self) -> AppState:
        assert self.app is not None
        return self.app.state.scalebot

    @property
    def local(self) -> LocalWorkspace:
        return self.state.extras["local"]

    @property
    def store(self) -> Store:
        return self.local.store

    def start(self, timeout: float = 15.0) -> LocalBot:
        app = create_app(local_settings(self.database_url), **self.create)
        serve_at(app, "127.0.0.1", self.port)
        if self.setup is not None:
            self.setup(app)

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
        self._thread = threading.Thread(target=self._server.run, name=f"local@{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("scalebot did not start in local mode; see the captured log")
            time.sleep(0.01)
        with self.store.lock:
            tokens = [t.token for t in self.store.tokens.values()]
        remember_secret(self.state.signing_secret, *tokens)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            with self.store.lock:
                RECORDED_METHODS.update(c.method for c in self.store.calls)
            self._server.should_exit = True
            self._thread.join(timeout=15)
            assert not self._thread.is_alive(), "scalebot did not stop"
        self._server = self._thread = None
        self.loop = None

    def restart(self) -> LocalBot:
        self.stop()
        return self.start()

    def close(self) -> None:
        self.stop()
        self.http.close()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def db(self, fn: Any, *args: Any) -> Any:
        return self.state.rt.db.call(fn, *args)

    # -- the console's own endpoints, as its page calls them --------------------------------------

    def act(self, kind: str, user: str, **fields: Any) -> dict[str, Any]:
        response = self.http.post(
            "/console/api/act", json={"kind": kind, "user": user, **fields}, headers={"X-Console": "1"}
        )
        response.raise_for_status()
        return response.json()

    def page_state(self, user: str, channel: str = PAYMENTS, **params: str) -> dict[str, Any]:
        response = self.http.get("/console/api/state", params={"user": user, "channel": channel, **params})
        response.raise_for_status()
        return response.json()


def wait_for(predicate: Callable[[], T], timeout: float = 5.0, message: str = "") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or "condition not met in time")
        time.sleep(0.02)


def chromium_or_skip() -> str:
    """Debian's Chromium, or skip (locally) / fail (CI=true) saying what to install."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    reason = f"{CHROMIUM} not found: apt-get install chromium (./scripts/test does it as root)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
