"""Monitoring sources, built from the operator's config only (never from anything typed in Slack)."""

from __future__ import annotations

from collections.abc import Callable

from bot.metrics.config import DatadogSource, MetricsDefaults, NewRelicSource, PrometheusSource, SourceConfig
from bot.metrics.sources.base import HttpPolicy, Result, Series, Source, SourceError, SourceRateLimited
from bot.metrics.sources.datadog import DatadogClient
from bot.metrics.sources.newrelic import NewRelicClient
from bot.metrics.sources.prometheus import PrometheusClient

__all__ = ["Result", "Series", "Source", "SourceError", "SourceRateLimited", "make_source"]


def make_source(
    name: str, config: SourceConfig, secret: Callable[[str], str], defaults: MetricsDefaults
) -> Source:
    """The client for a configured source; `secret(env_name)` reads a credential the file names."""
    policy = HttpPolicy(
        timeout=config.timeout_seconds,
        retries=defaults.retries,
        max_concurrency=defaults.max_concurrency,
        # A rate limit lifting within half the answer's time is waited out; a later one is not.
        wait_within=defaults.answer_within_seconds / 2,
    )
    if isinstance(config, PrometheusSource):
        return PrometheusClient(name, config, secret, policy)
    if isinstance(config, DatadogSource):
        return DatadogClient(name, config, secret, policy)
    if isinstance(config, NewRelicSource):
        return NewRelicClient(name, config, secret, policy)
    raise TypeError(f"unknown source kind {type(config).__name__}")
