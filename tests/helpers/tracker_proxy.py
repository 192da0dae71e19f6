"""A recording proxy in front of a tracker, for the tech-debt import tests.

It records each request (method, path, query, Authorization header, JSON body), can require an
Authorization header (jira820 checks none), and injects faults: an HTTP status, a stall longer than the
bot's timeout, or a page of garbage.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from localslack import BackgroundServer


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str | None
    body: Any = None

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Fault:
    status: int | None = None
    stall: float | None = None
    garbage: bool = False


class RecordingProxy:
    """Forwards to `upstream`, keeping every request for the test to inspect."""

    def __init__(self, upstream: str, require_auth: str | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.require_auth = require_auth
        self.seen: list[Seen] = []
        self.faults: deque[Fault] = deque()
        self._client: httpx.AsyncClient | None = None  # made on the server's loop, reused
        self._server = BackgroundServer()
        self.url = self._server.url
        app = FastAPI()
        app.add_api_route("/{path:path}", self._forward, methods=["GET", "POST"])
        self._server.start(app)

    def fail_next(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]

    def clear(self) -> None:
        self.seen.clear()

    async def _forward(self, request: Request, path: str) -> Response:
        raw = await request.body()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
        self.seen.append(
            Seen(
                request.method,
                request.url.path,
                parse_qs(request.url.query),
                request.headers.get("authorization"),
                body,
            )
        )
        if self.faults:
            fault = self.faults.popleft()
            if fault.stall:
                await asyncio.sleep(fault.stall)
            if fault.status:
                return JSONResponse(
                    {"errorMessages": ["the server is having a bad day"]}, status_code=fault.status
                )
            if fault.garbage:
                return JSONResponse({"unexpected": [1, 2, 3], "issues": "not a list"})
        if self.require_auth is not None and request.headers.get("authorization") != self.require_auth:
            return JSONResponse({"errorMessages": ["You are not authenticated."]}, status_code=401)
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("content-length", "connection")
        }
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=30)
        answer = await self._client.request(
            request.method,
            f"{self.upstream}{request.url.path}",
            params=request.query_params,
            content=raw or None,
            headers=headers,
        )
        keep = {
            k: v
            for k, v in answer.headers.items()
            if k.lower() in ("content-type", "link", "retry-after")
            or k.lower().startswith(("x-ratelimit", "ratelimit"))
        }  # the vendors' rate-limit headers pass through, as they would from the real tracker
        return Response(answer.content, status_code=answer.status_code, headers=keep)

    def stop(self) -> None:
        self._server.stop()


def serve(app: FastAPI) -> BackgroundServer:
    return BackgroundServer().start(app)
