"""scalebot in local mode for the console's tests: a real uvicorn server, the embedded workspace, Chromium.

`LocalBot` serves `create_app` with no Slack credentials (so `bot.local` wires the embedded workspace and
the console in) on a loopback port in a thread, with its lifespan; `restart()` keeps the port and the
database, as a second `scalebot serve` would. `launch_chromium` starts Debian's Chromium headless.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.local import LocalWorkspace, serve_at
from bot.settings import Settings
from localslack import Store
from tests.conftest import RECORDED_METHODS, remember_secret
from tests.harness import BotServer, wait_until

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


class LocalBot(BotServer):
    """`scalebot serve` in local mode, in this process; start, stop and restart on one port and database."""

    def __init__(
        self, database_url: str, setup: Setup | None = None, *, seed_history: bool = False, **create: Any
    ) -> None:
        super().__init__(local_settings(database_url), **{"run_scheduler": False, **create})
        self.database_url = database_url
        self.setup = setup
        # The first run's calibration history (people acting in #search) is off unless a test asks for
        # it, so the console's tests see a quiet workspace.
        self.seed_history = seed_history
        self.http = httpx.Client(base_url=self.url, timeout=10)

    @property
    def local(self) -> LocalWorkspace:
        return self.state.extras["local"]  # type: ignore[no-any-return]

    @property
    def store(self) -> Store:
        return self.local.store

    def build_app(self) -> FastAPI:
        app = super().build_app()
        serve_at(app, "127.0.0.1", self.port)
        app.state.scalebot.extras["local"].seed_history = self.seed_history
        if self.setup is not None:
            self.setup(app)
        return app

    def started(self) -> None:
        # The first run plans a sample launch through the command once the server answers; tests start
        # from the workspace as it is once that is done.
        wait_until(lambda: self.local.sample_launch_planned, timeout=30, message="the sample launch")
        with self.store.lock:
            tokens = [t.token for t in self.store.tokens.values()]
        remember_secret(self.state.signing_secret, *tokens)

    def stop(self) -> None:
        if self.app is not None and self._server is not None:
            with self.store.lock:
                RECORDED_METHODS.update(c.method for c in self.store.calls)
        super().stop()

    def restart(self) -> LocalBot:
        self.stop()
        self.start()
        return self

    def close(self) -> None:
        self.stop()
        self.http.close()

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


wait_for = wait_until  # the test bed's polling helper, under the name these tests use


def chromium_or_skip() -> str:
    """Debian's Chromium, or skip (locally) / fail (CI=true) saying what to install."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    reason = f"{CHROMIUM} not found: apt-get install chromium (./scripts/test does it as root)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
