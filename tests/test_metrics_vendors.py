"""Metrics sources against fakes that behave as the vendors document: two organisations with different
credentials on one URL never share an answer, and a rate limit is honoured to its reset (a short one
waited out, a long one never re-sent early, the last good figure shown stale with when to ask again)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import AppConfig, load_config
from bot.metrics import render
from bot.metrics.service import read_team_signals
from tests.conftest import remember_secret
from tests.helpers.metrics_fakes import (
    DD_API_KEY,
    DD_APP_KEY,
    FakeApi,
    FakePrometheus,
    datadog_server,
    mini_runtime,
    newrelic_server,
    nr_rows,
    prom_value,
    team_with,
)

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DD_QUERY = "avg:postgresql.percent_usage_connections{service:payments}"
NR_QUERY = "SELECT average(cpuPercent) / 100 FROM SystemSample WHERE apmApplicationNames LIKE '%payments%'"
PROM_QUERY = "q_db"

# Each organisation's own figure, so a value that crossed over would show.
ORG_A, ORG_B = 0.41, 0.77


@dataclass
class Vendor:
    """One source kind, served by one fake for two organisations (A and B) with their own credentials."""

    name: str
    api: FakeApi
    source: Callable[[str, str], str]  # (source name, env prefix) -> the source's YAML
    env: Callable[[str, bool], dict[str, str]]  # (env prefix, org A?) -> its credentials
    query: str
    credential_header: str  # the header that carries the organisation's key, as recorded

    def close(self) -> None:
        self.api.close()


def datadog_vendor(revoked_b: bool = False) -> Vendor:
    orgs = {("dd-api-A", "dd-app-A"): {DD_QUERY: {"": lambda t: ORG_A}}}
    if not revoked_b:
        orgs[("dd-api-B", "dd-app-B")] = {DD_QUERY: {"": lambda t: ORG_B}}
    api = datadog_server({}, orgs)
    return Vendor(
        "datadog",
        api,
        lambda name, env: (
            f"{{kind: datadog, base_url: '{api.url}', api_key_env: {env}_API, app_key_env: {env}_APP}}"
        ),
        lambda env, a: {
            f"{env}_API": f"dd-api-{'A' if a else 'B'}",
            f"{env}_APP": f"dd-app-{'A' if a else 'B'}",
        },
        DD_QUERY,
        "dd-api-key",
    )


def newrelic_vendor(revoked_b: bool = False) -> Vendor:
    keys = {"NRAK-ORGA000000000000000000": (111, {NR_QUERY: nr_rows(lambda t: {"result": ORG_A})})}
    if not revoked_b:
        keys["NRAK-ORGB000000000000000000"] = (222, {NR_QUERY: nr_rows(lambda t: {"result": ORG_B})})
    api = newrelic_server({}, keys)
    accounts = {"A": 111, "B": 222}

    def source(name: str, env: str) -> str:
        org = env[-1]
        return f"{{kind: newrelic, url: '{api.url}/graphql', account_id: {accounts[org]}, user_key_env: {env}_KEY}}"

    return Vendor(
        "newrelic",
        api,
        source,
        lambda env, a: {f"{env}_KEY": f"NRAK-ORG{'A' if a else 'B'}000000000000000000"},
        NR_QUERY,
        "api-key",
    )


def prometheus_vendor(revoked_b: bool = False) -> Vendor:
    tokens = {"prom-token-A": {PROM_QUERY: prom_value(ORG_A)}}
    if not revoked_b:
        tokens["prom-token-B"] = {PROM_QUERY: prom_value(ORG_B)}
    prom = FakePrometheus(tokens=tokens)
    return Vendor(
        "prometheus",
        prom.api,
        lambda name, env: f"{{kind: prometheus, url: '{prom.url}', bearer_token_env: {env}_TOKEN}}",
        lambda env, a: {f"{env}_TOKEN": f"prom-token-{'A' if a else 'B'}"},
        PROM_QUERY,
        "authorization",
    )


VENDORS = {"datadog": datadog_vendor, "newrelic": newrelic_vendor, "prometheus": prometheus_vendor}


def two_orgs_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vendor: Vendor) -> AppConfig:
    """Two sources of one kind on one URL (org A, org B), each read by its own team."""
    env: dict[str, str] = {**vendor.env("T_ORGA", True), **vendor.env("T_ORGB", False)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
        remember_secret(value)
    teams = "".join(
        f"""  - name: Team {org}
    channel: C0TEAM{org}
    metrics:
      source: org_{org.lower()}
      default_signals: false
      signals:
        db: {{kind: saturation, query: "{vendor.query}"}}
