"""The HTTP face of the local Slack: Web API, response_urls, file uploads and the OAuth page.

Every path is relative (`/api/{method}`, `/hooks/response/{id}`, `/upload/v1/{file_id}`,
`/oauth/v2/authorize`), so the router can be mounted under a prefix inside another FastAPI app; absolute
URLs handed out to clients are built from `store.public_url`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from localslack.faults import Faults
from localslack.hooks import post_to_response_url
from localslack.methods import METHODS, UNAUTHENTICATED, Call, SlackError
from localslack.methods.files import receive_upload
from localslack.methods.oauth import authorize
from localslack.state import JSON, RecordedCall, Token
from localslack.store import Store

log = logging.getLogger(__name__)

_JSON_ARGS = ("blocks", "view", "metadata", "files", "attachments")
_SECRET_ARGS = ("token", "client_secret")


def create_app(store: Store, faults: Faults | None = None, public_url: str | None = None) -> FastAPI:
    """A standalone ASGI app serving the local Slack (see `create_router` to mount it elsewhere)."""
    app = FastAPI(title="localslack", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(create_router(store, faults, public_url))
    return app


def create_router(store: Store, faults: Faults | None = None, public_url: str | None = None) -> APIRouter:
    """The local Slack's routes, relative, for `include_router(..., prefix=...)` in another app.

    `public_url` is where clients reach these routes (including any prefix), e.g.
    "http://127.0.0.1:3000/localslack"; response_urls, upload URLs and permalinks start with it.
    """
    if public_url is not None:
        store.public_url = public_url.rstrip("/")
    faults = faults or Faults()
    router = APIRouter()

    @router.api_route("/api/{method_name}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def web_api(method_name: str, request: Request) -> Response:
        return await _dispatch(store, faults, method_name, request)

    @router.post("/hooks/response/{hook_id}")
    async def response_url(hook_id: str, request: Request) -> Response:
        raw = await request.body()
        status, text = post_to_response_url(store, hook_id, raw, request.headers.get("content-type", ""))
        return PlainTextResponse(text, status_code=status)

    @router.post("/upload/v1/{file_id}")
    async def upload(file_id: str, request: Request) -> Response:
        data = await request.body()
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form()
            part = form.get("file") or form.get("filename")
            if part is None or isinstance(part, str):
                return PlainTextResponse("invalid_form_data", status_code=400)
            data = await part.read()
        status, text = receive_upload(store, file_id, data)
        return PlainTextResponse(text, status_code=status)

    @router.get("/oauth/v2/authorize")
    async def oauth_authorize(request: Request) -> Response:
        status, value = authorize(store, dict(request.query_params))
        if status == 302:
            return RedirectResponse(value, status_code=302)
        return PlainTextResponse(value, status_code=status)

    return router


async def _dispatch(store: Store, faults: Faults, name: str, request: Request) -> Response:
    if request.method not in ("GET", "POST"):
        return JSONResponse({"ok": False, "error": "invalid_request"}, status_code=405)
    args, is_json, parse_error = await _read_args(request)
    header = request.headers.get("authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
    # JSON bodies must carry the token in the Authorization header, as Slack requires.
    token_value = bearer or (None if is_json else args.get("token"))
    token = store.tokens.get(token_value) if token_value else None
    call = Call(method=name, args=args, store=store, faults=faults, token=token, basic_auth=_basic(header))
    plan = faults.plan(name)
    if plan.stall:
        await asyncio.sleep(plan.stall)
    status, headers = 200, {}
    try:
        if plan.retry_after is not None:
            raise SlackError("ratelimited", status=429, headers={"Retry-After": str(plan.retry_after)})
        if plan.error:
            raise SlackError(plan.error)
        if parse_error:
            raise SlackError(parse_error)
        handler = METHODS.get(name)
        if handler is None:
            raise SlackError("unknown_method")
        with store.lock:
            if name not in UNAUTHENTICATED:
                _authenticate(store, token_value, token)
            body: JSON = {"ok": True, **handler(call)}
    except SlackError as exc:
        body, status, headers = exc.body(), exc.status, exc.headers
    except Exception:
        log.exception("localslack: %s failed", name)
        body, status = {"ok": False, "error": "internal_error"}, 500
    if call.warnings:
        body["warning"] = ",".join(call.warnings)
        body.setdefault("response_metadata", {})["warnings"] = call.warnings
    store.record_call(
        RecordedCall(
            method=name,
            args=_recordable(args),
            team_id=token.team_id if token else None,
            token_kind=token.kind if token else None,
            ok=bool(body["ok"]),
            error=body.get("error"),
            at=store.now(),
        )
    )
    return JSONResponse(body, status_code=status, headers=headers)


def _authenticate(store: Store, token_value: str | None, token: Token | None) -> None:
    if not token_value:
        raise SlackError("not_authed")
    if token is None:
        raise SlackError("invalid_auth")
    if token.revoked:
        raise SlackError("token_revoked")
    ws = store.workspaces.get(token.team_id)
    if ws is None or not ws.active:
        raise SlackError("account_inactive")
    user = store.users.get(token.user_id)
    if token.kind == "user" and (user is None or user.deleted):
        raise SlackError("account_inactive")


async def _read_args(request: Request) -> tuple[dict[str, Any], bool, str | None]:
    """(arguments, body was JSON, parse error): query string merged with the body, as Slack reads them."""
    args: dict[str, Any] = dict(request.query_params)
    if request.method == "GET":
        return args, False, None
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not raw.strip():
        return args, content_type == "application/json", None
    if content_type == "application/json":
        try:
            data = json.loads(raw)
        except ValueError:
            return args, True, "invalid_json"
        if not isinstance(data, dict):
            return args, True, "invalid_json"
        args.update(data)
        return args, True, None
    if content_type == "application/x-www-form-urlencoded":
        try:
            args.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            return args, False, "invalid_form_data"
        return args, False, None
    if content_type == "multipart/form-data":
        try:
            form = await request.form()
        except Exception:  # starlette raises several parser errors for broken multipart bodies
            return args, False, "invalid_form_data"
        args.update({k: v for k, v in form.multi_items() if isinstance(v, str)})
        return args, False, None
    if not content_type:
        return args, False, "missing_post_type"
    return args, False, "invalid_post_type"


def _basic(header: str) -> tuple[str, str] | None:
    if not header.lower().startswith("basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


def _recordable(args: dict[str, Any]) -> JSON:
    """Arguments as a test wants to read them: secrets dropped, JSON-string arguments decoded."""
    out: JSON = {}
    for key, value in args.items():
        if key in _SECRET_ARGS:
            continue
        if key in _JSON_ARGS and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        out[key] = value
    return out
