"""Hypothesis sends signed Slack payloads of every kind the bot receives, valid and mangled, over real
HTTP to the running app (issue 13): no 5xx, no traceback in the log, no row under an unknown or empty
workspace, and a valid payload with extra fields still does what it does without them.

A bounded number of examples runs in CI; `SCALEBOT_FUZZ_EXAMPLES=2000` runs more. The figures
(examples sent, statuses seen, time taken) are written to the run's log directory as fuzz-figures.json.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from bot.checklist.render_modal import VIEW_ANSWER as CHECK_VIEW
from bot.debt.render import MODAL_CALLBACK as DEBT_VIEW
from bot.premortem.render import ACTION_ANSWER
from bot.premortem.render_modals import VIEW_ANSWER as PREMORTEM_VIEW
from bot.routes.slack_events import _SHAPES as SLACK_FIELD_TYPES
from bot.setup.modal import CALLBACK_ID as SETUP_VIEW
from localslack import signed_headers
from storage.workspace_data import WORKSPACE_COLUMN, WORKSPACE_TABLES
from tests.conftest import LOG_DIR_ENV
from tests.harness import SIGNING_SECRET, BotServer, Seeded

EXAMPLES = int(os.environ.get("SCALEBOT_FUZZ_EXAMPLES", "120"))
FIGURES: dict[str, Any] = {"examples": 0, "statuses": collections.Counter(), "seconds": 0.0}

TEAM, USER, CHANNEL = "T0001", "U0LEAD1", "C0PAYMENTS"
SUBCOMMANDS = ["help", "check", "premortem", "metrics", "debt", "setup", "digest", "hepl", ""]
CALLBACKS = [CHECK_VIEW, DEBT_VIEW, PREMORTEM_VIEW, SETUP_VIEW, "unknown:view"]
ACTIONS = [ACTION_ANSWER, "checklist:answer", "debt:record", "home:refresh", "unknown:action"]

# Values Slack never sends where the bot reads them: the wrong type, huge, deep, unencodable.
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(["\x00", "\ud800", "a\ud83db", "\n2026-01-01 ERROR forged", "<!channel>", "&lt;"]),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
)
huge_text = st.integers(min_value=10_000, max_value=400_000).map(lambda n: "x" * n)
deep_value = st.integers(min_value=20, max_value=120).map(lambda n: json.loads("[" * n + "1" + "]" * n))
odd_value = st.one_of(json_value, huge_text, deep_value)


# Field names Slack gives a meaning: the request path reads them with Slack's types (a `view` that is not
# an object is refused as malformed) or acts on them (`ssl_check=1` is Slack's certificate check). An
# extra field is any other name (`mangled` below sends these with odd values, and no 5xx may follow).
# Hypothesis draws names from the constants of the code under test, so it does try them.
SLACK_FIELDS = {*SLACK_FIELD_TYPES, "payload", "ssl_check"}


def command(sub: str) -> dict[str, Any]:
    return {
        "command": "/scale-check",
        "text": sub,
        "team_id": TEAM,
        "team_domain": "acme",
        "user_id": USER,
        "user_name": "ana",
        "channel_id": CHANNEL,
        "channel_name": "payments",
        "trigger_id": "1.2.3",
        "api_app_id": "A0SCALEBOT",
    }


def interactive(kind: str, name: str) -> dict[str, Any]:
    who = {
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": USER, "team_id": TEAM},
        "api_app_id": "A0SCALEBOT",
    }
    view = {
        "id": "V0FUZZ",
        "type": "modal",
        "callback_id": name,
        "team_id": TEAM,
        "private_metadata": "",
        "blocks": [],
        "state": {"values": {"b1": {"a1": {"type": "plain_text_input", "value": "text"}}}},
    }
    if kind == "block_actions":
        return {
            "type": kind,
            **who,
            "trigger_id": "1.2.3",
            "channel": {"id": CHANNEL},
            "container": {"type": "message", "channel_id": CHANNEL, "message_ts": "1.000001"},
            "message": {"ts": "1.000001", "text": "x", "blocks": []},
            "actions": [
                {"type": "button", "action_id": name, "block_id": "b", "value": "1", "action_ts": "1"}
            ],
        }
    if kind == "block_suggestion":
        return {"type": kind, **who, "action_id": name, "block_id": "b", "value": "que", "view": view}
    if kind == "shortcut":
        return {"type": kind, **who, "callback_id": name, "trigger_id": "1.2.3"}
    return {"type": kind, **who, "view": view, "trigger_id": "1.2.3"}


def event(kind: str) -> dict[str, Any]:
    inner: dict[str, Any] = {"type": kind, "user": USER, "channel": CHANNEL, "event_ts": "1.000001"}
    if kind == "app_home_opened":
        inner["tab"] = "home"
    return {
        "type": "event_callback",
        "team_id": TEAM,
        "api_app_id": "A0SCALEBOT",
        "event": inner,
        "event_id": "Ev0FUZZ",
        "event_time": 1,
        "authorizations": [
            {"team_id": TEAM, "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}
        ],
    }


base_payload = st.one_of(
    st.tuples(st.just("form"), st.sampled_from(SUBCOMMANDS).map(command)),
    st.tuples(
        st.just("interactive"),
        st.builds(
            interactive,
            st.sampled_from(
                ["block_actions", "view_submission", "view_closed", "block_suggestion", "shortcut"]
            ),
            st.sampled_from(CALLBACKS + ACTIONS),
        ),
    ),
    st.tuples(
        st.just("json"),
        st.sampled_from(["app_home_opened", "member_joined_channel", "message", "x"]).map(event),
    ),
)


@st.composite
def mangled(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    encoding, payload = draw(base_payload)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        action = draw(st.sampled_from(["extra", "missing", "mistyped", "nested"]))
        keys = list(payload)
        if action == "extra":
            payload[draw(st.text(min_size=1, max_size=12))] = draw(odd_value)
        elif action == "missing" and keys:
            payload.pop(draw(st.sampled_from(keys)))
        elif action == "mistyped" and keys:
            payload[draw(st.sampled_from(keys))] = draw(odd_value)
        else:
            inner = [k for k in keys if isinstance(payload[k], dict)]
            if inner:
                target = payload[draw(st.sampled_from(inner))]
                sub = list(target)
                if sub:
                    target[draw(st.sampled_from(sub))] = draw(odd_value)
    return encoding, payload


def encode(encoding: str, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    if encoding == "form":
        fields = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}
        body = urlencode(fields, encoding="utf-8", errors="surrogatepass").encode()
        ctype = "application/x-www-form-urlencoded"
    elif encoding == "interactive":
        body = urlencode({"payload": json.dumps(payload)}).encode()
        ctype = "application/x-www-form-urlencoded"
    else:
        body, ctype = json.dumps(payload).encode(), "application/json"
    return body, {**signed_headers(SIGNING_SECRET, body), "Content-Type": ctype}


class Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info or record.exc_text:
            self.seen.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture
def tracebacks() -> Iterator[Tracebacks]:
    handler = Tracebacks()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=15) as c:
        yield c


def _foreign_rows(bot: BotServer, known: str) -> dict[str, int]:
    def count(session: Any) -> dict[str, int]:
        found = {}
        for name in WORKSPACE_TABLES:
            sql = f"SELECT COUNT(*) FROM {name} WHERE {WORKSPACE_COLUMN} <> :w OR {WORKSPACE_COLUMN} IS NULL"  # noqa: S608
            found[name] = session.execute(text(sql), {"w": known}).scalar_one()
        return {k: v for k, v in found.items() if v}

    return bot.db(count)  # type: ignore[no-any-return]


def _write_figures() -> None:
    figures = {**FIGURES, "statuses": dict(FIGURES["statuses"])}
    (Path(os.environ[LOG_DIR_ENV]) / "fuzz-figures.json").write_text(json.dumps(figures, indent=2))
    print(f"\nfuzz figures: {figures}")


@pytest.mark.slow
def test_fuzzed_slack_payloads_never_get_a_5xx_or_a_traceback(
    bot: BotServer, seeded: Seeded, client: httpx.Client, tracebacks: Tracebacks
) -> None:
    started = time.monotonic()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
        derandomize=os.environ.get("SCALEBOT_FUZZ_SEED") is None,
    )
    @given(mangled())
    def send(example: tuple[str, dict[str, Any]]) -> None:
        body, headers = encode(*example)
        response = client.post(bot.events_url, content=body, headers=headers)
        FIGURES["examples"] += 1
        FIGURES["statuses"][response.status_code] += 1
        assert response.status_code < 500, (response.status_code, response.text, body[:300])

    try:
        send()
    finally:
        FIGURES["seconds"] = round(FIGURES["seconds"] + time.monotonic() - started, 1)
        _write_figures()
    time.sleep(1.0)  # work after the acks
    assert not tracebacks.seen, tracebacks.seen[:10]
    assert not _foreign_rows(bot, seeded.team_id)


@pytest.mark.slow
def test_valid_payloads_with_extra_fields_still_do_what_they_do(
    bot: BotServer, client: httpx.Client, tracebacks: Tracebacks
) -> None:
    @settings(max_examples=max(20, EXAMPLES // 5), deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.dictionaries(
            st.text(min_size=1, max_size=12).filter(
                lambda k: k not in command("help") and k not in SLACK_FIELDS
            ),
            json_value,
            max_size=5,
        )
    )
    def send(extra: dict[str, Any]) -> None:
        body, headers = encode("form", {**command("help"), **extra})
        response = client.post(bot.events_url, content=body, headers=headers)
        FIGURES["examples"] += 1
        FIGURES["statuses"][response.status_code] += 1
        assert response.status_code == 200, response.text
        assert "/scale-check help" in response.text

    send()
    assert not tracebacks.seen


def route_paths(routes: Iterable[Any]) -> set[str]:
    """Every route's path, through the routers create_app includes (FastAPI keeps an included router as
    one entry whose `original_router` holds its routes)."""
    paths: set[str] = set()
    for route in routes:
        if (included := getattr(route, "original_router", None)) is not None:
            paths |= route_paths(included.routes)
        elif isinstance(path := getattr(route, "path", None), str):
            paths.add(path)
    return paths


@pytest.mark.slow
def test_every_other_endpoint_answers_odd_requests_without_a_5xx(
    bot: BotServer, client: httpx.Client, tracebacks: Tracebacks
) -> None:
    assert bot.app is not None
    paths = sorted(p for p in route_paths(bot.app.routes) if "{" not in p)
    assert {"/healthz", "/readyz", "/metrics", "/slack/events"} <= set(paths)

    @settings(max_examples=max(20, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.sampled_from(paths),
        st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
        st.one_of(st.binary(max_size=2000), huge_text.map(str.encode)),
    )
    def send(path: str, method: str, body: bytes) -> None:
        response = client.request(method, f"{bot.url}{path}", content=body)
        FIGURES["examples"] += 1
        FIGURES["statuses"][response.status_code] += 1
        assert response.status_code < 500 or (path == "/readyz" and response.status_code == 503)

    send()
    assert not tracebacks.seen
    oversized = client.post(f"{bot.url}/healthz", content=b"x" * (2 << 20))
    assert oversized.status_code == 413
