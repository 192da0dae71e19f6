"""No token, secret or OAuth code reaches a log line, whatever library logs it and at which level."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import configure_logging, redactor


@pytest.fixture
def captured() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("DEBUG", "text", stream)
    return stream


@pytest.mark.parametrize(
    "line",
    [
        "token xoxb-123456-7890-abcdefABCDEF used",
        "xapp-1-A0123-456-abcdef app token",
        "GET /slack/oauth_redirect?code=1234.5678.abcd&state=s3cr3tstate HTTP/1.1",
        '{"ok": true, "access_token": "xoxe.xoxb-1-2abc", "team": {"id": "T1"}}',
        "headers={'Authorization': 'Bearer xoxb-1-2-3abc'}",
        "Received the following response - status: 200, body: {'access_token': 'xoxb-9-9-zzz'}",
        "redis://:hunter2pw@127.0.0.1:6379/0",
        "client_secret=shhh123&code=abc",
        "Handling an OAuth callback success (request: {'code': ['1795.codecode'], 'state': ['st4t3st4t3']})",
        "Sending a request - url: https://hooks.slack.com/actions/T0001/1234/hooksecret9, body: {}",
        "Sending a request - url: http://127.0.0.1:3000/localslack/hooks/response/hookid9secret, body: {}",
    ],
)
def test_credentials_by_shape_are_redacted(captured: io.StringIO, line: str) -> None:
    logging.getLogger("slack_sdk.web.async_base_client").debug(line)
    out = captured.getvalue()
    for secret in (
        "xoxb-123456",
        "xapp-1-A0123",
        "1234.5678",
        "s3cr3tstate",
        "xoxe.xoxb",
        "xoxb-1-2-3abc",
        "xoxb-9-9-zzz",
        "hunter2pw",
        "shhh123",
        "hooksecret9",
        "hookid9secret",
    ):
        assert secret not in out
    assert "[redacted]" in out


def test_registered_values_are_redacted_in_args_and_tracebacks(captured: io.StringIO) -> None:
    redactor.add("my-signing-secret-value")
    try:
        raise RuntimeError("failed with my-signing-secret-value")
    except RuntimeError:
        logging.getLogger("anything").exception("boom %s", "my-signing-secret-value")
    assert "my-signing-secret-value" not in captured.getvalue()
    assert captured.getvalue().count("[redacted]") >= 2


def test_json_format_is_one_object_per_line_with_extras() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream)
    logging.getLogger("bot.test").info("hello", extra={"workspace": "T1", "error_id": "abcd1234"})
    record = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert record["message"] == "hello"
    assert record["workspace"] == "T1" and record["error_id"] == "abcd1234"
    assert record["level"] == "INFO"
