"""Config-file models for monitoring sources and each team's signals (capability 3)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, HttpUrl, model_validator

from bot.configbase import EnvName, Strict


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
    site: str | None = "datadoghq.com"
    base_url: HttpUrl | None = None
    api_key_env: EnvName
    app_key_env: EnvName
    timeout_seconds: float = Field(default=2.0, gt=0, le=30)


class NewRelicSource(Strict):
    kind: Literal["newrelic"]
    url: HttpUrl = HttpUrl("https://api.newrelic.com/graphql")
    account_id: int
    user_key_env: EnvName
    timeout_seconds: float = Field(default=2.0, gt=0, le=30)


SourceConfig = Annotated[PrometheusSource | DatadogSource | NewRelicSource, Field(discriminator="kind")]


class SignalConfig(Strict):
    """One named signal of a team: a query, and optionally what it is measured against."""

    query: str | None = None  # None: the source's default query for a reserved name
    kind: Literal["latency", "ratio", "rate", "saturation"] | None = None  # inferred for reserved names
    threshold: float | None = None
    driven_by: str | None = None  # for latency: the saturation signal behind it (M/M/1 projection)
    ceiling: float | None = Field(default=None, gt=0, le=1)  # for saturation: safe ceiling (default 0.8)
    label: str | None = None  # for feature_request_rate: the label naming the feature


class TeamMetricsConfig(Strict):
    source: str
    service: str | None = None
    signals: dict[str, SignalConfig] = {}


class MetricsDefaults(Strict):
    cache_ttl_seconds: float = Field(default=60, ge=0, le=3600)
    ceiling: float = Field(default=0.8, gt=0, le=1)
    max_concurrency: int = Field(default=8, ge=1, le=64)
