"""`POST /slack/events`: size limit (413) → signature and timestamp (401) → parse and shape (400) →
Bolt, whose listeners ack first and leave slow work to lazy listeners (see handlers/base.py).

`classify`, `shape_problem` and `dispatch` are shared with Socket Mode (bot/socket_mode.py).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.limits import MAX_BODY_BYTES, read_limited
from bot.payloads import (
    ENTERPRISE_NOT_SUPPORTED,
    encode_like,
    is_enterprise_install,
    missing_field,
    parsing_problem,
    workspace_id,
)
from bot.storable import clean_payload

if TYPE_CHECKING:
    from bot.app import AppState

log = logging.getLogger(__name__)

SIGNATURE_MAX_AGE = 60 * 5


def signature_is_valid(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """Slack's v0 request signature over the raw bytes (slack_sdk's verifier decodes them first and
    raises on a body that is not UTF-8)."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def classify(body: dict[str, Any]) -> str:
    """The metric label for a request: command, action, view, options, event or other."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    return {
        "block_actions": "action",
        "interactive_message": "action",
        "shortcut": "action",
        "message_action": "action",
        "view_submission": "view",
        "view_closed": "view",
        "block_suggestion": "options",
        "event_callback": "event",
    }.get(str(kind), "other")


# The fields Bolt reads while routing, with the types Slack sends. Bolt catches what its own
# routing raises on a field of another type and answers 500, which Slack would retry; a payload
# like that is malformed, so it is refused with a 400 before it reaches Bolt.
_TEXT = (str,)
_OBJECT = (dict,)
_LIST = (list,)
_SHAPES: dict[str, tuple[type, ...]] = {
    "type": _TEXT,
    "command": _TEXT,
    "team_id": _TEXT,
    "user_id": _TEXT,
    "channel_id": _TEXT,
    "enterprise_id": _TEXT,
    "api_app_id": _TEXT,
    "event_id": _TEXT,
    "callback_id": _TEXT,
    "action_id": _TEXT,
    "block_id": _TEXT,
    "trigger_id": _TEXT,
    "response_url": _TEXT,
    "value": _TEXT,
    "token": _TEXT,
    "team": (dict, str, type(None)),
    "user": (dict, str),
    "channel": (dict, str),
    "enterprise": (dict, str, type(None)),
    "event": _OBJECT,
    "view": _OBJECT,
    "container": _OBJECT,
    "message": _OBJECT,
    "state": _OBJECT,
    "actions": _LIST,
    "authorizations": _LIST,
}
_NESTED = ("event", "view", "container", "message", "team", "user", "channel", "enterprise")


def shape_problem(body: dict[str, Any], depth: int = 0) -> str | None:
    """The first field whose type Slack never sends (and Bolt cannot route), or None."""
    for key, allowed in _SHAPES.items():
        if key in body and not isinstance(body[key], allowed):
            return key
    for action in body.get("actions") or []:
        if not isinstance(action, dict) or shape_problem(action, depth + 1) is not None:
            return "actions"
    for auth in body.get("authorizations") or []:
        if not isinstance(auth, dict):
            return "authorizations"
    if depth < 2:
        for key in _NESTED:
            inner = body.get(key)
            if isinstance(inner, dict) and (found := shape_problem(inner, depth + 1)) is not None:
                return f"{key}.{found}"
    return None


async def dispatch(
    bolt: AsyncApp, request: AsyncBoltRequest, kind: str, guard: Any = None
) -> tuple[BoltResponse, str]:
    """Bolt's answer to a request that arrived over HTTP or Socket Mode, and its outcome label."""
    if guard is not None and (early := await guard(request.body)) is not None:
        return early, "inactive"
    response = await bolt.async_dispatch(request)
    if kind == "event" and response.status == 404:
        # An event nothing listens to is still acked: Slack retries anything but a 2xx and
        # eventually turns the subscription off.
        response = BoltResponse(status=200, body="")
        request.context["scalebot_outcome"] = "unhandled"
    outcome = request.context.get("scalebot_outcome") or (
        "ok" if response.status < 400 else ("unhandled" if response.status == 404 else "error")
    )
    return response, str(outcome)


