"""New Relic: NRQL through NerdGraph (`POST /graphql` with the user key in `API-Key`); rows come back in
`data.actor.account.nrql.results`.

The bot appends the time range (`SINCE … UNTIL …` in epoch milliseconds, and `TIMESERIES` for a read
over a history), so a team's NRQL names neither. A row's value is its one numeric field (nested ones
such as `{"percentile.duration": {"95": 0.12}}` included); its string fields (`facet`, the faceted
attribute) become labels. A TIMESERIES row (the 7-day trend asks `TIMESERIES 1 day`) stands at the end of
its bucket (`endTimeSeconds`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from bot.metrics.config import NewRelicSource
from bot.metrics.sources import base
from bot.metrics.sources.base import Result, Series, SourceError
from bot.outbound import NEW_RELIC, credential_id

LOOKBACK = timedelta(minutes=5)
GRAPHQL = (
    "query($accountId: Int!, $nrql: Nrql!) "
    "{ actor { account(id: $accountId) { nrql(query: $nrql, timeout: %d) { results } } } }"
)
_TIME_FIELDS = {"beginTimeSeconds", "endTimeSeconds", "timestamp", "beginTime", "endTime"}


def _duration(step: timedelta) -> str:
    seconds = int(step.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def nrql_for(query: str, at: datetime, history: timedelta | None, step: timedelta | None) -> str:
    end = int(at.timestamp() * 1000)
    start = end - int((history or LOOKBACK).total_seconds() * 1000)
    nrql = f"{query.strip()} SINCE {start} UNTIL {end}"
    if history is not None:
        nrql += f" TIMESERIES {_duration(step or timedelta(hours=1))}"
    return nrql


class NewRelicClient(base.HttpSource):
    kind, service, limits = "newrelic", "New Relic", NEW_RELIC
    range_ends_with_value = False  # TIMESERIES rows are buckets (a day's aggregate), not the value now

    def __init__(
        self, name: str, config: NewRelicSource, secret: Callable[[str], str], policy: base.HttpPolicy
    ) -> None:
        super().__init__(name, policy)
        self.config = config
        self.url = str(config.url)
        self.headers = {"Content-Type": "application/json", "API-Key": secret(config.user_key_env)}

    @functools.cached_property  # the credentials never change: hashed once
    def identity(self) -> str:
        return f"newrelic|{self.url}|{self.config.account_id}|{credential_id(self.headers['API-Key'])}"

    async def read(
        self, query: str, at: datetime, history: timedelta | None = None, step: timedelta | None = None
    ) -> Result:
        payload = {
            "query": GRAPHQL % max(1, int(self.policy.timeout)),
            "variables": {"accountId": self.config.account_id, "nrql": nrql_for(query, at, history, step)},
        }
        response = await self.request("POST", self.url, json=payload, headers=self.headers)
        instant = at.timestamp() if history is None else None
        return parse_response(response, f"sources.{self.name}.user_key_env", instant)


def _numbers(value: Any, path: str = "") -> Iterator[tuple[str, float]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _numbers(inner, f"{path}.{key}" if path else str(key))
    elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        yield path, base.number(value)


def parse_response(response: Any, credentials: str, instant: float | None = None) -> Result:
    """Rows to series; `instant` is the time an aggregate over the last minutes stands for."""
    if response.status_code in (401, 403):
        raise SourceError(base.http_reason(response, credentials))
    body = base.json_body(response, "NerdGraph")
    if not isinstance(body, dict):
        raise SourceError("answered JSON that is not a NerdGraph answer")
    errors = body.get("errors") or []
    if errors:
        first: dict[str, Any] = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
        extensions = first.get("extensions")
        error_class = str(extensions.get("errorClass") or "") if isinstance(extensions, dict) else ""
        refused = ("UNAUTHORIZED", "FORBIDDEN", "BAD_API_KEY")
        if error_class in refused or "api key" in str(first.get("message", "")).lower():
            raise SourceError(f"the credentials were refused (check {credentials})")
        raise SourceError(f"query failed: {str(first.get('message') or 'no detail')[:300]}")
    if response.status_code >= 400:
        raise SourceError(base.http_reason(response, credentials))
    try:
        rows = body["data"]["actor"]["account"]["nrql"]["results"]
    except (KeyError, TypeError):
        raise SourceError("answered without data.actor.account.nrql.results") from None
    if not isinstance(rows, list):
        raise SourceError("answered results that are not a list")
    grouped: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
    for row in rows:
        if not isinstance(row, dict):
            raise SourceError("answered a result row that is not an object")
        labels = {k: _label(v) for k, v in row.items() if k not in _TIME_FIELDS and isinstance(v, str | list)}
        values = list(_numbers({k: v for k, v in row.items() if k not in _TIME_FIELDS}))
        if len(values) != 1:
            raise SourceError(f"a result row has {len(values)} numeric fields; select exactly one")
        when = instant if instant is not None else row.get("endTimeSeconds") or row.get("timestamp") or 0
        grouped.setdefault(tuple(sorted(labels.items())), []).append((base.number(when), values[0][1]))
    series = tuple(Series(dict(k), tuple(sorted(p))) for k, p in grouped.items())
    return Result(series)


def _label(value: str | list[Any]) -> str:
    return ",".join(str(v) for v in value) if isinstance(value, list) else value
