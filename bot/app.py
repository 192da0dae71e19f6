"""The web application: FastAPI in front, Bolt's AsyncApp behind `POST /slack/events`.

`create_app` builds the runtime and Bolt, runs the lifespan (migrations, scheduler, Socket Mode) and
includes one router per concern (bot/routes/): health and metrics, Slack's events, OAuth; local mode
mounts its embedded workspace and console (bot/local.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings

from bot import single_workspace
from bot.calibration.install import install as calibration_install
from bot.config import AppConfig
from bot.limits import RequestLimits
from bot.manifest import BOT_SCOPES
from bot.routes.health import health_router
from bot.routes.oauth import oauth_router
from bot.routes.slack_events import events_router
from bot.runtime import Runtime, build_runtime
from bot.scheduler import Scheduler
from bot.settings import Mode, Settings
from common.clock import Clock
from handlers import register_listeners
from handlers.router import CommandRouter
from storage import migrate
from storage.installations import DatabaseInstallationStore, DatabaseStateStore

log = logging.getLogger(__name__)

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
        from common.redact import redactor

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
    app.include_router(health_router(state))
    app.include_router(events_router(state))
    if mode is Mode.OAUTH:
        app.include_router(oauth_router(bolt))
    return app
