"""Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics): `/api/v1/query` and
`/api/v1/query_range`, with every documented response shape (vector, matrix, scalar, string; status
error; warnings; NaN and ±Inf sent as strings; empty results)."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.metrics.config import PrometheusSource
from bot.metrics.sources import base
from bot.metrics.sources.base import Result, Series, SourceError
from bot.outbound import PROMETHEUS, credential_id


class PrometheusClient(base.HttpSource):
    kind, service, limits = "prometheus", "Prometheus", PROMETHEUS
    # True on Prometheus itself; Thanos (--query-range.align-range-with-step) and VictoriaMetrics align a
    # range to the step, so its last point can fall before `at` and the value needs an instant query.
    range_ends_with_value = True

    def __init__(
        self, name: str, config: PrometheusSource, secret: Callable[[str], str], policy: base.HttpPolicy
    ) -> None:
        super().__init__(name, policy)
        self.config = config
        self.base = str(config.url).rstrip("/")
        self.headers = {"Accept": "application/json", **config.headers}
        if config.bearer_token_env:
            self.headers["Authorization"] = f"Bearer {secret(config.bearer_token_env)}"
        elif config.basic_auth:
            password = secret(config.basic_auth.password_env)
            pair = f"{config.basic_auth.username}:{password}".encode()
            self.headers["Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
        # Every header sent (a bearer token, basic auth, a tenant, a custom auth header) names the
        # credentials in the identity, hashed.
        self._secrets = [f"{k}={v}" for k, v in sorted(self.headers.items())]

    @functools.cached_property  # the credentials never change: hashed once
    def identity(self) -> str:
        org = self.config.headers.get("X-Scope-OrgID", "")
        return f"prometheus|{self.base}|{org}|{credential_id(*self._secrets)}"

    @property
    def credentials_key(self) -> str:
        if self.config.bearer_token_env:
            return f"sources.{self.name}.bearer_token_env"
        if self.config.basic_auth:
            return f"sources.{self.name}.basic_auth"
        return f"sources.{self.name} (no credentials are configured)"

    async def read(
        self, query: str, at: datetime, history: timedelta | None = None, step: timedelta | None = None
    ) -> Result:
        end = at.timestamp()
        if history is None:
            path, params = "/api/v1/query", {"query": query, "time": f"{end:.3f}"}
        else:
            step_s = (step or timedelta(days=1)).total_seconds()
            params = {
                "query": query,
                "start": f"{end - history.total_seconds():.3f}",
                "end": f"{end:.3f}",
                "step": f"{step_s:g}",
            }
            path = "/api/v1/query_range"
        response = await self.request("GET", self.base + path, params=params, headers=self.headers)
        return parse_response(response, self.credentials_key)


def parse_response(response: httpx.Response, credentials_key: str = "the source's credentials") -> Result:
    """Turn an API answer into a `Result`, or raise `SourceError` saying what was wrong with it."""
    if response.status_code in (401, 403, 404, 429):
        raise SourceError(base.http_reason(response, credentials_key))
    body = base.json_body(response, "Prometheus")
    if not isinstance(body, dict) or "status" not in body:
        raise SourceError(f"answered HTTP {response.status_code} with JSON that is not a Prometheus answer")
    if body["status"] == "error":
        kind = body.get("errorType") or "error"
        raise SourceError(f"query failed ({kind}): {str(body.get('error') or 'no detail')[:300]}")
    if response.status_code >= 400 or body["status"] != "success":
        raise SourceError(base.http_reason(response, credentials_key))
    warnings = tuple(str(w)[:300] for w in body.get("warnings") or ())
    data = body.get("data")
    if not isinstance(data, dict):
        raise SourceError("answered without data")
    return Result(_series(data.get("resultType"), data.get("result")), warnings)


def _pair(raw: Any) -> tuple[float, float]:
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise SourceError("answered a sample that is not [time, value]")
    return float(base.number(raw[0])), base.number(raw[1])


def _series(result_type: Any, result: Any) -> tuple[Series, ...]:
    if result_type == "scalar":
        return (Series({}, (_pair(result),)),)
    if result_type == "string":
        raise SourceError("the query returns a string, not a number")
    if result_type not in ("vector", "matrix") or not isinstance(result, list):
        raise SourceError(f"answered an unknown result type {str(result_type)[:40]!r}")
    out = []
    for item in result:
        if not isinstance(item, dict):
            raise SourceError("answered a series that is not an object")
        labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
        if result_type == "vector":
            points: tuple[tuple[float, float], ...] = (_pair(item.get("value")),)
        else:
            points = tuple(_pair(p) for p in item.get("values") or ())
        out.append(Series(labels, points))
    return tuple(out)
