"""canvases.* and conversations.canvases.create: canvases with a Markdown body, as Slack documents them.

https://docs.slack.dev/reference/methods/conversations.canvases.create (Tier 2): `channel_id` required,
optional `title` and `document_content` ({"type": "markdown", "markdown": …}, at most 1 MiB); a channel
has one channel canvas (`channel_canvas_already_exists`). canvases.create (Tier 2): a standalone canvas,
tabbed into `channel_id` when given (required on free plans). canvases.edit (Tier 3): `canvas_id` and
`changes`, *one* operation per call; `replace` without `section_id` replaces the whole body. The
workspace's plan decides what is refused: free plans cannot create channel canvases
(`team_tier_cannot_create_channel_canvases`), an admin can turn canvases off
(`canvas_disabled_user_team`). A token with scopes but not `canvases:write` gets `missing_scope`.
"""

from __future__ import annotations

from typing import Any

from localslack.methods.base import Call, SlackError, bot_is_member, method, resolve_channel
from localslack.state import JSON, Canvas

MAX_MARKDOWN = 1_048_576  # characters
OPERATIONS = {
    "insert_after",
    "insert_before",
    "insert_at_start",
    "insert_at_end",
    "replace",
    "delete",
    "rename",
}
WRITE_SCOPE = "canvases:write"


def _admit(call: Call) -> None:
    retry_after = call.faults.admit_tiered(call.method, call.team_id, call.store.now())
    if retry_after is not None:
        raise SlackError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
    assert call.token is not None
    scopes = {s.strip() for s in call.token.scopes.split(",") if s.strip()}
    if scopes and WRITE_SCOPE not in scopes:
        raise SlackError("missing_scope")
    if call.workspace.canvas_plan == "disabled":
        raise SlackError("canvas_disabled_user_team")


