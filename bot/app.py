"""The web application: FastAPI in front, Bolt's AsyncApp behind `POST /slack/events`.

The request path: size limit (413) → signature and timestamp (401) → parse (400) → Bolt, whose
listeners ack first and leave slow work to lazy listeners (see handlers/base.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler, to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse

from bot import single_workspace
from bot.calibration.install import install as calibration_install
from bot.clock import Clock
from bot.config import AppConfig
from bot.limits import MAX_BODY_BYTES, RequestLimits
from bot.manifest import BOT_SCOPES
from bot.payloads import (
    ENTERPRISE_NOT_SUPPORTED,
    encode_like,
    is_enterprise_install,
    missing_field,
    parsing_problem,
    workspace_id,
)
from bot.runtime import RECOVERY_TOKEN, Runtime, build_runtime
from bot.scheduler import Scheduler
from bot.settings import Mode, Settings
from bot.storable import clean_payload
from handlers import register_listeners
from handlers.router import CommandRouter
from storage import installations, migrate
from storage.installations import DatabaseInstallationStore, DatabaseStateStore

log = logging.getLogger(__name__)

SIGNATURE_MAX_AGE = 60 * 5

# Bolt's default runner polls every 10 ms for the ack, which puts a 10 ms floor under every answer;
# process_before_response with lazy listeners returns as soon as the ack listener returns.
# bench/ack.py measures both (docs/performance.md).
PROCESS_BEFORE_RESPONSE = True


class ScalebotApp(FastAPI):
    """FastAPI with `RequestLimits` outermost, around every endpoint and FastAPI's own error handling
    (a body cut off mid-way is one INFO line, never "Exception in ASGI application")."""

    def build_middleware_stack(self) -> Any:
        return RequestLimits(super().build_middleware_stack())


@dataclass
class AppState:
    rt: Runtime
    bolt: AsyncApp
    router: CommandRouter
    signing_secret: str | None
    run_scheduler: bool
    scheduler_options: dict[str, Any] = field(default_factory=dict)
    socket_handler: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
    socket_connected: asyncio.Event = field(default_factory=asyncio.Event)
    guard: Any = None  # single-workspace modes: answers requests once the workspace is inactive


def build_bolt(rt: Runtime, signing_secret: str | None, *, process_before_response: bool = True) -> AsyncApp:
    """The Bolt app for the mode; the listener registry is the same in every mode."""
    settings = rt.settings
    client = rt.slack.client(
        settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None, pooled=False
    )
    common: dict[str, Any] = {
        "name": "scalebot",
        "process_before_response": process_before_response,
        "request_verification_enabled": False,  # verified in the route, before parsing
        "client": client,
        "logger": logging.getLogger("slack_bolt"),
    }
    mode = settings.mode
    if mode in (Mode.HTTP, Mode.SOCKET):
        bolt = AsyncApp(signing_secret=signing_secret or "", **common)  # the token is the client's
    elif mode is Mode.OAUTH:
        store = DatabaseInstallationStore(rt.db, rt.clock)
        oauth_settings = AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value()
            if settings.slack_client_secret
            else None,
            scopes=list(BOT_SCOPES),
            installation_store=store,
            installation_store_bot_only=True,
            state_store=DatabaseStateStore(rt.db, rt.clock),
            authorization_url=f"{settings.slack_web_url}/oauth/v2/authorize",
        )
        bolt = AsyncApp(
            signing_secret=signing_secret or "",
            installation_store=store,
            installation_store_bot_only=True,
            oauth_flow=AsyncOAuthFlow(client=rt.slack.client(None, pooled=False), settings=oauth_settings),
            **common,
        )
    else:  # local: the embedded workspace is an installation like any other
        store = DatabaseInstallationStore(rt.db, rt.clock)
        bolt = AsyncApp(
            signing_secret=signing_secret or "",
            installation_store=store,
            installation_store_bot_only=True,
            **common,
        )
    return bolt


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


async def _read_limited(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    config: AppConfig | None = None,
    run_scheduler: bool = True,
    scheduler_options: dict[str, Any] | None = None,
    process_before_response: bool = PROCESS_BEFORE_RESPONSE,
) -> FastAPI:
    """Build the whole application; raises on bad settings or config before anything listens."""
    mode = settings.mode
    rt = build_runtime(settings, clock=clock, config=config)
    if mode is Mode.LOCAL:
        signing_secret: str | None = secrets.token_hex(16)
    elif settings.slack_signing_secret is not None:
        signing_secret = settings.slack_signing_secret.get_secret_value()
    else:
        signing_secret = None
    if signing_secret:
        from bot.logs import redactor

        redactor.add(signing_secret)
    bolt = build_bolt(rt, signing_secret, process_before_response=process_before_response)
    router = register_listeners(bolt, rt)
    state = AppState(rt, bolt, router, signing_secret, run_scheduler, dict(scheduler_options or {}))
    if mode in (Mode.HTTP, Mode.SOCKET):
        state.guard = single_workspace.make_guard(rt)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, migrate.upgrade, rt.db)
        # The job store and the capabilities' recurring jobs touch the database: off the loop.
        rt.scheduler = await loop.run_in_executor(
            None, lambda: Scheduler(rt, loop, **state.scheduler_options)
        )
        if state.run_scheduler:
            await loop.run_in_executor(None, rt.scheduler.start)
        if mode in (Mode.HTTP, Mode.SOCKET):
            await single_workspace.record_token_workspace(rt, bolt)
        connecting: asyncio.Task[None] | None = None
        if mode is Mode.SOCKET:
            from bot.socket_mode import MeasuredSocketModeHandler

            assert settings.slack_app_token is not None
            state.socket_handler = MeasuredSocketModeHandler(
                bolt, settings.slack_app_token.get_secret_value(), rt.telemetry, guard=state.guard
            )
            # In the background: an unreachable websocket never holds up start-up or SIGTERM.
            connecting = asyncio.create_task(
                single_workspace.connect_with_backoff(state.socket_handler, state.socket_connected)
            )
        for hook in app.state.startup_hooks:
            await hook(app)
        try:
            yield
        finally:
            for hook in reversed(app.state.shutdown_hooks):
                await hook(app)
            if connecting is not None and not connecting.done():
                connecting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await connecting
            if state.socket_handler is not None and state.socket_connected.is_set():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(state.socket_handler.close_async(), 3)
            if rt.scheduler is not None:
                await loop.run_in_executor(None, rt.scheduler.shutdown)
            await rt.close()

    app = ScalebotApp(title="scalebot", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.scalebot = state
    app.state.startup_hooks = []
    app.state.shutdown_hooks = []
    if mode is Mode.LOCAL:
        from bot.local import install_local

        install_local(app, state)  # the embedded workspace, its Web API and the console
    calibration_install(app, rt)  # POST /alertmanager/webhook, and ceilings crossed in the readings
    secret_bytes = signing_secret.encode() if signing_secret else None
    oauth_handler = AsyncSlackRequestHandler(bolt)
    script_heads = migrate.script_heads()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        reasons = []
        loop = asyncio.get_running_loop()
        try:
            current = await loop.run_in_executor(None, migrate.current_heads, rt.db)
            missing = script_heads - current
            if missing:
                reasons.append(
                    f"migrations not at head (run `scalebot migrate`): missing {', '.join(sorted(missing))}"
                )
        except Exception as exc:
            reasons.append(f"database unreachable: {type(exc).__name__}")
        if settings.redis:
            try:
                ping = getattr(rt.cache, "primary", rt.cache).ping()
                await asyncio.wait_for(ping, timeout=1.0)
            except Exception as exc:
                reasons.append(f"redis unreachable: {type(exc).__name__}")
        if mode is Mode.SOCKET and not state.socket_connected.is_set():
            reasons.append("Socket Mode not connected yet (retrying with backoff)")
        extra: dict[str, Any] = {}
        if not reasons and rt.single_workspace and (stopped := await rt.stopped()) is not None:
            reasons.append(f"the workspace is inactive ({stopped}): {RECOVERY_TOKEN}")
        elif not reasons and mode is Mode.OAUTH:
            # One customer uninstalling must not take a replica out of the load balancer.
            try:
                inactive = await rt.db.run(installations.inactive_workspaces)
            except Exception:
                inactive = []
            if inactive:
                extra["inactive_workspaces"] = inactive
        if reasons:
            return JSONResponse({"status": "not ready", "reasons": reasons}, status_code=503)
        return JSONResponse({"status": "ready", "mode": mode.value, **extra})

    @app.get("/metrics")
    async def metrics() -> Response:
        primary_up = getattr(rt.cache, "primary_up", None)
        rt.telemetry.cache_backend_up.set(1 if primary_up is None or primary_up else 0)
        return Response(rt.telemetry.render(), media_type=rt.telemetry.content_type)

    @app.post("/slack/events")
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
        body = await _read_limited(request, MAX_BODY_BYTES)
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

    if mode is Mode.OAUTH:

        @app.get("/slack/install")
        async def install(request: Request) -> Response:
            return await oauth_handler.handle(request)

        @app.get("/slack/oauth_redirect")
        async def oauth_redirect(request: Request) -> Response:
            return await oauth_handler.handle(request)

    return app
