"""Request signing as Slack does it: v0=HMAC-SHA256(signing_secret, "v0:{timestamp}:{body}")."""

from __future__ import annotations

import hashlib
import hmac
import time


def signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(signing_secret: str, body: bytes, timestamp: str | None = None) -> dict[str, str]:
    """`X-Slack-Request-Timestamp` and `X-Slack-Signature` for `body` (timestamp defaults to now)."""
    ts = timestamp if timestamp is not None else str(int(time.time()))
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(signing_secret, ts, body)}
