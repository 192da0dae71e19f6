"""The Slack app manifest checked into the repo (`bot/manifest.json`), with request URLs filled in."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def _template() -> dict[str, Any]:
    template: dict[str, Any] = json.loads(
        resources.files("bot").joinpath("manifest.json").read_text(encoding="utf-8")
    )
    return template


BOT_SCOPES: tuple[str, ...] = tuple(_template()["oauth_config"]["scopes"]["bot"])


def render(base_url: str, *, socket_mode: bool = False) -> dict[str, Any]:
    """The manifest for an app served at `base_url` (e.g. https://scalebot.example.org)."""
    base = base_url.rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise ValueError("--url must start with https:// (Slack only calls HTTPS request URLs)")
    text = json.dumps(_template()).replace("{base}", base)
    manifest: dict[str, Any] = json.loads(text)
    if socket_mode:
        manifest["settings"]["socket_mode_enabled"] = True
    return manifest
