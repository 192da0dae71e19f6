"""Probes and metrics: `/healthz` (the process answers), `/readyz` (database at the migrations' head,
Redis reachable, Socket Mode connected, the workspace active), `/metrics` (Prometheus text)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from bot.runtime import RECOVERY_TOKEN
from bot.settings import Mode
from storage import installations, migrate

if TYPE_CHECKING:
    from bot.app import AppState


def health_router(state: AppState) -> APIRouter:
    router = APIRouter()
    rt = state.rt
    settings = rt.settings
    mode = settings.mode
    script_heads = migrate.script_heads()

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
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

    @router.get("/metrics")
    async def metrics() -> Response:
        primary_up = getattr(rt.cache, "primary_up", None)
        rt.telemetry.cache_backend_up.set(1 if primary_up is None or primary_up else 0)
        return Response(rt.telemetry.render(), media_type=rt.telemetry.content_type)

    return router
