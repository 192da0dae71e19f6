"""response_url: the webhook Slack gives an app with each command and interaction.

https://docs.slack.dev/interactivity/handling-user-interaction : a response_url can be used "up to 5
times within 30 minutes". Like Slack's webhooks it answers plain text (`ok` or an error code) with
an HTTP status, not the Web API's JSON.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from localslack.elements import with_generated_ids
from localslack.methods.base import SlackError, check_message_content
from localslack.methods.chat import post_bot_message
from localslack.state import Ephemeral, ResponseUrl, ResponseUrlPost
from localslack.store import Store

RESPONSE_URL_TTL = 30 * 60.0
RESPONSE_URL_USES = 5


def parse_body(raw: bytes, content_type: str) -> Any:
    """A webhook body: JSON, or a form with a JSON `payload` field; None when it is neither."""
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            return json.loads(parse_qs(raw.decode("utf-8"))["payload"][0])
        return json.loads(raw.decode("utf-8"))
    except (ValueError, KeyError, IndexError, UnicodeDecodeError):
        return None


def post_to_response_url(store: Store, hook_id: str, raw: bytes, content_type: str) -> tuple[int, str]:
    """Handle `POST /hooks/response/{hook_id}`: (HTTP status, plain-text body)."""
    with store.lock:
        body = parse_body(raw, content_type)
        status, error = _post(store, hook_id, body)
        recorded = body if body is not None else raw.decode("utf-8", "replace")
        store.record_hook_post(ResponseUrlPost(hook_id, recorded, status, error, store.now()))
        return status, error or "ok"


def _post(store: Store, hook_id: str, body: Any) -> tuple[int, str | None]:
    hook = store.response_urls.get(hook_id)
    if hook is None:
        return 404, "no_service"
    if store.now() - hook.created > RESPONSE_URL_TTL:
        return 404, "expired_url"
    if hook.uses >= RESPONSE_URL_USES:
        return 404, "used_url"
    if not isinstance(body, dict):
        return 400, "invalid_payload"
    status, error = apply_response(store, hook, body, source="response_url")
    if error is None:
        hook.uses += 1
    return status, error


def apply_response(
    store: Store, hook: ResponseUrl, body: dict[str, Any], source: str
) -> tuple[int, str | None]:
    """Validate a message response and apply it: ephemeral, in_channel, replace or delete the original."""
    with store.lock:
        ws = store.workspaces[hook.team_id]
        if body.get("delete_original") in (True, "true"):
            _delete_source(store, hook)
            return 200, None
        text, blocks = body.get("text"), body.get("blocks")
        try:
            check_message_content(text, blocks)
        except SlackError as exc:
            return 400, exc.error
        channel = store.channels.get(hook.channel_id or "")
        if body.get("replace_original") in (True, "true") and hook.source_ts:
            _replace_source(store, hook, str(text), blocks, ws.bot_user_id)
            return 200, None
        if channel is None:
            return 404, "channel_not_found"
        thread_ts = body.get("thread_ts") or hook.thread_ts
        if body.get("response_type") == "in_channel":
            try:
                post_bot_message(store, ws, channel, str(text), blocks, thread_ts=thread_ts)
            except SlackError as exc:
                return 400, exc.error
            return 200, None
        store.add_ephemeral(
            Ephemeral(
                channel=channel.id,
                user=hook.user_id,
                ts="",
                text=str(text),
                blocks=with_generated_ids(blocks),
                thread_ts=thread_ts,
                source=source,
            )
        )
        return 200, None


def _replace_source(store: Store, hook: ResponseUrl, text: str, blocks: Any, editor: str) -> None:
    if hook.source_ephemeral:
        ephemeral = store.find_ephemeral(hook.user_id, hook.source_ts or "")
        if ephemeral is not None:
            ephemeral.text, ephemeral.blocks = text, with_generated_ids(blocks)
        return
    message = store.find_message(hook.channel_id or "", hook.source_ts or "")
    if message is not None:
        store.edit_message(message, text, with_generated_ids(blocks), editor)


def _delete_source(store: Store, hook: ResponseUrl) -> None:
    if hook.source_ephemeral:
        ephemeral = store.find_ephemeral(hook.user_id, hook.source_ts or "")
        if ephemeral is not None:
            store.remove_ephemeral(ephemeral)
        return
    message = store.find_message(hook.channel_id or "", hook.source_ts or "")
    if message is not None:
        store.delete_message(message)
