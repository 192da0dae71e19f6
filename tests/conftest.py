"""Shared fixtures: the Slack fake, the seeded workspace, the bot in a real server, the log capture.

Every log line of the whole run goes through the product's own redacting handler into one file, and
every secret a test configures is remembered, so the run-wide checks (tests/run_wide.py, when the
session finishes) can prove none of them leaked.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.logs import make_handler
from localslack import Actor, FakeSlack
from tests.harness import SIGNING_SECRET, BotServer, Seeded, bot_settings, seed_workspace
from tests.helpers.citations import cited_files, sent_text

pytest_plugins = ["tests.fixtures_servers", "tests.run_wide"]

LOG_DIR_ENV = "SCALEBOT_TEST_LOG_DIR"
CONFIGURED_SECRETS: set[str] = {SIGNING_SECRET}
# Every Web API method the bot called on the fake during the run (for the manifest's scopes).
RECORDED_METHODS: set[str] = set()


def remember_secret(*values: str | None) -> None:
    """Note a secret the test configured; no log line of the run may contain it."""
    CONFIGURED_SECRETS.update(v for v in values if v)


def _utf8_safe(value: Any) -> Any:
    """`value` with every lone surrogate in its strings written as `\\udXXX` (as the log handler does)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {k: _utf8_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_utf8_safe(v) for v in value)
    return value


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(config: pytest.Config, report: Any) -> Generator[None, Any, Any]:
    # An xdist worker sends each report to the controller as UTF-8; a test that logs a lone surrogate
    # on purpose (test_log_injection) would otherwise crash the worker instead of reporting.
    data = yield
    return _utf8_safe(data) if hasattr(config, "workerinput") else data


@pytest.fixture(scope="session", autouse=True)
def whole_run_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Capture every log record of the run at DEBUG through the product's redacting handler."""
    log_dir = tmp_path_factory.mktemp("logs")
    os.environ[LOG_DIR_ENV] = str(log_dir)  # subprocesses write their logs here
    path = log_dir / "tests.log"
    stream = open(path, "w", encoding="utf-8")  # noqa: SIM115
    handler = make_handler("text", stream)
    handler.set_name("test-capture")
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield log_dir
    root.removeHandler(handler)
    stream.close()


@pytest.fixture(autouse=True)
def _debug_level() -> Iterator[None]:
    # A test that calls configure_logging() must not turn DEBUG capture off for the rest of the run.
    yield
    logging.getLogger().setLevel(logging.DEBUG)


@pytest.fixture(scope="session")
def fake_session() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def fake(fake_session: FakeSlack) -> Iterator[FakeSlack]:
    fake_session.reset()
    yield fake_session
    RECORDED_METHODS.update(call.method for call in fake_session.calls())
    state = fake_session.snapshot()
    remember_secret(*(t["token"] for t in state["tokens"]), *(c["code"] for c in state["oauth_codes"]))
    # Whatever a test drove, nothing the bot sent cites a seed by its file name (users read the title).
    cited = cited_files(sent_text(fake_session.store))
    assert not cited, "a seed file name reached Slack:\n" + "\n".join(cited)


@pytest.fixture
def seeded(fake: FakeSlack) -> Seeded:
    s = seed_workspace(fake)
    remember_secret(s.bot_token)
    return s


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite by default; suites that run on PostgreSQL too pass `database_url=` to `make_bot`."""
    return f"sqlite:///{tmp_path}/scalebot.sqlite3"


BotFactory = Callable[..., BotServer]


@pytest.fixture
def make_bot(fake: FakeSlack, seeded: Seeded, database_url: str) -> Iterator[BotFactory]:
    """`make_bot(**settings_overrides, config=…, clock=…, run_scheduler=…)` → a started bot."""
    started: list[BotServer] = []

    def factory(
        *, config: Any = None, clock: Any = None, run_scheduler: bool = False, **overrides: Any
    ) -> BotServer:
        settings = bot_settings(fake, seeded, overrides.pop("database_url", database_url), **overrides)
        server = BotServer(settings, config=config, clock=clock, run_scheduler=run_scheduler)
        fake.configure_app(request_url=server.events_url, signing_secret=SIGNING_SECRET)
        server.start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def bot(make_bot: BotFactory) -> BotServer:
    return make_bot()


@pytest.fixture
def actor(fake: FakeSlack, bot: BotServer) -> Actor:
    return fake.actor()
