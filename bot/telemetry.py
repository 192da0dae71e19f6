"""The bot's own Prometheus metrics, served at `GET /metrics`. One registry per app instance."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Ack latency is measured in milliseconds of work on our side; Slack's limit is 3 s.
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0)


class Telemetry:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "scalebot_slack_requests_total",
            "Requests from Slack by kind (command, action, view, options, event, other) and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "scalebot_ack_seconds",
            "Time from receiving a Slack request to sending its acknowledgement.",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.api_calls = Counter(
            "scalebot_slack_api_calls_total",
            "Slack Web API calls by method and error ('ok' when the call succeeded).",
            ["method", "error"],
            registry=self.registry,
        )
        self.job_runs = Counter(
            "scalebot_job_runs_total",
            "Scheduled job runs by job kind and outcome (done, failed, skipped, missed).",
            ["job", "outcome"],
            registry=self.registry,
        )
        self.source_queries = Counter(
            "scalebot_source_queries_total",
            "Queries sent to monitoring and tracker sources by source kind and outcome.",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.cache_backend_up = Gauge(
            "scalebot_cache_shared_up",
            "1 when the shared cache (Redis) answers, 0 when the in-process fallback is in use.",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
