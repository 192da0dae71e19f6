"""The demo source's HTTP API: Prometheus's `/api/v1/query` and `/api/v1/query_range` (GET, or POST with
a form body), with Prometheus's success, error and warning shapes, behind a bearer token as an auth proxy
in front of a real Prometheus would be."""

from __future__ import annotations

import asyncio
import hmac
import math
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from demometrics import history
from demometrics.engine import Engine, format_value, parse
from demometrics.values import Matrix, QueryError, Scalar, Str, Value, Vector

MAX_POINTS = 11_000
STATUS = {"bad_data": 400, "execution": 422, "timeout": 503, "internal": 500}
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_UNITS_MS = (365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1)


class DemoSource:
    """A few weeks of generated history and the engine over it, built on first use and rebuilt when the
    wall clock passes the generated day ahead. `clock` returns Unix seconds."""

    def __init__(self, token: str, clock: Callable[[], float] = time.time) -> None:
        self.token = token
        self.clock = clock
        self._engine: Engine | None = None
        self._built_until = 0
        self._lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="demometrics")

    def engine(self) -> Engine:
        now_ms = int(self.clock() * 1000)
        with self._lock:
            if self._engine is None or now_ms >= self._built_until:
                self._engine = Engine(history.generate(now_ms))
                self._built_until = now_ms + history.DAY_MS - 60_000
            return self._engine

    def answer(self, params: dict[str, str], ranged: bool) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) for one query."""
        try:
            now_ms = int(self.clock() * 1000)
            query = params.get("query")
            if not query:
                raise QueryError('invalid parameter "query": query must not be empty')
            times = _range_times(params) if ranged else np.array([_time(params, "time", now_ms)], np.int64)
            expr = parse(query)
            engine = self.engine()
            value = engine.evaluate(expr, times, until_ms=now_ms)
            data = _render(value, times, ranged, len(times))
        except QueryError as exc:
            return STATUS.get(exc.kind, 400), {"status": "error", "errorType": exc.kind, "error": str(exc)}
        body: dict[str, Any] = {"status": "success", "data": data}
        if int(times.min()) - _lookback_hint(query) < engine.first_ms:
            start = datetime.fromtimestamp(engine.first_ms / 1000).astimezone().isoformat(timespec="seconds")
            body["warnings"] = [
                f"the demo source's generated history starts at {start}; earlier points are empty"
            ]
        return 200, body


def _lookback_hint(query: str) -> int:
    """The longest range written in the query, in ms (for the history warning)."""
    longest = 0
    for match in re.finditer(r"\[([0-9a-z]+)(?::[0-9a-z]*)?\]", query):
        longest = max(longest, _duration_ms(match.group(1)) or 0)
    return longest


def _duration_ms(text: str) -> int | None:
    match = _DURATION.match(text)
    if not text or match is None:
        return None
    return sum(int(g) * unit for g, unit in zip(match.groups(), _UNITS_MS, strict=True) if g)


def _seconds(raw: str, what: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise QueryError(
                f'invalid parameter "{what}": cannot parse "{raw}" to a valid timestamp'
            ) from None
    if math.isnan(value) or math.isinf(value):
        raise QueryError(f'invalid parameter "{what}": cannot parse "{raw}" to a valid timestamp')
    return value


def _time(params: dict[str, str], what: str, default_ms: int | None = None) -> int:
    raw = params.get(what)
    if raw is None or raw == "":
        if default_ms is None:
            raise QueryError(f'invalid parameter "{what}": cannot parse "" to a valid timestamp')
        return default_ms
    return round(_seconds(raw, what) * 1000)


def _step_ms(raw: str | None) -> int:
    if not raw:
        raise QueryError('invalid parameter "step": cannot parse "" to a valid duration')
    try:
        seconds = float(raw)
        ms = round(seconds * 1000) if math.isfinite(seconds) else None
    except ValueError:
        ms = _duration_ms(raw)
    if ms is None:
        raise QueryError(f'invalid parameter "step": cannot parse "{raw}" to a valid duration')
    if ms <= 0:
        raise QueryError(
            "zero or negative query resolution step widths are not accepted. Try a positive integer"
        )
    return ms


def _range_times(params: dict[str, str]) -> np.ndarray:
    start, end = _time(params, "start"), _time(params, "end")
    if end < start:
        raise QueryError('invalid parameter "end": end timestamp must not be before start time')
    step = _step_ms(params.get("step"))
    if (end - start) / step > MAX_POINTS:
        raise QueryError(
            "exceeded maximum resolution of 11,000 points per timeseries. "
            "Try decreasing the query resolution (?step=XX)"
        )
    return np.arange(start, end + 1, step, dtype=np.int64)


def _render(value: Value, times: np.ndarray, ranged: bool, size: int) -> dict[str, Any]:
    seconds = [int(t) / 1000 for t in times]
    if isinstance(value, Str):
        if ranged:
            raise QueryError(
                'invalid expression type "string" for range query, must be Scalar or instant Vector'
            )
        return {"resultType": "string", "result": [seconds[0], value.value]}
    if isinstance(value, Matrix):
        if ranged:
            raise QueryError(
                'invalid expression type "range vector" for range query, must be Scalar or instant Vector'
            )
        result = []
        for s in value.series:
            lo, hi = int(s.lo[0]), int(s.hi[0])
            if hi > lo:
                points = [
                    [int(t) / 1000, format_value(float(v))]
                    for t, v in zip(s.t[lo:hi], s.v[lo:hi], strict=True)
                ]
                result.append({"metric": dict(s.labels), "values": points})
        return {"resultType": "matrix", "result": result}
    if isinstance(value, Scalar):
        if not ranged:
            return {"resultType": "scalar", "result": [seconds[0], format_value(float(value.values[0]))]}
        points = [[seconds[i], format_value(float(v))] for i, v in enumerate(value.values)]
        return {"resultType": "matrix", "result": [{"metric": {}, "values": points}]}
    assert isinstance(value, Vector)
    if not ranged:
        vector = [
            {"metric": dict(r.labels), "value": [seconds[0], format_value(float(r.values[0]))]}
            for r in value.rows
            if not np.isnan(r.values[0])
        ]
        return {"resultType": "vector", "result": vector}
    matrix = []
    for r in sorted(value.rows, key=lambda r: r.labels):
        points = [[seconds[i], format_value(float(v))] for i, v in enumerate(r.values) if not np.isnan(v)]
        if points:
            matrix.append({"metric": dict(r.labels), "values": points})
    return {"resultType": "matrix", "result": matrix}


def create_router(source: DemoSource) -> APIRouter:
    """The routes, to mount under a prefix (local mode mounts them at `/demo-prometheus`)."""
    router = APIRouter()

    async def handle(request: Request, ranged: bool) -> Response:
        sent = request.headers.get("authorization", "")
        expected = f"Bearer {source.token}"
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            return PlainTextResponse(
                "Unauthorized\n", status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        params = {k: v for k, v in request.query_params.items()}
        if request.method == "POST":
            body = (await request.body()).decode("utf-8", "replace")
            params.update({k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()})
        loop = asyncio.get_running_loop()
        status, payload = await loop.run_in_executor(source.pool, source.answer, params, ranged)
        return JSONResponse(payload, status_code=status)

    @router.api_route("/api/v1/query", methods=["GET", "POST"])
    async def query(request: Request) -> Response:
        return await handle(request, ranged=False)

    @router.api_route("/api/v1/query_range", methods=["GET", "POST"])
    async def query_range(request: Request) -> Response:
        return await handle(request, ranged=True)

    return router
