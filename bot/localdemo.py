"""Local mode's demo metrics: the `demometrics` Prometheus-compatible API served by this same process, and
the config that points #payments and #search at it, so every metrics-backed answer has numbers from the
first start.

Declared only in local mode and only when the operator's config declares no sources of its own. The bot
reads it through its ordinary Prometheus source over HTTP on loopback, with a bearer token made for this
process and looked up like any other secret the config names by environment variable.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx
from pydantic import SecretStr

from bot.clock import Clock
from bot.config import AppConfig, TeamConfig
from bot.logs import redactor
from bot.metrics.config import PrometheusSource, SignalConfig, TeamMetricsConfig
from bot.metrics.service import read_team_signals, store_snapshot
from bot.premortem.config import TeamPremortemConfig
from bot.teams import file_teams
from demometrics import DemoSource

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

PREFIX = "/demo-prometheus"
SOURCE = "demo"
# The name the config looks the token up by (a generated secret, set only in the loaded config).
TOKEN_ENV = "SCALEBOT_DEMO_PROMETHEUS_TOKEN"  # noqa: S105
POOL = "database_pool"
PAST_WEEKS = 2  # weekly snapshots kept on the first run, from the demo's three weeks of history


def _pool_query(service: str) -> str:
    # The busiest minute of the last day: capacity is planned for the daily peak, not the current minute.
    return f'max(max_over_time(db_pool_utilisation{{service="{service}"}}[1d]))'


def team_metrics(service: str) -> TeamMetricsConfig:
    """What an operator would write for a service with the standard instrumentation and a pool gauge."""
    return TeamMetricsConfig(
        source=SOURCE,
        service=service,
        signals={
            # The team's own request-latency objective, projected through the pool that drives it.
            "p95_latency": SignalConfig(threshold=0.5, driven_by=POOL),
            "p95_read_latency": SignalConfig(),  # reads are `method="GET"`: the read-replica rule
            POOL: SignalConfig(query=_pool_query(service), kind="saturation"),
            "primary_write_utilisation": SignalConfig(
                query=f'max(pg_primary_write_utilisation{{service="{service}"}})'
            ),
        },
    )


PREMORTEM = TeamPremortemConfig(
    components=["Database", "API", "Payment provider", "Search index"],
    signal_components={POOL: "Database", "p95_read_latency": "Database", "p95_latency": "API"},
)
TEAMS = (("C0PAYMENTS", "Payments", "payments"), ("C0SEARCH", "Search", "search"))


def wants_demo(config: AppConfig) -> bool:
    return not config.sources


def with_demo(config: AppConfig, base_url: str, token: str) -> AppConfig:
    """`config` plus the demo source and the two teams' metrics (the file's own entries for those
    channels keep everything else they say)."""
    source = PrometheusSource(
        kind="prometheus",
        url=f"{base_url.rstrip('/')}{PREFIX}",  # type: ignore[arg-type]
        bearer_token_env=TOKEN_ENV,
        timeout_seconds=5,
    )
    teams = list(config.teams)
    for channel, name, service in TEAMS:
        metrics = team_metrics(service)
        for i, entry in enumerate(teams):
            if entry.channel == channel and entry.workspace in (None, "T0LOCAL"):
                teams[i] = entry.model_copy(
                    update={"metrics": metrics, "premortem": entry.premortem or PREMORTEM}
                )
                break
        else:
            teams.append(TeamConfig(name=name, channel=channel, metrics=metrics, premortem=PREMORTEM))
    demo = config.model_copy(update={"sources": {SOURCE: source}, "teams": teams})
    demo._secrets = {**config._secrets, TOKEN_ENV: SecretStr(token)}
    return demo


class LocalDemo:
    """The demo source of one local-mode process and the config change that declares it."""

    def __init__(self, original: AppConfig, clock: Clock) -> None:
        self.original = original
        self.token = secrets.token_urlsafe(32)
        redactor.add(self.token)
        # The history is anchored to the bot's own clock (a test's frozen one makes it reproducible).
        self.source = DemoSource(self.token, clock=lambda: clock.now().timestamp())

    def config_for(self, base_url: str) -> AppConfig:
        return with_demo(self.original, base_url, self.token)


async def keep_past_weeks(rt: Runtime, health_url: str, workspace_id: str) -> None:
    """On the first run, the weekly snapshots `/scale-check metrics` would have kept had the teams asked
    one and two weeks ago, read from the demo source as any reading is: so the digest's charts and its
    "since last week" have points from the first start. Waits until the server answers (its own reads go
    over HTTP)."""
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(300):
            try:
                if (await client.get(health_url)).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
        else:
            log.warning("the demo's past weeks were not kept: the server did not come up")
            return
    try:
        await _keep(rt, workspace_id)
    except Exception:  # the digest then has fewer points; nothing else depends on these
        log.warning("the demo's past weeks were not kept", exc_info=True)


async def _keep(rt: Runtime, workspace_id: str) -> None:
    now = rt.clock.now()
    for team in file_teams(rt.config, workspace_id):
        if team.metrics is None or team.metrics.source != SOURCE:
            continue
        for weeks in range(PAST_WEEKS, 0, -1):
            reading = await read_team_signals(rt, team, at=now - timedelta(weeks=weeks))
            await store_snapshot(rt, team, reading)
