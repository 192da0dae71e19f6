"""Local mode's demo metrics: the `demometrics` Prometheus-compatible API served by this same process, and
the config that points #payments and #search at it, so every metrics-backed answer has numbers from the
first start.

Declared only in local mode and only when the operator's config declares no sources of its own. The bot
reads it through its ordinary Prometheus source over HTTP on loopback, with a bearer token made for this
process and looked up like any other secret the config names by environment variable.
"""

from __future__ import annotations

import secrets

from pydantic import SecretStr

from bot.clock import Clock
from bot.config import AppConfig, TeamConfig
from bot.logs import redactor
from bot.metrics.config import PrometheusSource, SignalConfig, TeamMetricsConfig
from bot.premortem.config import TeamPremortemConfig
from demometrics import DemoSource

PREFIX = "/demo-prometheus"
SOURCE = "demo"
# The name the config looks the token up by (a generated secret, set only in the loaded config).
TOKEN_ENV = "SCALEBOT_DEMO_PROMETHEUS_TOKEN"  # noqa: S105
POOL = "database_pool"


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
