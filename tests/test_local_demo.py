"""Local mode's demo metrics source, served by the same process: its HTTP API (Prometheus's shapes,
its errors, the bearer token) and the wiring that points #payments and #search at it only in local mode
and only when the config declares no sources."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bot.config import AppConfig
from bot.localdemo import PREFIX, SOURCE, TOKEN_ENV
from bot.metrics.config import PrometheusSource
from bot.premortem.render import ACTION_ANSWER
from storage.metrics import MetricsSnapshotRow
from tests.browser.harness import LEAD, MANAGER, MANAGERS, PAYMENTS, SEARCH, LocalBot, wait_for
from tests.harness import BotServer

QUERY = f"{PREFIX}/api/v1/query"
RANGE = f"{PREFIX}/api/v1/query_range"
P95_READS = (
    'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="payments",'
    'method=~"GET|HEAD"}[5m])))'
)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalBot]:
    bot = LocalBot(f"sqlite:///{tmp_path}/scalebot.sqlite3")
    bot.start()
    yield bot
    bot.close()


def _auth(bot: LocalBot) -> dict[str, str]:
    assert bot.local.demo is not None
    return {"Authorization": f"Bearer {bot.local.demo.token}"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- the API -----------------------------------------------------------------------------------------


def test_the_demo_source_refuses_a_request_without_its_bearer_token(local: LocalBot) -> None:
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": "Basic dTpw"}):
        response = local.http.get(QUERY, params={"query": "up"}, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_an_unknown_function_or_query_gets_prometheus_bad_data_error(local: LocalBot) -> None:
    for query in ("no_such_function(up)", "up{", "sum(up) by", ""):
        response = local.http.get(QUERY, params={"query": query}, headers=_auth(local))
        assert response.status_code == 400, query
        body = response.json()
        assert body["status"] == "error" and body["errorType"] == "bad_data", body
        assert body["error"]
    response = local.http.get(QUERY, params={"query": "no_such_function(up)"}, headers=_auth(local))
    assert "unknown function" in response.json()["error"]


def test_a_function_outside_the_subset_is_refused_not_answered(local: LocalBot) -> None:
    for query in (
        'label_replace(up, "a", "$1", "instance", "(.*)")',
        "topk(1, up)",
        "up + on(job) group_left up",
    ):
        body = local.http.post(QUERY, data={"query": query}, headers=_auth(local)).json()
        assert body == {"status": "error", "errorType": "bad_data", "error": body["error"]}, query
        assert "not supported by the demo source" in body["error"]


def test_bad_parameters_get_prometheus_messages(local: LocalBot) -> None:
    auth = _auth(local)
    bad_time = local.http.get(QUERY, params={"query": "up", "time": "yesterday"}, headers=auth).json()
    assert bad_time["error"] == 'invalid parameter "time": cannot parse "yesterday" to a valid timestamp'
    now = time.time()
    backwards = {"query": "up", "start": f"{now}", "end": f"{now - 60}", "step": "60"}
    assert (
        "end timestamp must not be before start time"
        in local.http.get(RANGE, params=backwards, headers=auth).text
    )
    too_many = {"query": "up", "start": f"{now - 86400 * 20}", "end": f"{now}", "step": "60"}
    answer = local.http.get(RANGE, params=too_many, headers=auth)
    assert (
        answer.status_code == 400 and "exceeded maximum resolution of 11,000 points" in answer.json()["error"]
    )
    ranged = local.http.get(
        RANGE,
        params={"query": "up[5m]", "start": f"{now - 600}", "end": f"{now}", "step": "60"},
        headers=auth,
    )
    assert ranged.json()["error"].startswith('invalid expression type "range vector" for range query')
    many = local.http.get(QUERY, params={"query": "up / on(service) up"}, headers=auth)
    assert many.status_code == 422 and many.json()["errorType"] == "execution"


def test_answers_have_prometheus_shapes(local: LocalBot) -> None:
    auth = _auth(local)
    now = time.time()
    vector = local.http.get(
        QUERY, params={"query": 'up{service="search"}', "time": f"{now:.3f}"}, headers=auth
    ).json()
    assert vector["status"] == "success" and vector["data"]["resultType"] == "vector"
    assert sorted(r["metric"]["instance"] for r in vector["data"]["result"]) == [
        "search-1:8080",
        "search-2:8080",
        "search-3:8080",
    ]
    assert all(r["value"] == [round(now, 3), "1"] for r in vector["data"]["result"])
    scalar = local.http.post(
        QUERY, data={"query": "scalar(vector(2)) * 3", "time": f"{now:.3f}"}, headers=auth
    )
    assert scalar.json()["data"] == {"resultType": "scalar", "result": [round(now, 3), "6"]}
    matrix = local.http.get(
        RANGE,
        params={"query": P95_READS, "start": f"{now - 3600:.3f}", "end": f"{now:.3f}", "step": "600"},
        headers=auth,
    ).json()
    assert matrix["data"]["resultType"] == "matrix"
    (series,) = matrix["data"]["result"]
    assert series["metric"] == {} and len(series["values"]) == 7
    assert all(float(v) > 0.1 for _, v in series["values"])  # reads over the read-replica rule's 100 ms
    # Asked about a time before the generated history: Prometheus's warnings field says so.
    early = local.http.get(
        QUERY, params={"query": "up", "time": f"{now - 86400 * 60:.3f}"}, headers=auth
    ).json()
    assert early["data"]["result"] == [] and "history starts at" in early["warnings"][0]
    # And nothing after now: the history's day ahead is not shown.
    later = local.http.get(QUERY, params={"query": "up", "time": f"{now + 3600:.3f}"}, headers=auth).json()
    assert later["data"]["result"] == []


# -- the wiring ---------------------------------------------------------------------------------------


def test_local_mode_declares_the_demo_source_with_a_per_process_token_looked_up_like_any_secret(
    local: LocalBot,
) -> None:
    config = local.state.rt.config
    source = config.sources[SOURCE]
    assert isinstance(source, PrometheusSource)
    assert str(source.url) == f"{local.url}{PREFIX}"
    assert source.bearer_token_env == TOKEN_ENV
    assert local.local.demo is not None
    assert config.secret(TOKEN_ENV) == local.local.demo.token
    teams = {t.channel: t for t in config.teams}
    assert teams[PAYMENTS].metrics is not None and teams[PAYMENTS].metrics.service == "payments"
    assert teams[SEARCH].metrics is not None and teams[SEARCH].metrics.service == "search"
    assert teams[PAYMENTS].premortem is not None and teams[PAYMENTS].premortem.signal_components


def test_scale_check_metrics_in_payments_shows_numbers_headroom_and_the_read_latency_trigger(
    local: LocalBot,
) -> None:
    assert local.act("send", LEAD, channel=PAYMENTS, text="/scale-check metrics")["ok"]

    def answer() -> str:
        return _text(str(local.page_state(LEAD)["panes"]["main"]["html"]))

    wait_for(lambda: "Breaks first at 10x" in answer(), timeout=15, message="no metrics answer")
    text = answer()
    assert re.search(r"p95 read latency \d+ ms[^()]*\(limit 100 ms\)", text)
    first = text.split("Breaks first at 10x", 1)[1]
    assert re.search(r"1\. database pool — headroom ×1\.\d+", first), first[:300]
    # each value says the window it covers, as its signal's line does
    assert re.search(r"database pool — headroom ×[\d.]+ \([\d.]+% over the last day, ceiling 80%\)", first)
    assert re.search(r"p95 latency — headroom ×[\d.]+ \(\d+ ms over the last 5 minutes, limit", first)
    assert re.search(r"Scaling triggers .*p95 read latency \d+ ms[^→]* is over 100 ms", text)
    assert "from demo (Prometheus)" in text
    assert "no metrics source" not in text
    assert "Demo data: generated metrics served by the local demo source" in local.http.get("/console").text
    assert local.local.demo is not None and local.local.demo.token not in text


def test_search_is_healthy(local: LocalBot) -> None:
    assert local.act("send", LEAD, channel=SEARCH, text="/scale-check metrics")["ok"]

    def answer() -> str:
        return _text(str(local.page_state(LEAD, channel=SEARCH)["panes"]["main"]["html"]))

    wait_for(lambda: "Scaling triggers" in answer(), timeout=15, message="no metrics answer")
    text = answer()
    assert re.search(r"Scaling triggers\s*: none breached", text), text
    assert "🔴" not in text and re.search(r"availability 100%", text)


def test_a_config_with_its_own_sources_gets_no_demo(tmp_path: Path) -> None:
    own = AppConfig.model_validate(
        {"sources": {"prom": {"kind": "prometheus", "url": "http://127.0.0.1:9/"}}}
    )
    bot = LocalBot(f"sqlite:///{tmp_path}/scalebot.sqlite3", config=own)
    bot.start()
    try:
        assert bot.local.demo is None
        assert set(bot.state.rt.config.sources) == {"prom"}
        assert bot.http.get(QUERY, params={"query": "up"}).status_code == 404
        assert "Demo data" not in bot.http.get("/console").text
    finally:
        bot.close()


def test_with_slack_credentials_there_is_no_demo_source(bot: BotServer) -> None:
    assert bot.state.rt.config.sources == {}
    assert "local" not in bot.state.extras
    assert httpx.get(f"{bot.url}{QUERY}", params={"query": "up"}).status_code == 404


def _messages_with(bot: LocalBot, needle: str) -> list[Any]:
    with bot.store.lock:
        return [
            m
            for m in bot.store.messages.get(PAYMENTS, [])
            if needle in json.dumps(m.blocks or []) or needle in m.text
        ]


def test_the_premortems_data_says_ranks_the_demo_pool_first_and_agrees_with_the_lead(local: LocalBot) -> None:
    assert local.act("send", LEAD, channel=PAYMENTS, text="/scale-check premortem")["ok"]
    prompt = wait_for(
        lambda: _messages_with(local, ACTION_ANSWER), timeout=10, message="no pre-mortem prompt"
    )[0]
    assert local.act(
        "click", LEAD, channel=PAYMENTS, ts=prompt.ts, action_id=ACTION_ANSWER, block_id=None, value=None
    )["ok"]
    view = wait_for(lambda: local.page_state(LEAD)["view"], message="no answer modal")
    values = {
        "risk1_other": {"value": "Database"},
        "risk1_why": {"value": "the pool runs out of connections"},
    }
    assert local.act("submit", LEAD, view_id=view["id"], values=values)["ok"]
    data = wait_for(lambda: _messages_with(local, "What the data says"), timeout=15, message="no data says")[
        0
    ]
    text = json.dumps(data.blocks)
    assert "from *demo*" in text
    first = text.split("1. `", 1)[1]
    assert first.startswith("database_pool`") and "breaks first at 10x" in first.split("\\n")[0]
    assert "Database" in first.split("\\n")[0]  # the lead named it, and the config maps the pool to it


def test_the_digest_shows_the_demo_teams_breached_triggers(local: LocalBot) -> None:
    assert local.act("send", MANAGER, channel=MANAGERS, text="/scale-check digest preview")["ok"]

    def answer() -> str:
        return _text(str(local.page_state(MANAGER, channel=MANAGERS)["panes"]["main"]["html"]))

    wait_for(lambda: "Breached scaling triggers" in answer(), timeout=20, message="no digest preview")
    text = answer()
    assert re.search(r"Payments\s*: p95 read latency \d+ ms[^()]*\(limit 100 ms\)", text), text
    assert re.search(r"Payments\s*: availability 99\.\d+%", text), text
    assert "Search :" not in text.split("Breached scaling triggers", 1)[1].split("⏳", 1)[0]


def test_the_demo_package_imports_nothing_from_the_bot() -> None:
    import ast

    import demometrics

    root = Path(demometrics.__file__).parent
    imported = set()
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
    assert "demometrics" in imported and "promql_parser" in imported  # the walk sees the imports
    assert not imported & {"bot", "handlers", "storage", "localslack", "tests"}


def test_the_first_start_keeps_two_past_weekly_snapshots_read_from_the_demo(local: LocalBot) -> None:
    def weeks(session: Any) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for row in session.exec(select(MetricsSnapshotRow).order_by(col(MetricsSnapshotRow.week_start))):
            out.setdefault(row.channel_id, []).append(row)
        return out

    kept = wait_for(
        lambda: (w := local.db(weeks)) and all(len(v) == 2 for v in w.values()) and len(w) == 2 and w
    )
    payments = kept[PAYMENTS]
    assert (payments[1].week_start - payments[0].week_start).days == 7
    assert all(r.source == SOURCE for r in payments)
    pool = [r.values["database_pool"]["value"] for r in payments]
    assert all(0.5 < p < 0.65 for p in pool) and pool[0] < pool[1]  # busy, and growing week by week
