"""The one outbound policy: each vendor's rate-limit forms and reset headers read as documented."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from bot import outbound

NOW = 1_800_000_000.0  # a fixed wall-clock time (epoch seconds)


def response(status: int, headers: dict[str, str] | None = None, body: Any = None) -> httpx.Response:
    content = json.dumps(body).encode() if body is not None else b""
    kind = {"content-type": "application/json"} if body is not None else {}
    return httpx.Response(status, headers={**kind, **(headers or {})}, content=content)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (format_datetime(datetime.fromtimestamp(NOW + 90, UTC), usegmt=True), 90.0),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(value: str, seconds: float | None) -> None:
    assert outbound.retry_after(value, NOW) == seconds


@pytest.mark.parametrize(
    ("limits", "answer", "reset"),
    [
        # Datadog: X-RateLimit-Reset is the seconds until the reset.
        (outbound.DATADOG, response(429, {"X-RateLimit-Reset": "2", "X-RateLimit-Period": "60"}), NOW + 2),
        # Jira: Retry-After seconds, X-RateLimit-Reset an ISO 8601 time (the later one wins).
        (outbound.JIRA, response(429, {"Retry-After": "600"}), NOW + 600),
        (
            outbound.JIRA,
            response(
                429, {"X-RateLimit-Reset": datetime.fromtimestamp(NOW + 660, UTC).strftime("%Y-%m-%dT%H:%MZ")}
            ),
            (NOW + 660) // 60 * 60,
        ),
        # GitHub: an exhausted primary limit is a 403 with x-ratelimit-remaining 0 and an epoch reset.
        (
            outbound.GITHUB,
            response(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW + 1800))}),
            NOW + 1800,
        ),
        (outbound.GITHUB, response(429, {"retry-after": "30"}), NOW + 30),
        # GitHub GraphQL: a RATE_LIMITED error under HTTP 200, no header: at least a minute.
        (
            outbound.GITHUB,
            response(200, body={"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}),
            NOW + 60,
        ),
        # Linear: RATELIMITED under HTTP 400, reset in epoch milliseconds.
        (
            outbound.LINEAR,
            response(
                400,
                {"X-RateLimit-Requests-Reset": str(int((NOW + 300) * 1000))},
                {"errors": [{"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}]},
            ),
            NOW + 300,
        ),
        # New Relic NerdGraph: HTTP 429.
        (outbound.NEW_RELIC, response(429, body={"errors": [{"message": "Too many requests"}]}), NOW + 60),
    ],
)
def test_each_vendors_rate_limit_and_reset_are_read_as_documented(
    limits: outbound.Limits, answer: httpx.Response, reset: float
) -> None:
    assert limits.reset(answer, NOW) == pytest.approx(reset)


@pytest.mark.parametrize(
    ("limits", "answer"),
    [
        (outbound.GITHUB, response(403, body={"message": "Resource not accessible by integration"})),
        (
            outbound.LINEAR,
            response(
                400, body={"errors": [{"message": "x", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]}
            ),
        ),
        (
            outbound.LINEAR,
            response(
                400, body={"errors": [{"message": "x", "extensions": {"code": "AUTHENTICATION_ERROR"}}]}
            ),
        ),
        (
            outbound.NEW_RELIC,
            response(
                401,
                body={
                    "errors": [{"message": "Invalid API key", "extensions": {"errorClass": "BAD_API_KEY"}}]
                },
            ),
        ),
        (outbound.DATADOG, response(400, body={"errors": ["Error parsing query"]})),
        (outbound.PROMETHEUS, response(503)),
    ],
)
def test_bad_queries_refused_keys_and_outages_are_not_rate_limits(
    limits: outbound.Limits, answer: httpx.Response
) -> None:
    assert limits.reset(answer, NOW) is None


def test_the_reason_says_how_long_and_when_and_slack_shows_the_time_in_each_readers_zone() -> None:
    limit = outbound.RateLimited("Jira Cloud", datetime(2026, 3, 5, 14, 31, 20, tzinfo=UTC).timestamp(), 600)
    assert limit.reason == "Jira Cloud asked us to wait 10 minutes; next try at 14:32 UTC (2026-03-05)"
    stamp = int(datetime(2026, 3, 5, 14, 32, tzinfo=UTC).timestamp())
    assert outbound.mrkdwn(limit.reason + " <b>") == (
        f"Jira Cloud asked us to wait 10 minutes; next try at <!date^{stamp}^{{time}}|2026-03-05 14:32 UTC> &lt;b&gt;"
    )


def test_a_credential_id_names_credentials_without_holding_them() -> None:
    one, other = outbound.credential_id("key-A", "app-A"), outbound.credential_id("key-B", "app-A")
    assert one != other and one == outbound.credential_id("key-A", "app-A")
    assert "key-A" not in one


async def test_a_short_limit_is_waited_out_and_a_long_one_raises_without_sending() -> None:
    sent: list[float] = []
    answers = [response(429, {"X-RateLimit-Reset": "1"}), response(200, body={"ok": True})]

    async def call() -> httpx.Response:
        import time

        sent.append(time.time())
        return answers.pop(0) if len(answers) > 1 else answers[0]

    policy = outbound.Policy(timeout=1, wait_within=3)
    got = await outbound.send(call, policy=policy, limits=outbound.DATADOG, service="Datadog", key="t-short")
    assert got.status_code == 200 and len(sent) == 2 and sent[1] - sent[0] >= 1.0

    long: list[httpx.Response] = [response(429, {"X-RateLimit-Reset": "600"})]

    async def limited() -> httpx.Response:
        sent.append(0)
        return long[0]

    sent.clear()
    with pytest.raises(outbound.RateLimited) as first:
        await outbound.send(limited, policy=policy, limits=outbound.DATADOG, service="Datadog", key="t-long")
    with pytest.raises(outbound.RateLimited) as second:
        await outbound.send(limited, policy=policy, limits=outbound.DATADOG, service="Datadog", key="t-long")
    assert len(sent) == 1, "the second call sent nothing before the reset"
    assert second.value.next_try == first.value.next_try
    # Another key (other credentials) is not held back by this one's limit.
    await outbound.send(call, policy=policy, limits=outbound.DATADOG, service="Datadog", key="t-other")
