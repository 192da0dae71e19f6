"""Limits on what a client may cost the process before it has sent a whole request.

Two layers, both generic so that every inbound endpoint (Slack's, the console's API, webhooks) is
covered, including endpoints added later:

- `RequestLimits`, the outermost ASGI middleware: a request body must arrive whole within
  `BODY_DEADLINE` seconds of its headers (else 408 and the connection is closed) and be at most
  `MAX_BODY_BYTES` (else 413). A client that goes away mid-body costs one INFO line, not a traceback.
- `GuardedHttpProtocol`, the HTTP protocol `scalebot serve` runs: headers must arrive within
  `HEADER_DEADLINE` seconds, and the number of open connections stays below the process's descriptor
  limit (`connection_cap`): at the cap the slowest connection still sending its request (or an idle
  keep-alive one) is closed to make room, so a well-behaved request is always accepted.

docs/operations.md ("Limits") says how these relate to a proxy in front.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.auto import AutoHTTPProtocol

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20  # 1 MiB; Slack's own payloads are far smaller
HEADER_DEADLINE = 5.0  # seconds from connecting (or from the previous answer) to the end of the headers
BODY_DEADLINE = 10.0  # seconds from the end of the headers to the end of the body
# Descriptors kept for what the process itself opens: database and Redis connections, Slack and
# metrics clients, log files, the event loop's own.
DESCRIPTOR_RESERVE = 32


def _soft_limit() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 65536 if soft == resource.RLIM_INFINITY or soft <= 0 else int(soft)


def accept_backlog(soft_limit: int | None = None) -> int:
    """The listen backlog, which is also how many connections the event loop accepts in one go."""
    soft = soft_limit if soft_limit is not None else _soft_limit()
    return max(8, min(128, soft // 16))


def connection_cap(soft_limit: int | None = None) -> int:
    """How many client connections the process keeps open at most, from its descriptor limit.

    Room is kept for the process's own descriptors and for two accept batches: a connection closed to
    make room frees its descriptor on the event loop's next turn, after the next batch is accepted."""
    soft = soft_limit if soft_limit is not None else _soft_limit()
    reserve = max(DESCRIPTOR_RESERVE, soft // 8)
    return max(8, soft - reserve - 2 * accept_backlog(soft))


class _CutOff(Exception):
    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "unknown"


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class RequestLimits:
    """Body size and body deadline for every HTTP request, whatever the endpoint."""

    def __init__(
        self, app: ASGIApp, *, max_body: int = MAX_BODY_BYTES, body_deadline: float = BODY_DEADLINE
    ) -> None:
        self.app, self.max_body, self.body_deadline = app, max_body, body_deadline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            log.info("request refused", extra={"client": _client(scope), "reason": "body too large"})
            await _plain(send, 413, "request body too large")
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_deadline
        received = 0
        body_done = False
        cut: _CutOff | None = None
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, body_done, cut
            if body_done:  # only a disconnect is left to hear about: no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.0))
            except TimeoutError:
                cut = _CutOff(408, f"body not received within {self.body_deadline:g} s")
                raise cut from None
            if message["type"] == "http.disconnect":
                cut = _CutOff(None, "client went away before the end of the body")
                raise cut
            received += len(message.get("body", b""))
            if received > self.max_body:
                cut = _CutOff(413, "body too large")
                raise cut
            if not message.get("more_body", False):
                body_done = True
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if cut is not None:
                return  # whatever the app answers to a cut-off request is dropped: ours goes out
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _CutOff:
            pass
        except Exception:
            if cut is None:
                raise
        if cut is not None:
            log.info(
                "request cut off",
                extra={"client": _client(scope), "path": scope.get("path", ""), "reason": cut.reason},
            )
            if cut.status is not None and not response_started:
                text = "request body too large" if cut.status == 413 else "request body too slow"
                with contextlib.suppress(Exception):  # the client may be gone already
                    await _plain(send, cut.status, text)


class GuardedHttpProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol with a header deadline and a connection cap (see the module doc)."""

    cap: int = connection_cap()
    header_deadline: float = HEADER_DEADLINE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting_since = 0.0
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:
        open_now = [c for c in self.connections if c is not self]
        if len(open_now) >= self.cap and not self._make_room(open_now):
            log.info("connection refused", extra={"reason": f"at the cap of {self.cap} connections"})
            transport.close()
            return
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        if getattr(self, "transport", None) is None:
            return  # refused in connection_made: uvicorn never knew it
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._between_requests() and self._header_timer is None:
            self._arm_header_timer()  # a further request on a kept-alive connection
        super().data_received(data)
        if not self._between_requests():
            self._disarm_header_timer()

    # What the cap and the deadline look at

    def _between_requests(self) -> bool:
        cycle = getattr(self, "cycle", None)
        return cycle is None or bool(cycle.response_complete)

    def _still_sending(self) -> bool:
        """The headers or the body of the current request have not all arrived."""
        cycle = getattr(self, "cycle", None)
        if cycle is None:
            return True
        return bool(cycle.more_body) and not cycle.response_started

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        self._waiting_since = self.loop.time()
        self._header_timer = self.loop.call_later(self.header_deadline, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._between_requests() and not self.transport.is_closing():
            log.info(
                "connection cut off",
                extra={"reason": f"headers not received within {self.header_deadline:g} s"},
            )
            self.transport.close()

    def _make_room(self, others: list[Any]) -> bool:
        """Close an idle keep-alive connection, else the one sending its request the longest."""
        idle = [c for c in others if isinstance(c, GuardedHttpProtocol) and c._idle()]
        sending = [c for c in others if isinstance(c, GuardedHttpProtocol) and c._still_sending()]
        victim = idle[0] if idle else min(sending, key=lambda c: c._waiting_since, default=None)
        if victim is None:
            return False
        log.info(
            "connection closed to make room",
            extra={"reason": f"at the cap of {self.cap} connections", "idle": bool(idle)},
        )
        victim.transport.close()
        victim.connections.discard(victim)  # its connection_lost follows on the next loop turn
        return True

    def _idle(self) -> bool:
        cycle = getattr(self, "cycle", None)
        return cycle is not None and bool(cycle.response_complete)


async def read_limited(request: Request, limit: int) -> bytes | None:
    """The request's body, or None when it is (or declares itself) over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
