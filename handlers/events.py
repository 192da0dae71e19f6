"""Workspace lifecycle: an uninstall or a token revocation stops everything for that workspace."""

from __future__ import annotations

from handlers.base import Ctx, Listeners


async def on_app_uninstalled(ctx: Ctx) -> None:
    await ctx.rt.deactivate_workspace(ctx.workspace_id, "app_uninstalled")


async def on_tokens_revoked(ctx: Ctx) -> None:
    tokens = (ctx.body.get("event") or {}).get("tokens") or {}
    # Only the bot token matters: the bot acts with nothing else.
    if tokens.get("bot"):
        await ctx.rt.deactivate_workspace(ctx.workspace_id, "tokens_revoked")


def register(listeners: Listeners) -> None:
    listeners.event("app_uninstalled", on_app_uninstalled)
    listeners.event("tokens_revoked", on_tokens_revoked)