def events_router(state: AppState) -> APIRouter:
    """The route Slack posts commands, interactions and events to (HTTP, OAuth and local modes)."""
    router = APIRouter()
    rt, bolt = state.rt, state.bolt
    secret_bytes = state.signing_secret.encode() if state.signing_secret else None

    @router.post("/slack/events")
    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        kind, outcome = "other", "ok"
        try:
            response = await _handle(request)
            kind, outcome = (
                response.headers.get("x-scalebot-kind", kind),
                response.headers.get("x-scalebot-outcome", outcome),
            )
            return response
        finally:
            rt.telemetry.requests.labels(kind=kind, outcome=outcome).inc()
            rt.telemetry.ack_seconds.labels(kind=kind).observe(time.perf_counter() - started)

    def _refuse(status: int, reason: str, outcome: str) -> Response:
        return PlainTextResponse(reason, status_code=status, headers={"x-scalebot-outcome": outcome})

    async def _handle(request: Request) -> Response:
        body = await read_limited(request, MAX_BODY_BYTES)
        if body is None:
            return _refuse(413, "request body too large", "too_large")
        if body.startswith(b"ssl_check=1") or b"&ssl_check=1" in body:
            # Slack's certificate check: it only wants a 200, and nothing is processed.
            return PlainTextResponse("", headers={"x-scalebot-outcome": "ssl_check"})
        if secret_bytes is None:
            return _refuse(404, "this deployment receives Slack events over Socket Mode", "rejected")
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        # slack_sdk's verifier raises on a non-numeric timestamp; a malformed header is a bad signature.
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not signature:
            return _refuse(401, "invalid signature", "bad_signature")
        if abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE:
            return _refuse(401, "stale request timestamp", "stale")
        if not signature_is_valid(secret_bytes, timestamp, body, signature):
            return _refuse(401, "invalid signature", "bad_signature")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse(400, "malformed payload", "malformed")
        if (problem := parsing_problem(text)) is not None:
            log.info("payload refused", extra={"reason": problem})
            return _refuse(400, f"malformed payload: {problem}", "malformed")
        try:
            bolt_request = AsyncBoltRequest(
                body=text,
                query=dict(request.query_params),
                headers=dict(request.headers),
            )
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return _refuse(400, "malformed payload", "malformed")
        parsed = bolt_request.body
        if (
            not isinstance(parsed, dict)
            or not parsed
            or (classify(parsed) == "other" and "type" not in parsed)
            or shape_problem(parsed) is not None
        ):
            return _refuse(400, "malformed payload", "malformed")
        if (missing := missing_field(parsed)) is not None:
            return _refuse(400, f"malformed payload: no {missing}", "malformed")
        kind = classify(parsed)
        if clean_payload(parsed):  # Bolt's lazy listeners parse the raw body again: re-encoded
            bolt_request = AsyncBoltRequest(
                body=encode_like(text, parsed),
                query=dict(request.query_params),
                headers=dict(request.headers),
            )
            parsed = bolt_request.body
        if early := _unsupported_or_anonymous(parsed, kind):
            return early
        try:
            bolt_response, outcome = await dispatch(bolt, bolt_request, kind, state.guard)
        except (TypeError, KeyError, AttributeError) as exc:
            # A signed payload whose shape Bolt cannot route (fields of the wrong type).
            log.info("unroutable payload", extra={"kind": kind, "error": type(exc).__name__})
            return _refuse(400, "malformed payload", "malformed")
        response = to_starlette_response(bolt_response)
        response.headers["x-scalebot-kind"] = kind
        response.headers["x-scalebot-outcome"] = outcome
        return response

    def _unsupported_or_anonymous(parsed: dict[str, Any], kind: str) -> Response | None:
        """An org-wide install's payload is answered in words; one naming no workspace is refused."""
        if parsed.get("type") == "url_verification":
            return None
        if is_enterprise_install(parsed):
            log.info("Enterprise Grid org-wide installs are not supported yet", extra={"kind": kind})
            headers = {"x-scalebot-kind": kind, "x-scalebot-outcome": "enterprise"}
            if kind == "command":
                answer = {"response_type": "ephemeral", "text": ENTERPRISE_NOT_SUPPORTED}
                return JSONResponse(answer, headers=headers)
            if kind == "options":
                return JSONResponse({"options": []}, headers=headers)
            return PlainTextResponse("", headers=headers)
        if workspace_id(parsed) is None:
            log.info("payload without a workspace refused", extra={"kind": kind})
            return _refuse(400, "malformed payload: no workspace id", "malformed")
        return None

    return router