def _markdown(call: Call, value: Any, failure: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = call.json_arg("document_content")
    if (
        not isinstance(value, dict)
        or value.get("type") != "markdown"
        or not isinstance(value.get("markdown"), str)
    ):
        raise SlackError("invalid_arguments", ["[ERROR] document_content must be {type: markdown, markdown}"])
    text = str(value["markdown"])
    if len(text) > MAX_MARKDOWN:
        raise SlackError(failure, ["[ERROR] the markdown content is limited to 1 MiB (1,048,576 characters)"])
    return text


def _new(call: Call, markdown: str, channel_id: str | None, is_channel: bool) -> Canvas:
    assert call.token is not None
    now = int(call.store.now())
    canvas = Canvas(
        id=call.store.new_id("F"),
        team_id=call.team_id,
        creator=call.token.user_id,
        title=call.arg("title") or "Untitled",
        markdown=markdown,
        created=now,
        updated=now,
        channel_id=channel_id,
        is_channel_canvas=is_channel,
    )
    call.store.canvases[canvas.id] = canvas
    call.store.touch()
    return canvas


@method("conversations.canvases.create")
def channel_canvas_create(call: Call) -> JSON:
    _admit(call)
    channel = resolve_channel(call, call.arg("channel_id", required=True))
    if call.workspace.canvas_plan == "free":
        raise SlackError("team_tier_cannot_create_channel_canvases")
    if not bot_is_member(call, channel):
        raise SlackError("restricted_action")
    if channel.canvas_id is not None:
        raise SlackError("channel_canvas_already_exists")
    canvas = _new(
        call, _markdown(call, call.args.get("document_content"), "canvas_creation_failed"), channel.id, True
    )
    channel.canvas_id = canvas.id
    return {"canvas_id": canvas.id}


@method("canvases.create")
def canvas_create(call: Call) -> JSON:
    _admit(call)
    channel = None
    if call.arg("channel_id"):
        channel = resolve_channel(call, call.arg("channel_id"))
        if not bot_is_member(call, channel):
            raise SlackError("restricted_action")
    if call.workspace.canvas_plan == "free":
        if channel is None:
            raise SlackError("free_teams_cannot_create_non_tabbed_canvases")
        if channel.canvas_tabs or channel.canvas_id:
            raise SlackError("free_team_canvas_tab_already_exists")
    markdown = _markdown(call, call.args.get("document_content"), "canvas_creation_failed")
    canvas = _new(call, markdown, channel.id if channel else None, False)
    if channel is not None:
        channel.canvas_tabs.append(canvas.id)
    return {"canvas_id": canvas.id}


def _writable(call: Call) -> Canvas:
    """The canvas, if the caller may write it: its creator's, shared to a channel the caller is in, or
    the canvas of such a channel (channel members can edit a channel canvas)."""
    assert call.token is not None
    canvas = call.store.canvases.get(call.arg("canvas_id", required=True) or "")
    if canvas is None or canvas.team_id != call.team_id:
        raise SlackError("canvas_not_found")
    if canvas.creator == call.token.user_id:
        return canvas
    channels = [canvas.channel_id] if canvas.channel_id else []
    channels += canvas.shared_channels
    for channel_id in channels:
        channel = call.store.channels.get(channel_id or "")
        if channel is not None and call.token.user_id in channel.members:
            return canvas
    raise SlackError("canvas_not_found")


@method("canvases.edit")
def canvas_edit(call: Call) -> JSON:
    _admit(call)
    canvas = _writable(call)
    changes = call.json_arg("changes")
    if not isinstance(changes, list) or not changes:
        raise SlackError("invalid_arguments", ["[ERROR] changes must be a non-empty array"])
    if len(changes) > 1:
        raise SlackError("invalid_arguments", ["[ERROR] only one operation per call is supported"])
    change = changes[0]
    operation = change.get("operation") if isinstance(change, dict) else None
    if operation not in OPERATIONS:
        raise SlackError("invalid_arguments", ["[ERROR] unknown operation"])
    if change.get("section_id"):
        raise SlackError("canvas_editing_failed", ["[ERROR] no such section"])
    if operation == "rename":
        title = (change.get("title_content") or {}).get("markdown")
        if not isinstance(title, str) or not title:
            raise SlackError("invalid_arguments", ["[ERROR] rename needs title_content"])
        canvas.title = title
    elif operation in ("insert_before", "insert_after", "delete"):
        raise SlackError("invalid_arguments", ["[ERROR] this operation needs a section_id"])
    else:
        text = _markdown(call, change.get("document_content"), "canvas_editing_failed")
        body = {
            "replace": text,
            "insert_at_start": text + canvas.markdown,
            "insert_at_end": canvas.markdown + text,
        }[operation]
        if len(body) > MAX_MARKDOWN:
            raise SlackError("canvas_editing_failed", ["[ERROR] a canvas is limited to 1 MiB"])
        canvas.markdown = body
    canvas.edits += 1
    canvas.updated = int(call.store.now())
    call.store.touch()
    return {}


@method("canvases.access.set")
def canvas_access_set(call: Call) -> JSON:
    _admit(call)
    canvas = _writable(call)
    level = call.arg("access_level", required=True)
    if level not in ("read", "write"):
        raise SlackError("invalid_arguments", ["[ERROR] access_level must be read or write"])
    for channel_id in call.json_arg("channel_ids") or []:
        channel = resolve_channel(call, str(channel_id))
        if channel.id not in canvas.shared_channels:
            canvas.shared_channels.append(channel.id)
    call.store.touch()
    return {}


@method("canvases.delete")
def canvas_delete(call: Call) -> JSON:
    _admit(call)
    canvas = _writable(call)
    del call.store.canvases[canvas.id]
    for channel in call.store.channels.values():
        if channel.canvas_id == canvas.id:
            channel.canvas_id = None
        if canvas.id in channel.canvas_tabs:
            channel.canvas_tabs.remove(canvas.id)
    call.store.touch()
    return {}


def channel_properties(call_store: Any, channel_id: str) -> JSON | None:
    """`properties` of conversations.info: the channel canvas and the canvas tabs, when there are any."""
    channel = call_store.channels.get(channel_id)
    if channel is None or not (channel.canvas_id or channel.canvas_tabs):
        return None
    out: JSON = {}
    if channel.canvas_id:
        canvas = call_store.canvases.get(channel.canvas_id)
        out["canvas"] = {
            "file_id": channel.canvas_id,
            "is_empty": not (canvas and canvas.markdown),
            "quip_thread_id": "Q" + channel.canvas_id[1:],
        }
    out["tabs"] = [
        {"id": "Ct" + cid[1:], "label": "Canvas", "type": "canvas", "data": {"file_id": cid}}
        for cid in ([channel.canvas_id] if channel.canvas_id else []) + channel.canvas_tabs
    ]
    return out
