"""Datadog: `GET /api/v1/query` ("Query timeseries points": `from`/`to` in seconds, `query`; the answer's
`series[].pointlist` holds `[milliseconds, value or null]`), keys in `DD-API-KEY` and `DD-APPLICATION-KEY`.

The value at a time is the last point in the five minutes before it (what a Prometheus instant query
looks back over). A read over a history (the 7-day trend, a day a point) asks Datadog to roll the query up
to the step with `.rollup(avg, <seconds>)` (`.rollup(<seconds>)` for a percentile of a distribution, which
takes no aggregator) and returns every point; a query that combines metrics, calls functions or sets its
own rollup is sent as written and Datadog picks the interval (the caller averages the points per step).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.metrics.config import DatadogSource
from bot.metrics.sources import base
from bot.metrics.sources.base import Result, Series, SourceError
from bot.outbound import DATADOG, credential_id

LOOKBACK = timedelta(minutes=5)

# One metric query: `<aggregation>:<metric>{<scope>}`, optionally `by {<tags>}` and `.as_count()` /
# `.as_rate()`. Only such a query takes a `.rollup()` appended at its end.
_ONE_METRIC = re.compile(
    r"^\s*(?P<agg>[a-z0-9]+):[A-Za-z0-9_.]+\{[^{}]*\}(\s*by\s*\{[^{}]*\})?(\.as_(count|rate)\(\))?\s*$"
)
_PERCENTILE = re.compile(r"^p\d+(\.\d+)?$")


def with_rollup(query: str, step: timedelta) -> str:
    """`query` rolled up to `step` when it is one metric query; otherwise `query` unchanged."""
    found = _ONE_METRIC.match(query)
    if found is None:
        return query
    seconds = int(step.total_seconds())
    if _PERCENTILE.match(found["agg"]):
        return f"{query.rstrip()}.rollup({seconds})"
    return f"{query.rstrip()}.rollup(avg, {seconds})"


class DatadogClient(base.HttpSource):
    kind, service, limits = "datadog", "Datadog", DATADOG
    range_ends_with_value = False  # a range's points are rollup buckets, not the value at a time

    def __init__(
        self, name: str, config: DatadogSource, secret: Callable[[str], str], policy: base.HttpPolicy
    ) -> None:
        super().__init__(name, policy)
        self.config = config
        self.base = str(config.base_url).rstrip("/") if config.base_url else f"https://api.{config.site}"
        self.headers = {
            "Accept": "application/json",
            "DD-API-KEY": secret(config.api_key_env),
            "DD-APPLICATION-KEY": secret(config.app_key_env),
        }

    @functools.cached_property  # the credentials never change: hashed once
    def identity(self) -> str:
        keys = credential_id(self.headers["DD-API-KEY"], self.headers["DD-APPLICATION-KEY"])
        return f"datadog|{self.base}|{keys}"

    async def read(
        self, query: str, at: datetime, history: timedelta | None = None, step: timedelta | None = None
    ) -> Result:
        end = int(at.timestamp())
        start = end - int((history or LOOKBACK).total_seconds())
        if history is not None and step is not None:
            query = with_rollup(query, step)
        params = {"from": str(start), "to": str(end), "query": query}
        response = await self.request("GET", f"{self.base}/api/v1/query", params=params, headers=self.headers)
        credentials = f"sources.{self.name}.api_key_env and app_key_env"
        return parse_response(response, credentials, latest_only=history is None)


def _labels(item: dict[str, Any]) -> dict[str, str]:
    tags = item.get("tag_set") or []
    if not tags and item.get("scope") not in (None, "*"):
        tags = str(item["scope"]).split(",")
    labels = {}
    for tag in tags:
        key, _, value = str(tag).partition(":")
        labels[key] = value
    return labels


def parse_response(response: Any, credentials: str, *, latest_only: bool) -> Result:
    body = base.json_body(response, "Datadog")
    if response.status_code >= 400:
        errors = body.get("errors") if isinstance(body, dict) else None
        detail = (
            f": {'; '.join(str(e) for e in errors)[:300]}" if errors and response.status_code == 400 else ""
        )
        raise SourceError(base.http_reason(response, credentials) + detail)
    if not isinstance(body, dict):
        raise SourceError("answered JSON that is not a Datadog query answer")
    if body.get("status") == "error" or body.get("error"):
        raise SourceError(f"query failed: {str(body.get('error') or 'no detail')[:300]}")
    series = body.get("series")
    if not isinstance(series, list):
        raise SourceError("answered without series")
    out = []
    for item in series:
        if not isinstance(item, dict) or not isinstance(item.get("pointlist"), list):
            raise SourceError("answered a series without a pointlist")
        points = []
        for raw in item["pointlist"]:
            if not isinstance(raw, list) or len(raw) != 2:
                raise SourceError("answered a point that is not [time, value]")
            points.append((base.number(raw[0]) / 1000.0, base.number(raw[1])))
        if latest_only:
            finite = [p for p in points if math.isfinite(p[1])]
            points = finite[-1:] or points[-1:]
        if points:
            out.append(Series(_labels(item), tuple(points)))
    return Result(tuple(out))