"""
        for org in "AB"
    )
    text = (
        "sources:\n"
        f"  org_a: {vendor.source('org_a', 'T_ORGA')}\n"
        f"  org_b: {vendor.source('org_b', 'T_ORGB')}\n"
        f"teams:\n{teams}"
    )
    path = tmp_path / "scalebot.yaml"
    path.write_text(text)
    return load_config(path)


async def read_both(config: AppConfig, rt: Any = None) -> tuple[Any, Any, Any]:
    """Both teams read at once in one runtime (one cache, one set of requests in flight)."""
    rt = rt or mini_runtime(config, AT)
    a, b = await asyncio.gather(
        *(read_team_signals(rt, team_with(t.metrics, t.name, t.channel)) for t in config.teams)  # type: ignore[arg-type]
    )
    return rt, a, b


@pytest.fixture(params=sorted(VENDORS))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_two_organisations_on_one_url_each_get_only_their_own_figures(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor = VENDORS[kind]()
    try:
        config = two_orgs_config(tmp_path, monkeypatch, vendor)
        rt, a, b = await read_both(config)
        assert a.values() == {"db": ORG_A}
        assert b.values() == {"db": ORG_B}
        # A second round within the TTL comes from the cache, still each organisation's own.
        _, a2, b2 = await read_both(config, rt)
        assert (a2.values(), b2.values()) == ({"db": ORG_A}, {"db": ORG_B})
        sent = {r.headers.get(vendor.credential_header, "") for r in vendor.api.sent()}
        assert len(sent) == 2, "each organisation's figures came from requests with its own key"
    finally:
        vendor.close()


async def test_a_refused_key_shows_the_refusal_never_the_other_organisations_figures(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor = VENDORS[kind](revoked_b=True)
    try:
        config = two_orgs_config(tmp_path, monkeypatch, vendor)
        _, a, b = await read_both(config)
        assert a.values() == {"db": ORG_A}
        assert b.values() == {"db": None}
        [line] = b.signals
        assert line.error is not None and "the credentials were refused (check sources.org_b." in line.error
        # Org B's own key was sent (and refused): its answer came from its own request.
        b_key = next(iter(vendor.env("T_ORGB", False).values()))
        b_requests = [r for r in vendor.api.sent() if b_key in r.headers.get(vendor.credential_header, "")]
        assert b_requests, "a request was sent with org B's own key"
        text = str(render.reading_blocks(b))
        assert f"{ORG_A:g}" not in text and "41" not in text and b_key not in text
    finally:
        vendor.close()


# --- rate limits ---------------------------------------------------------------------------------


@pytest.fixture
def one_org(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Vendor, AppConfig]]:
    vendor = VENDORS[kind]()
    config = two_orgs_config(tmp_path, monkeypatch, vendor)
    config = config.model_copy(update={"teams": config.teams[:1]})
    yield vendor, config
    vendor.close()


async def read_a(config: AppConfig, rt: Any) -> Any:
    team = config.teams[0]
    return await read_team_signals(rt, team_with(team.metrics, team.name, team.channel))  # type: ignore[arg-type]


async def test_a_short_rate_limit_is_waited_out_and_the_answer_is_complete(
    one_org: tuple[Vendor, AppConfig],
) -> None:
    vendor, config = one_org
    reset = vendor.api.limit_for(1.5)
    reading = await read_a(config, mini_runtime(config, AT))
    assert reading.values() == {"db": ORG_A}
    assert reading.errors == {}
    requests = vendor.api.sent()
    limited = [r for r in requests if r.at < reset]
    answered = [r for r in requests if r.at >= reset]
    assert limited, "the first request met the rate limit"
    assert answered, "the request was sent again after the reset"
    # Nothing was re-sent before the reset: every request before it is one of the first wave (each
    # read of the signal sent once, at the start).
    assert len(limited) <= 2
    assert all(r.at - requests[0].at < 0.5 for r in limited)


async def test_a_long_rate_limit_is_not_re_sent_early_and_says_when_to_ask_again(
    one_org: tuple[Vendor, AppConfig],
) -> None:
    vendor, config = one_org
    reset = vendor.api.limit_for(600)
    rt = mini_runtime(config, AT)
    began = time.monotonic()
    reading = await read_a(config, rt)
    assert time.monotonic() - began < 3.0, "a wait longer than the answer's budget is not sat out"
    [line] = reading.signals
    assert line.value is None and line.error is not None
    vendor_names = {"datadog": "Datadog", "newrelic": "New Relic", "prometheus": "Prometheus"}
    next_try = datetime.fromtimestamp(reset, UTC)
    shown = (
        (next_try + timedelta(seconds=59)).replace(second=0, microsecond=0)
        if next_try.second or next_try.microsecond
        else next_try
    )
    assert line.error == (
        f"metrics unavailable from org_a: {vendor_names[vendor.name]} asked us to wait 10 minutes; "
        f"next try at {shown:%H:%M} UTC ({shown:%Y-%m-%d})"
    )
    first_wave = len(vendor.api.sent())
    assert 1 <= first_wave <= 2
    # Asked again (a later command, a later evaluation time): nothing is sent before the reset.
    rt.clock.advance(timedelta(minutes=2))
    again = await read_a(config, rt)
    assert len(vendor.api.sent()) == first_wave
    assert again.get("db").error == line.error  # type: ignore[union-attr]
    # The answer names the time as a Slack date for each reader.
    text = str(render.reading_blocks(again))
    assert f"<!date^{int(shown.timestamp())}^{{time}}|" in text


async def test_during_a_long_rate_limit_the_last_good_figure_is_shown_stale(
    one_org: tuple[Vendor, AppConfig],
) -> None:
    vendor, config = one_org
    rt = mini_runtime(config, AT)
    fresh = await read_a(config, rt)
    assert fresh.values() == {"db": ORG_A}
    vendor.api.limit_for(600)
    rt.clock.advance(timedelta(minutes=5))  # past the cache TTL: the source must be asked
    before = len(vendor.api.sent())
    reading = await read_a(config, rt)
    assert len(vendor.api.sent()) > before, "the source was asked and answered 429"
    [line] = reading.signals
    assert line.value == ORG_A and line.error is None
    [warning] = [w for w in line.warnings if "stale" in w]
    assert "asked us to wait 10 minutes; next try at" in warning
    assert f"showing the figure read {AT:%Y-%m-%d %H:%M} UTC (stale)" in warning


def test_the_datadog_fake_aligns_points_to_the_interval_not_to_from() -> None:
    """Datadog stamps each point with the start of its interval-aligned bucket ("Rollup" in Datadog's
    docs), so a window starting at :30 has its first point at the next whole minute."""
    import httpx

    api = datadog_server({DD_QUERY: {"": lambda t: 0.5}})
    try:
        start = int(AT.timestamp()) - 270  # 11:55:30
        answer = httpx.get(
            f"{api.url}/api/v1/query",
            params={"from": start, "to": int(AT.timestamp()), "query": DD_QUERY},
            headers={
                "DD-API-KEY": DD_API_KEY,
                "DD-APPLICATION-KEY": DD_APP_KEY,
            },
        ).json()
        [series] = answer["series"]
        stamps = [int(p[0] / 1000) for p in series["pointlist"]]
        assert all(s % 60 == 0 for s in stamps) and stamps[0] == start + 30 and stamps[-1] == AT.timestamp()
    finally:
        api.close()
