"""Slack listeners, thin: parse the payload, call the domain, render, respond.

Each module here that defines `register(listeners)` is registered by `register_listeners`; a capability
adds its listeners and subcommands by adding a module, without editing this one.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.runtime import Runtime
from handlers.base import Listeners
from handlers.command import register_command
from handlers.router import CommandRouter

# A Slack retry comes within minutes; an hour of memory covers every retry Slack makes.
EVENT_DEDUP_SECONDS = 3600


def register_listeners(app: AsyncApp, rt: Runtime) -> CommandRouter:
    router = CommandRouter()

    @app.middleware
    async def once_per_event(
        body: dict[str, Any], context: AsyncBoltContext, next: Any
    ) -> BoltResponse | None:
        # Claimed when acked: a retry of a claimed event is acked and not processed again; a retry
        # of an event never seen (the first delivery was lost) is processed.
        if body.get("type") == "event_callback" and body.get("event_id"):
            key = f"event:{body.get('team_id')}:{body['event_id']}"
            if not await rt.cache.claim(key, EVENT_DEDUP_SECONDS):
                context["scalebot_outcome"] = "duplicate"
                return BoltResponse(status=200, body="")
        response: BoltResponse | None = await next()
        return response

    @app.middleware
    async def instrumented_client(context: AsyncBoltContext, next: Any) -> BoltResponse | None:
        # Bolt builds a plain client per request; ours counts calls and reports dead tokens.
        if context.token:
            context["client"] = rt.slack.client(context.token, context.team_id)
        response: BoltResponse | None = await next()
        return response

    listeners = Listeners(app, rt, router)
    for module in pkgutil.iter_modules(__path__):
        if module.name in {"base", "router", "command"}:
            continue
        mod = importlib.import_module(f"{__name__}.{module.name}")
        if hasattr(mod, "register"):
            mod.register(listeners)
    register_command(app, rt, router)
    return router
