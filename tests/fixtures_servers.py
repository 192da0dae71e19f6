"""Pytest fixtures for the real servers of ``tests/servers.py`` (loaded by ``tests/conftest.py``).

==========================  =========  ===========================================================
fixture                     scope      what
==========================  =========  ===========================================================
``redis_server_session``    session    one :class:`RedisServer` for the run (do not stop it)
``redis_server``            function   that server, started if a test stopped it, flushed
``redis_url``               function   ``redis_server.url``
``postgres_server_session`` session    one :class:`PostgresServer` for the run (do not stop it)
``postgres_server``         function   that server, started if a test stopped it
``pg_url``                  function   SQLAlchemy URL of a fresh empty database, dropped after
``prometheus_factory``      function   ``factory(openmetrics_text_or_writer) -> PrometheusServer``
                                       (backfilled and started; all stopped after the test)
``alertmanager_factory``    function   ``factory(webhook_url, token) -> AlertmanagerServer``
                                       (started; all stopped after the test)
==========================  =========  ===========================================================

A test may ``stop()`` and ``start()`` the function-scoped servers; the next test gets them running
again. Tests using these fixtures get the ``redis`` / ``postgres`` / ``prometheus`` /
``alertmanager`` markers.

If a binary is missing the test is skipped with what to install, or fails when ``CI=true``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import pytest

from tests.servers import (
    AlertmanagerServer,
    BinaryNotFound,
    OpenMetricsWriter,
    PostgresServer,
    PrometheusServer,
    RedisServer,
)

PrometheusFactory = Callable[..., PrometheusServer]
AlertmanagerFactory = Callable[..., AlertmanagerServer]

_MARKERS = {
    "redis": {"redis_server", "redis_server_session", "redis_url"},
    "postgres": {"postgres_server", "postgres_server_session", "pg_url"},
    "prometheus": {"prometheus_factory"},
    "alertmanager": {"alertmanager_factory"},
}


def missing_binary(reason: str) -> NoReturn:
    """Skip (locally) or fail (``CI=true``) the current test because a binary is missing."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in _MARKERS.items():
            if names & fixtures:
                item.add_marker(getattr(pytest.mark, marker))


# Redis ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server_session() -> Iterator[RedisServer]:
    try:
        server = RedisServer()
    except BinaryNotFound as exc:
        missing_binary(str(exc))
    with server:
        yield server


@pytest.fixture
def redis_server(redis_server_session: RedisServer) -> RedisServer:
    redis_server_session.start()  # no-op unless a previous test stopped it
    redis_server_session.flush()
    return redis_server_session


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


# PostgreSQL ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server_session() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
    except BinaryNotFound as exc:
        missing_binary(str(exc))
    with server:
        yield server


@pytest.fixture
def postgres_server(postgres_server_session: PostgresServer) -> PostgresServer:
    return postgres_server_session.start()  # no-op unless a previous test stopped it


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    url = postgres_server.create_database()
    yield url
    postgres_server.start()  # the test may have stopped it
    postgres_server.drop_database(url)


# Prometheus ----------------------------------------------------------------------------------------


@pytest.fixture
def prometheus_factory() -> Iterator[PrometheusFactory]:
    started: list[PrometheusServer] = []

    def factory(openmetrics: str | OpenMetricsWriter, **kwargs: Any) -> PrometheusServer:
        try:
            server = PrometheusServer(**kwargs)
        except BinaryNotFound as exc:
            missing_binary(str(exc))
        started.append(server)
        server.backfill(openmetrics)
        return server.start()

    yield factory
    for server in started:
        server.close()


# Alertmanager --------------------------------------------------------------------------------------


@pytest.fixture
def alertmanager_factory() -> Iterator[AlertmanagerFactory]:
    started: list[AlertmanagerServer] = []

    def factory(webhook_url: str, token: str, **kwargs: Any) -> AlertmanagerServer:
        try:
            server = AlertmanagerServer(webhook_url, token, **kwargs)
        except BinaryNotFound as exc:
            missing_binary(str(exc))
        started.append(server)
        return server.start()

    yield factory
    for server in started:
        server.close()
