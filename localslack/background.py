"""Serving an ASGI app on a loopback port from a background thread (the fake Slack, or the bot in tests)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


class BackgroundServer:
    """Any ASGI app served by uvicorn on a loopback port, in a daemon thread with its own event loop.

    The port is bound at construction, so `url` is known before the app is built (FakeSlack needs it
    for absolute URLs); the bot's test suite uses the same class to serve the bot for the actor.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if not host.startswith("127.") and host != "localhost":
            raise ValueError("only the loopback interface is allowed")
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.url = f"http://{host}:{self._sock.getsockname()[1]}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, app: Any, timeout: float = 10.0) -> BackgroundServer:
        # A stalled request (stall_next) must not hold up shutdown for long.
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            loop="asyncio",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name=f"asgi@{self.url}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server for {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()
        self._server = self._thread = None

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
