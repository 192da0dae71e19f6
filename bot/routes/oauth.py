"""OAuth mode's install page and redirect, both answered by Bolt's OAuth flow."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp


def oauth_router(bolt: AsyncApp) -> APIRouter:
    router = APIRouter()
    handler = AsyncSlackRequestHandler(bolt)

    @router.get("/slack/install")
    async def install(request: Request) -> Response:
        return await handler.handle(request)

    @router.get("/slack/oauth_redirect")
    async def oauth_redirect(request: Request) -> Response:
        return await handler.handle(request)

    return router
