"""The console's HTTP face: the page, its script and styles, a state endpoint it polls, and actions.

`GET /console` renders the page already showing the workspace; the script polls
`GET /console/api/state` (only changed panes come back) and posts what the person does to
`POST /console/api/act`. Actions run on a worker thread: the actor waits for the app, which is
usually served by this same event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from localslack.console import Console, Outcome
from localslack.console_html import (
    Scene,
    channel_pane,
    home_pane,
    main_title,
    modal_pane,
    page_html,
    sidebar_pane,
    thread_pane,
)

T = TypeVar("T")

_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_JS = "text/javascript; charset=utf-8"
_STATIC_TYPES = {
    "console.css": "text/css; charset=utf-8",
    "console.js": _JS,  # the entry module; it imports the two below
    "page.js": _JS,
    "blockkit.js": _JS,
}
_SURFACES = ("channel", "canvas", "home", "messages")


def _static() -> dict[str, bytes]:
    folder = resources.files("localslack").joinpath("static")
    return {name: folder.joinpath(name).read_bytes() for name in _STATIC_TYPES}


def panes(scene: Scene) -> dict[str, str]:
    main = home_pane(scene) if scene.surface in ("home", "messages") else channel_pane(scene)
    return {
        "sidebar": sidebar_pane(scene),
        "main": main,
        "thread": thread_pane(scene),
        "modal": modal_pane(scene),
    }


def _etag(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


def create_console_router(
    console: Console,
    pool: ThreadPoolExecutor,
    allowed_hosts: Callable[[], set[str] | None] = lambda: None,
) -> APIRouter:
    """Routes under `/console`, working on `pool`; `allowed_hosts()` names the Host header names
    accepted (None: any), which keeps other sites' pages out through DNS rebinding."""
    router = APIRouter()
    static = _static()
    version = _etag("".join(sorted(_etag(body.decode()) for body in static.values())))[:8]

    async def off_loop(fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    def host_ok(request: Request) -> bool:
        allowed = allowed_hosts()
        if allowed is None:
            return True
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in allowed

    def refuse() -> Response:
        return JSONResponse({"ok": False, "error": "this console only answers on loopback"}, 403)

    def scene_of(params: dict[str, str]) -> Scene:
        surface = params.get("surface") or "channel"
        return console.scene(
            params.get("user") or "",
            params.get("channel") or None,
            params.get("thread") or None,
            surface if surface in _SURFACES else "channel",
        )

    @router.get("/console")
    async def page(request: Request) -> Response:
        if not host_ok(request):
            return refuse()
        scene = await off_loop(scene_of, dict(request.query_params))
        body = await off_loop(lambda: page_html(scene, panes(scene), version))
        return HTMLResponse(body, headers=_HEADERS)

    @router.get("/console/static/{name}")
    async def static_file(name: str) -> Response:
        if name not in static:
            return Response(status_code=404)
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
        return Response(static[name], media_type=_STATIC_TYPES[name], headers=headers)

    @router.get("/console/files/{file_id}")
    async def file(file_id: str, request: Request) -> Response:
        if not host_ok(request):
            return refuse()
        found = await off_loop(console.file, file_id)
        if found is None:
            return Response(status_code=404)
        name, content = found
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        headers = {
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        }
        return Response(content, media_type=kind, headers=headers)

    @router.get("/console/api/state")
    async def state(request: Request) -> Response:
        if not host_ok(request):
            return refuse()
        params = dict(request.query_params)
        revision = console.store.revision
        if params.get("rev") == str(revision):
            return JSONResponse({"rev": revision, "unchanged": True}, headers=_HEADERS)
        known = set((params.get("known") or "").split(","))

        def build() -> dict[str, Any]:
            scene = scene_of(params)
            out: dict[str, Any] = {}
            for name, body in panes(scene).items():
                tag = _etag(body)
                out[name] = {"etag": tag} if f"{name}:{tag}" in known else {"etag": tag, "html": body}
            modal = scene.modal
            top = [m for m in scene.messages if m.thread_ts is None]
            return {
                "rev": revision,
                "panes": out,
                "user": scene.user.id,
                "channel": scene.channel.id if scene.channel else "",
                "surface": scene.surface,
                "thread": scene.thread_ts or "",
                "title": main_title(scene),
                "view": {"id": modal.id, "hash": modal.hash} if modal else None,
                "threads": [[m.ts, sum(1 for r in scene.messages if r.thread_ts == m.ts)] for m in top],
                "placeholder": f"Message #{scene.channel.name}" if scene.channel else "Message",
            }

        return JSONResponse(await off_loop(build), headers=_HEADERS)

    @router.post("/console/api/act")
    async def act(request: Request) -> Response:
        if not host_ok(request):
            return refuse()
        # A custom header and a JSON body: another site's page cannot send this without CORS.
        if request.headers.get("x-console") != "1" or not request.headers.get("content-type", "").startswith(
            "application/json"
        ):
            return JSONResponse({"ok": False, "error": "bad request"}, status_code=400)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"ok": False, "error": "bad request"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"ok": False, "error": "bad request"}, status_code=400)
        try:
            outcome = await off_loop(dispatch, console, body)
        except (KeyError, TypeError, ValueError) as exc:
            return JSONResponse({"ok": False, "error": f"bad request: {exc}"}, status_code=400)
        return JSONResponse(outcome.to_json(), headers=_HEADERS)

    return router


def _s(body: dict[str, Any], key: str) -> str:
    value = body.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string")
    return value


def _values(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    values = body.get("values") or {}
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise TypeError("values must be {block_id: {action_id: value}}")
    return values


def dispatch(console: Console, body: dict[str, Any]) -> Outcome:
    """One action from the page, by `kind`."""
    kind, user = _s(body, "kind"), _s(body, "user")
    if kind == "send":
        return console.send(user, _s(body, "channel"), _s(body, "text"), _s(body, "thread") or None)
    if kind == "click":
        value = body.get("value")
        return console.click(
            user,
            _s(body, "channel"),
            _s(body, "ts"),
            _s(body, "action_id"),
            _s(body, "block_id"),
            value if isinstance(value, str) else None,
        )
    if kind == "select":
        return console.select(
            user,
            _s(body, "channel"),
            _s(body, "ts"),
            _s(body, "action_id"),
            _s(body, "block_id"),
            body.get("selected"),
        )
    if kind in ("view_click", "view_select"):
        value = body.get("value")
        return console.view_action(
            user,
            _s(body, "view_id"),
            _s(body, "action_id"),
            _s(body, "block_id"),
            value if isinstance(value, str) else None,
            body.get("selected"),
            _values(body),
            "click" if kind == "view_click" else "select",
        )
    if kind == "submit":
        return console.submit(user, _s(body, "view_id"), _values(body))
    if kind == "close":
        return console.close(user, _s(body, "view_id"))
    if kind == "suggest":
        container = body.get("container") or {}
        if not isinstance(container, dict):
            raise TypeError("container must be an object")
        return console.suggest(
            user, container, _s(body, "action_id"), _s(body, "block_id"), _s(body, "query")
        )
    if kind == "home":
        return console.open_home(user)
    if kind == "dismiss":
        return console.dismiss(user, _s(body, "ts"))
    raise ValueError(f"unknown action kind {kind!r}")
