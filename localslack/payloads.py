"""The payloads Slack sends an app's request URL, built field for field from the store's state.

References: slash command form fields (https://docs.slack.dev/interactivity/implementing-slash-commands),
block_actions, view_submission, view_closed and block_suggestion payloads
(https://docs.slack.dev/reference/interaction-payloads), and the event_callback envelope
(https://docs.slack.dev/apis/events-api). Callers hold `store.lock`.
"""

from __future__ import annotations

from typing import Any

from localslack.elements import state_values
from localslack.state import JSON, Channel, Message, User, View, Workspace
from localslack.store import Store


def _user(user: User) -> JSON:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": user.team_id}


def _team(ws: Workspace) -> JSON:
    return {"id": ws.team_id, "domain": ws.domain}


def _common(store: Store, ws: Workspace, user: User) -> JSON:
    return {
        "user": _user(user),
        "api_app_id": store.app.app_id,
        "token": store.app.verification_token,
        "team": _team(ws),
        "enterprise": None,
        "is_enterprise_install": False,
    }


def slash_command(
    store: Store,
    ws: Workspace,
    user: User,
    channel: Channel,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command request."""
    return {
        "token": store.app.verification_token,
        "team_id": ws.team_id,
        "team_domain": ws.domain,
        "channel_id": channel.id,
        "channel_name": "directmessage" if channel.is_im else channel.name,
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": store.app.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def view_object(view: View) -> JSON:
    """The view as interaction payloads carry it: Slack's fields plus the full `state.values`."""
    out = view.to_api()
    out["state"] = {"values": state_values(out["blocks"], view.state)}
    return out


def message_actions(
    store: Store,
    ws: Workspace,
    user: User,
    channel: Channel,
    message: Message | None,
    ephemeral_blocks: list[Any] | None,
    message_ts: str,
    action: JSON,
    entered: dict[str, dict[str, JSON]],
    trigger_id: str,
    response_url: str,
) -> JSON:
    """block_actions from a message (ephemeral messages carry no `message` object)."""
    container: JSON = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel.id,
        "is_ephemeral": message is None,
    }
    blocks = message.blocks if message is not None else ephemeral_blocks
    payload: JSON = {
        "type": "block_actions",
        **_common(store, ws, user),
        "container": container,
        "trigger_id": trigger_id,
        "channel": {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name},
        "state": {"values": state_values(blocks, entered)},
        "response_url": response_url,
        "actions": [action],
    }
    if message is not None:
        if message.thread_ts:
            container["thread_ts"] = message.thread_ts
        payload["message"] = store.message_to_api(message)
    return payload


def view_actions(store: Store, ws: Workspace, user: User, view: View, action: JSON, trigger_id: str) -> JSON:
    """block_actions from a modal or the Home tab (no response_url: views have no message)."""
    return {
        "type": "block_actions",
        **_common(store, ws, user),
        "container": {"type": "view", "view_id": view.id},
        "trigger_id": trigger_id,
        "view": view_object(view),
        "actions": [action],
    }


def view_submission(store: Store, ws: Workspace, user: User, view: View, trigger_id: str) -> JSON:
    return {
        "type": "view_submission",
        **_common(store, ws, user),
        "trigger_id": trigger_id,
        "view": view_object(view),
        "response_urls": [],
    }


def view_closed(store: Store, ws: Workspace, user: User, view: View, is_cleared: bool) -> JSON:
    return {
        "type": "view_closed",
        **_common(store, ws, user),
        "view": view_object(view),
        "is_cleared": is_cleared,
    }


def block_suggestion(
    store: Store, ws: Workspace, user: User, view: View, action_id: str, block_id: str, value: str
) -> JSON:
    return {
        "type": "block_suggestion",
        **_common(store, ws, user),
        "container": {"type": "view", "view_id": view.id},
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "view": view_object(view),
    }


def message_suggestion(
    store: Store,
    ws: Workspace,
    user: User,
    channel: Channel,
    message: Message | None,
    message_ts: str,
    action_id: str,
    block_id: str,
    value: str,
) -> JSON:
    """block_suggestion for an external select in a message (ephemeral messages carry no `message`)."""
    payload: JSON = {
        "type": "block_suggestion",
        **_common(store, ws, user),
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel.id,
            "is_ephemeral": message is None,
        },
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "channel": {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name},
    }
    if message is not None:
        payload["message"] = store.message_to_api(message)
    return payload


def event_callback(store: Store, ws: Workspace, event: JSON, event_id: str) -> JSON:
    return {
        "token": store.app.verification_token,
        "team_id": ws.team_id,
        "context_team_id": ws.team_id,
        "context_enterprise_id": None,
        "api_app_id": store.app.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(store.now()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team_id,
                "user_id": ws.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{store.secret(40)}",
    }
