"""Local fakes of monitoring APIs for the metrics tests, on 127.0.0.1 only.

Each fake follows its vendor's documentation, named where the behaviour is built:

- every fake can be switched to rate-limit (`FakeApi.limit_for(seconds)`): until the reset every request
  is answered as the vendor answers a rate limit, with the vendor's headers (Datadog "Rate Limits":
  429 with `X-RateLimit-Limit/-Period/-Remaining/-Reset`, the reset in seconds until it; New Relic
  "NerdGraph rate limits": 429 with an `errors` array; a Prometheus-compatible gateway (Mimir, Grafana
  Cloud): 429 with `Retry-After`);
- each fake keeps one set of data per credential (two organisations on one URL), and refuses a key it
  does not know as the vendor does;
- :class:`FakePrometheus` answers `/api/v1/query` and `/api/v1/query_range` per query with a scripted
  behaviour (a value, NaN, empty, a 500, a stall, a `status: error` body, garbage…); `prom_aligned`
  answers a range the way Thanos's `--query-range.align-range-with-step` (and VictoriaMetrics) do.
- `datadog_server` answers `GET /api/v1/query` with the documented `series[].pointlist` shape, honours a
  `.rollup(avg, <seconds>)` at the end of the query (buckets aligned to the interval, stamped with their
  start) and refuses a request without the right `DD-API-KEY` / `DD-APPLICATION-KEY` (403).
- `newrelic_server` answers NerdGraph `POST /graphql` with `data.actor.account.nrql.results` and refuses a
  request without the right `API-Key`; `nr_rows` answers an aggregate both plain and with `TIMESERIES`.

Every request is recorded (method, path, query, headers, JSON body, wall-clock time) so tests check
what the bot sent, with which credentials, and when.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None
    at: float = field(default_factory=time.time)  # when it arrived (wall clock, as vendors reset)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes sent as they are
    content_type: str = "application/json"
    stall: float = 0.0  # seconds to wait before answering
    headers: dict[str, str] = field(default_factory=dict)


Responder = Callable[[Recorded], Reply]
# How a vendor answers a rate-limited request, given the seconds until its reset and the reset's epoch.
LimitReply = Callable[[float, float], Reply]


def _retry_after_429(remaining: float, reset: float) -> Reply:
    """A gateway in front of a Prometheus API (Mimir, Cortex, Grafana Cloud): 429 and Retry-After."""
    return Reply(429, b"too many requests", "text/plain", headers={"Retry-After": str(math.ceil(remaining))})


class FakeApi:
    """A threaded HTTP server whose answers come from `respond(request) -> Reply`.

    `limit_for(seconds)` makes it answer every request with `limit_reply` until the reset; a request
    sent before the reset is refused again with the same reset (Jira's "Rate limiting": a request re-sent
    before the period expires fails again)."""

    def __init__(self, respond: Responder, limit_reply: LimitReply = _retry_after_429) -> None:
        self.respond = respond
        self.limit_reply = limit_reply
        self.limited_until = 0.0
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep the test output clean
                return

            def _handle(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                request = Recorded(
                    self.command,
                    url.path,
                    {k: v[-1] for k, v in parse_qs(url.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with fake._lock:
                    fake.requests.append(request)
                    until = fake.limited_until
                if request.at < until:
                    reply = fake.limit_reply(until - request.at, until)
                else:
                    reply = fake.respond(request)
                if reply.stall:
                    time.sleep(reply.stall)
                data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = _handle
            do_POST = _handle

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # a burst of connects must not overflow the backlog (1 s SYN retry)

        self.server = Server((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://{HOST}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sent(self, path: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def limit_for(self, seconds: float) -> float:
        """Rate-limit every request for the next `seconds`; returns the reset (epoch seconds)."""
        with self._lock:
            self.limited_until = time.time() + seconds
            return self.limited_until


# --- Prometheus --------------------------------------------------------------------------------

Behaviour = Callable[[Recorded], Reply]


def prom_value(value: str | float) -> Behaviour:
    """A vector (instant) or matrix (range, a point at every step) whose value is `value` ("NaN"…)."""

    def reply(req: Recorded) -> Reply:
        text = value if isinstance(value, str) else repr(float(value))
        if req.path.endswith("query_range"):
            start, end, step = float(req.query["start"]), float(req.query["end"]), float(req.query["step"])
            n = round((end - start) / step)
            values = [[start + i * step, text] for i in range(n + 1)]
            result: Any = [{"metric": {}, "values": values}]
            return Reply(body={"status": "success", "data": {"resultType": "matrix", "result": result}})
        at = float(req.query["time"])
        result = [{"metric": {}, "value": [at, text]}]
        return Reply(body={"status": "success", "data": {"resultType": "vector", "result": result}})

    return reply


def prom_aligned(value_at: Callable[[float], float]) -> Behaviour:
    """A query frontend that aligns a range to its step (Thanos `--query-range.align-range-with-step`,
    VictoriaMetrics): start and end are floored to multiples of the step, so a 1-day range evaluated at
    12:00 has its points at midnight. An instant query answers `value_at(time)`."""

    def reply(req: Recorded) -> Reply:
        if req.path.endswith("query_range"):
            step = float(req.query["step"])
            start = float(req.query["start"]) // step * step
            end = float(req.query["end"]) // step * step
            values = [
                [start + i * step, repr(value_at(start + i * step))]
                for i in range(round((end - start) / step) + 1)
            ]
            result: Any = [{"metric": {}, "values": values}]
            return Reply(body={"status": "success", "data": {"resultType": "matrix", "result": result}})
        at = float(req.query["time"])
        result = [{"metric": {}, "value": [at, repr(value_at(at))]}]
        return Reply(body={"status": "success", "data": {"resultType": "vector", "result": result}})

    return reply


def prom_body(
    body: Any, status: int = 200, stall: float = 0.0, content_type: str = "application/json"
) -> Behaviour:
    return lambda req: Reply(status, body, content_type, stall)


def prom_empty() -> Behaviour:
    def reply(req: Recorded) -> Reply:
        kind = "matrix" if req.path.endswith("query_range") else "vector"
        return Reply(body={"status": "success", "data": {"resultType": kind, "result": []}})

    return reply


def prom_stall(seconds: float, then: Behaviour) -> Behaviour:
    def reply(req: Recorded) -> Reply:
        answer = then(req)
        answer.stall = seconds
        return answer

    return reply


def prom_sequence(*behaviours: Behaviour) -> Behaviour:
    """Each request gets the next behaviour; the last one repeats."""
    remaining = list(behaviours)

    def reply(req: Recorded) -> Reply:
        return (remaining.pop(0) if len(remaining) > 1 else remaining[0])(req)

    return reply


@dataclass
class FakePrometheus:
    """A Prometheus HTTP API whose answer to each query is scripted; unknown queries are empty.

    With `tokens` (bearer token -> behaviours) it stands for a multi-tenant gateway (Mimir, Grafana
    Cloud): each token sees its own tenant's answers, and a request without a known token is refused
    with 401, as those gateways do."""

    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    tokens: dict[str, dict[str, Behaviour]] | None = None
    api: FakeApi = field(init=False)

    def __post_init__(self) -> None:
        self.api = FakeApi(self._respond)

    def _respond(self, req: Recorded) -> Reply:
        if req.path not in ("/api/v1/query", "/api/v1/query_range"):
            return Reply(404, b"404 page not found", "text/plain")
        behaviours = self.behaviours
        if self.tokens is not None:
            token = req.headers.get("authorization", "").removeprefix("Bearer ")
            if token not in self.tokens:
                return Reply(401, b"Unauthorized", "text/plain")
            behaviours = self.tokens[token]
        return behaviours.get(req.query.get("query", ""), prom_empty())(req)

    @property
    def url(self) -> str:
        return self.api.url

    def asked(self, query: str) -> int:
        return sum(1 for r in self.api.sent() if r.query.get("query") == query)

    def close(self) -> None:
        self.api.close()


# --- Datadog -----------------------------------------------------------------------------------

DD_API_KEY = "dd-api-key-0123456789abcdef"
DD_APP_KEY = "dd-app-key-fedcba9876543210"

# query -> {tag: value(t seconds)}: one series per tag ("" for no tag)
DatadogSeries = dict[str, dict[str, Callable[[float], float | None]]]


_ROLLUP = re.compile(r"\.rollup\((?:(avg|sum|min|max|count)\s*,\s*)?(\d+)\)$")


def _rollup(
    fn: Callable[[float], float | None], start: int, end: int, interval: int
) -> list[list[float | None]]:
    """Buckets aligned to multiples of `interval`, stamped with their start, each the mean of the values
    inside the query window (as Datadog's `.rollup(avg, interval)` answers)."""
    out: list[list[float | None]] = []
    bucket = start // interval * interval
    while bucket < end:
        samples = range(max(bucket, start), min(bucket + interval, end), max(1, interval // 24))
        values = [v for t in samples if (v := fn(float(t))) is not None]
        out.append([bucket * 1000.0, sum(values) / len(values) if values else None])
        bucket += interval
    return out


def _aligned(
    fn: Callable[[float], float | None], start: int, end: int, interval: int
) -> list[list[float | None]]:
    """Points at the multiples of `interval` inside [start, end], each the mean of its bucket (Datadog's
    default `avg` rollup; "Rollup" in Datadog's docs: the buckets are aligned to the interval, and a
    point is stamped with its bucket's start, never with the query's `from`)."""
    out: list[list[float | None]] = []
    bucket = -(-start // interval) * interval  # the first multiple at or after `from`
    while bucket <= end:
        upper = min(bucket + interval, end)
        samples = range(bucket, upper, max(1, interval // 24)) if upper > bucket else [bucket]
        values = [v for t in samples if (v := fn(float(t))) is not None]
        out.append([bucket * 1000.0, math.fsum(values) / len(values) if values else None])
        bucket += interval
    return out


def datadog_limited(remaining: float, reset: float) -> Reply:
    """Datadog "Rate Limits" (docs.datadoghq.com/api/latest/rate-limits): HTTP 429 with
    `X-RateLimit-Limit`, `-Period` (seconds), `-Remaining` and `-Reset` (seconds until the reset)."""
    headers = {
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Period": "60",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(math.ceil(remaining)),
        "X-RateLimit-Name": "query_timeseries",
    }
    return Reply(429, {"errors": ["Too many requests"]}, headers=headers)


def datadog_server(
    series: DatadogSeries, orgs: dict[tuple[str, str], DatadogSeries] | None = None
) -> FakeApi:
    """Datadog's "Query timeseries points" endpoint, answering the documented fields (rolled up to a
    point a minute for a window up to a day, a point an hour beyond, as Datadog rolls up long windows;
    or to the interval a `.rollup()` at the end of the query asks for). `orgs` maps (API key,
    application key) to each organisation's series (default: `series` for `DD_API_KEY`/`DD_APP_KEY`);
    other keys get 403 `{"errors": ["Forbidden"]}` ("Authentication" in the API reference)."""
    by_keys = orgs if orgs is not None else {(DD_API_KEY, DD_APP_KEY): series}

    def respond(req: Recorded) -> Reply:
        if req.method != "GET" or req.path != "/api/v1/query":
            return Reply(404, {"errors": ["Not found"]})
        keys = (req.headers.get("dd-api-key", ""), req.headers.get("dd-application-key", ""))
        if keys not in by_keys:
            return Reply(403, {"errors": ["Forbidden"]})
        series = by_keys[keys]
        missing = [k for k in ("from", "to", "query") if k not in req.query]
        if missing:
            return Reply(400, {"errors": [f"The value provided for parameter '{missing[0]}' is invalid"]})
        start, end, query = int(req.query["from"]), int(req.query["to"]), req.query["query"]
        rollup = _ROLLUP.search(query)
        base = query[: rollup.start()] if rollup else query
        if base not in series:
            return Reply(400, {"errors": [f"Error parsing query: unknown metric in {query!r}"]})
        interval = int(rollup[2]) if rollup else (60 if end - start <= 86400 else 3600)
        out = []
        for i, (tag, fn) in enumerate(series[base].items()):
            pointlist = _rollup(fn, start, end, interval) if rollup else _aligned(fn, start, end, interval)
            out.append(
                {
                    "aggr": "avg",
                    "display_name": query,
                    "end": end * 1000,
                    "expression": query,
                    "interval": int(interval),
                    "length": len(pointlist),
                    "metric": query.split("{")[0].split(":")[-1],
                    "pointlist": pointlist,
                    "query_index": 0,
                    "scope": tag or "*",
                    "start": start * 1000,
                    "tag_set": [tag] if tag else [],
                    "unit": None,
                    "series_index": i,
                }
            )
        body = {
            "status": "ok",
            "res_type": "time_series",
            "resp_version": 1,
            "query": query,
            "from_date": start * 1000,
            "to_date": end * 1000,
            "series": out,
            "group_by": [],
            "message": "",
        }
        return Reply(body=body)

    return FakeApi(respond, datadog_limited)


# --- New Relic ---------------------------------------------------------------------------------

NR_USER_KEY = "NRAK-TESTKEY0123456789ABCDEFGH"
NR_ACCOUNT = 1234567

# NRQL without its time clause -> rows (a function of the NRQL sent, to answer TIMESERIES too)
NewRelicRows = dict[str, Callable[[str], list[dict[str, Any]]]]
_TIME_CLAUSE = re.compile(r"\s+SINCE\s+\d+\s+UNTIL\s+\d+(\s+TIMESERIES\s+.*)?$")


_WINDOW = re.compile(r"SINCE (\d+) UNTIL (\d+)(?: TIMESERIES (\d+) (minute|hour|day)s?)?$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def nr_rows(fields: Callable[[float], dict[str, Any]]) -> Callable[[str], list[dict[str, Any]]]:
    """An NRQL aggregate as NerdGraph returns it: one row for the window, or with `TIMESERIES` one row
    per bucket from SINCE (`beginTimeSeconds`, `endTimeSeconds`, then the aggregate's fields).
    `fields(t)` is the aggregate over the bucket (or window) ending at t."""

    def rows(nrql: str) -> list[dict[str, Any]]:
        window = _WINDOW.search(nrql)
        assert window is not None, nrql
        since, until = int(window[1]) / 1000, int(window[2]) / 1000
        if window[3] is None:
            return [fields(until)]
        size = int(window[3]) * _UNIT_SECONDS[window[4]]
        out, begin = [], since
        while begin < until:
            end = min(begin + size, until)
            out.append({"beginTimeSeconds": begin, "endTimeSeconds": end, **fields(end)})
            begin = end
        return out

    return rows


def newrelic_limited(remaining: float, reset: float) -> Reply:
    """NerdGraph over its rate limit ("NerdGraph rate limits" in New Relic's docs): HTTP 429 with an
    `errors` array (the fake also sends `Retry-After`, which the bot must honour when present)."""
    error = {"message": "Too many requests", "extensions": {"errorClass": "TOO_MANY_REQUESTS"}}
    return Reply(429, {"errors": [error]}, headers={"Retry-After": str(math.ceil(remaining))})


def newrelic_server(rows: NewRelicRows, keys: dict[str, tuple[int, NewRelicRows]] | None = None) -> FakeApi:
    """NerdGraph answering NRQL queries with `data.actor.account.nrql.results`. `keys` maps each user
    key to its account and rows (default: `NR_USER_KEY` on `NR_ACCOUNT`). An unknown key is refused as
    NerdGraph refuses it ("NerdGraph API: errors" in New Relic's docs): HTTP 401 with an `errors` array
    whose `extensions.errorClass` is `BAD_API_KEY`."""
    by_key = keys if keys is not None else {NR_USER_KEY: (NR_ACCOUNT, rows)}

    def respond(req: Recorded) -> Reply:
        if req.method != "POST" or req.path != "/graphql":
            return Reply(404, {"errors": [{"message": "Not found"}]})
        key = req.headers.get("api-key", "")
        if key not in by_key:
            error = {"message": "Invalid API key", "extensions": {"errorClass": "BAD_API_KEY"}}
            return Reply(401, {"errors": [error]})
        account, rows = by_key[key]
        body = req.body or {}
        variables = body.get("variables") or {}
        nrql = str(variables.get("nrql", ""))
        if variables.get("accountId") != account or "nrql(query: $nrql" not in str(body.get("query")):
            return Reply(
                200, {"errors": [{"message": "Account not found"}], "data": {"actor": {"account": None}}}
            )
        base = _TIME_CLAUSE.sub("", nrql)
        if base not in rows:
            error = {"message": f"NRQL Syntax Error: Error at line 1 position 7, unexpected '{base[:20]}'"}
            return Reply(200, {"errors": [error], "data": {"actor": {"account": {"nrql": None}}}})
        results = rows[base](nrql)
        return Reply(body={"data": {"actor": {"account": {"nrql": {"results": results}}}}})

    return FakeApi(respond, newrelic_limited)


# --- a runtime for reading signals without the whole app ---------------------------------------


@dataclass
class MiniRuntime:
    """What `read_team_signals` uses of the runtime: config, clock, cache and telemetry."""

    config: Any
    clock: Any
    cache: Any
    telemetry: Any


def mini_runtime(config: Any, at: Any) -> MiniRuntime:
    from bot.clock import ManualClock
    from bot.telemetry import Telemetry
    from storage.cache import MemoryCache

    return MiniRuntime(config, ManualClock(at), MemoryCache(), Telemetry())


def team_with(metrics: Any, name: str = "Payments", channel: str = "C0PAYMENTS") -> Any:
    from bot.teams import Team

    return Team(workspace_id="T0001", channel_id=channel, name=name, playbook="default", metrics=metrics)


def queries_sent(rt: MiniRuntime, outcome: str = "ok") -> float:
    """How many queries the bot counted with this outcome (its own `scalebot_source_queries_total`)."""
    total = 0.0
    for metric in rt.telemetry.source_queries.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels.get("outcome") == outcome:
                total += sample.value
    return total
