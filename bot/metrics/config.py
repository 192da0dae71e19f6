"""Config-file models for monitoring sources and each team's signals (capability 3).

Only the operator writes these (or an admin picks a configured source in the setup modal): nothing a
Slack user types can add a URL or a credential. Credentials are named by environment variable.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, HttpUrl, model_validator

from bot.configbase import EnvName, Strict, shown

SignalKind = Literal["latency", "ratio", "rate", "saturation"]

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _label_name(value: str) -> str:
    if not _LABEL_NAME.match(value):
        raise ValueError(f"{shown(value)} is not a label name (letters, digits and _, like feature)")
    return value


LabelName = Annotated[str, AfterValidator(_label_name)]


class BasicAuth(Strict):
    username: str
    password_env: EnvName


class PrometheusSource(Strict):
    """Any Prometheus-compatible HTTP API: Prometheus, Thanos, Mimir, VictoriaMetrics."""

    kind: Literal["prometheus"]
    url: HttpUrl
    bearer_token_env: EnvName | None = None
    basic_auth: BasicAuth | None = None
    # Extra headers some hosted APIs need (e.g. Mimir's X-Scope-OrgID); values are not secrets.
    headers: dict[str, str] = {}
    timeout_seconds: float = Field(default=2.0, gt=0, le=30)

    @model_validator(mode="after")
    def _one_auth(self) -> PrometheusSource:
        if self.bearer_token_env and self.basic_auth:
            raise ValueError("use bearer_token_env or basic_auth, not both")
        return self


class DatadogSource(Strict):
    kind: Literal["datadog"]
    site: str | None = "datadoghq.com"  # the API lives at https://api.<site>
    base_url: HttpUrl | None = None  # wins over site (a proxy, or a test double)
    api_key_env: EnvName
    app_key_env: EnvName
    timeout_seconds: float = Field(default=2.0, gt=0, le=30)


class NewRelicSource(Strict):
    kind: Literal["newrelic"]
    url: HttpUrl = HttpUrl("https://api.newrelic.com/graphql")  # EU accounts: api.eu.newrelic.com
    account_id: int
    user_key_env: EnvName
    timeout_seconds: float = Field(default=2.0, gt=0, le=30)


SourceConfig = Annotated[PrometheusSource | DatadogSource | NewRelicSource, Field(discriminator="kind")]


class SignalConfig(Strict):
    """One named signal of a team: a query, and optionally what it is measured against."""

    query: str | None = None  # None: the source's default query for a reserved name
    kind: SignalKind | None = None  # inferred for reserved names
    source: str | None = None  # another configured source for this one signal (default: the team's)
    threshold: float | None = None  # overrides the seed's default for reserved names
    driven_by: str | None = None  # for latency: the saturation signal behind it (M/M/1 projection)
    ceiling: float | None = Field(default=None, gt=0, le=1)  # for saturation: safe ceiling (default 0.8)
    label: LabelName | None = (
        None  # for feature_request_rate: the label naming the feature (default "feature")
    )


class TeamMetricsConfig(Strict):
    source: str
    # Default Prometheus queries select `service="<service>"`; `selector` (PromQL label matchers such as
    # `job="api",env="prod"`) replaces that when the series are labelled differently.
    service: str | None = None
    selector: str | None = None
    # Prometheus teams get p95/p99 latency, error rate, availability and request rate without listing them.
    default_signals: bool = True
    signals: dict[str, SignalConfig] = {}


class MetricsDefaults(Strict):
    cache_ttl_seconds: float = Field(default=60, ge=0, le=3600)
    ceiling: float = Field(default=0.8, gt=0, le=1)
    max_concurrency: int = Field(default=8, ge=1, le=64)
    retries: int = Field(default=2, ge=0, le=5)  # after a 5xx or a connection error, with backoff
    # However slow a source is, `/scale-check metrics` answers within this; late signals are marked.
    answer_within_seconds: float = Field(default=8, gt=0, le=60)
