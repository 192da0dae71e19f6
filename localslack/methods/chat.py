"""chat.* methods: posting, updating, deleting and linking to messages."""

from __future__ import annotations

from typing import Any

from localslack.elements import with_generated_ids
from localslack.methods.base import (
    Call,
    SlackError,
    active_members,
    bot_is_member,
    check_message_content,
    method,
    resolve_channel,
)
from localslack.state import JSON, Channel, Ephemeral, Message, Workspace
from localslack.store import Store


def post_bot_message(
    store: Store,
    ws: Workspace,
    channel: Channel,
    text: str,
    blocks: list[Any] | None,
    thread_ts: str | None = None,
    reply_broadcast: bool = False,
    metadata: JSON | None = None,
    files: list[str] | None = None,
) -> Message:
    """Store a message from the workspace's bot user (shared by chat.postMessage, response_urls, files)."""
    if thread_ts:
        parent = store.find_message(channel.id, thread_ts)
        if parent is None:
            # Stricter than Slack, which silently files a reply under a parent nobody can see.
            raise SlackError("thread_not_found")
        thread_ts = parent.thread_ts or parent.ts  # a reply's ts means its parent's thread
    message = Message(
        channel=channel.id,
        ts="",
        text=text,
        user=ws.bot_user_id,
        team=ws.team_id,
        blocks=with_generated_ids(blocks),
        bot_id=ws.bot_id,
        app_id=store.app.app_id,
        thread_ts=thread_ts,
        reply_broadcast=reply_broadcast and thread_ts is not None,
        metadata=metadata,
        files=files or [],
    )
    return store.add_message(message)


def message_payload(store: Store, ws: Workspace, message: Message) -> JSON:
    """The `message` object chat.postMessage / chat.update return."""
    out = store.message_to_api(message)
    bot = store.users[ws.bot_user_id]
    out["bot_profile"] = {
        "id": ws.bot_id,
        "app_id": store.app.app_id,
        "name": bot.name,
        "deleted": False,
        "team_id": ws.team_id,
    }
    return out


def _metadata(call: Call) -> JSON | None:
    metadata = call.json_arg("metadata", error="invalid_metadata_format")
    if metadata is None:
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return metadata


def _postable(call: Call) -> Channel:
    channel = resolve_channel(call, call.arg("channel"))
    if channel.is_archived:
        raise SlackError("is_archived")
    if not bot_is_member(call, channel):
        raise SlackError("not_in_channel")
    return channel


@method("chat.postMessage")
def post_message(call: Call) -> JSON:
    channel = _postable(call)
    text = call.arg("text")
    blocks = call.json_arg("blocks", error="invalid_blocks_format")
    check_message_content(text, blocks)
    metadata = _metadata(call)
    retry_after = call.faults.admit_post(channel.id, call.store.now())
    if retry_after is not None:
        raise SlackError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
    message = post_bot_message(
        call.store,
        call.workspace,
        channel,
        str(text),
        blocks,
        thread_ts=call.arg("thread_ts"),
        reply_broadcast=call.flag("reply_broadcast"),
        metadata=metadata,
    )
    return {
        "channel": channel.id,
        "ts": message.ts,
        "message": message_payload(call.store, call.workspace, message),
    }


@method("chat.update")
def update(call: Call) -> JSON:
    # Counted per workspace before anything else, as Slack counts every call of a method.
    retry_after = call.faults.admit_update(call.team_id, call.store.now())
    if retry_after is not None:
        raise SlackError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
    channel = resolve_channel(call, call.arg("channel"))
    message = call.store.find_message(channel.id, call.arg("ts") or "")
    if message is None or message.subtype == "tombstone":
        raise SlackError("message_not_found")
    if message.user != call.workspace.bot_user_id:
        raise SlackError("cant_update_message")
    if channel.is_archived:
        raise SlackError("is_inactive")
    if not bot_is_member(call, channel):
        raise SlackError("not_in_channel")
    text = call.arg("text")
    blocks = call.json_arg("blocks", error="invalid_blocks_format")
    check_message_content(text, blocks)
    metadata = _metadata(call)
    # chat.update keeps the previous blocks when `blocks` is left out; an empty array removes them.
    new_blocks = message.blocks if blocks is None else with_generated_ids(blocks)
    call.store.edit_message(message, str(text), new_blocks, call.workspace.bot_user_id)
    if metadata is not None:
        message.metadata = metadata or None
    return {
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": message_payload(call.store, call.workspace, message),
    }


@method("chat.postEphemeral")
def post_ephemeral(call: Call) -> JSON:
    channel = _postable(call)
    user_id = call.arg("user")
    user = call.store.users.get(user_id or "")
    if user is None or user.team_id != call.team_id:
        raise SlackError("user_not_found")
    if user.id not in active_members(call.store, channel):
        raise SlackError("user_not_in_channel")
    text = call.arg("text")
    blocks = call.json_arg("blocks", error="invalid_blocks_format")
    check_message_content(text, blocks)
    ephemeral = call.store.add_ephemeral(
        Ephemeral(
            channel=channel.id,
            user=user.id,
            ts="",
            text=str(text),
            blocks=with_generated_ids(blocks),
            thread_ts=call.arg("thread_ts"),
        )
    )
    return {"message_ts": ephemeral.ts}


@method("chat.delete")
def delete(call: Call) -> JSON:
    channel = resolve_channel(call, call.arg("channel"))
    message = call.store.find_message(channel.id, call.arg("ts") or "")
    if message is None or message.subtype == "tombstone":
        raise SlackError("message_not_found")
    if message.user != call.workspace.bot_user_id:
        raise SlackError("cant_delete_message")
    call.store.delete_message(message)
    return {"channel": channel.id, "ts": message.ts}


def permalink(store: Store, message: Message) -> str:
    link = f"{store.public_url}/archives/{message.channel}/p{message.ts.replace('.', '')}"
    if message.thread_ts and message.thread_ts != message.ts:
        link += f"?thread_ts={message.thread_ts}&cid={message.channel}"
    return link


@method("chat.getPermalink")
def get_permalink(call: Call) -> JSON:
    channel = resolve_channel(call, call.arg("channel"))
    message = call.store.find_message(channel.id, call.arg("message_ts") or "")
    if message is None:
        raise SlackError("message_not_found")
    return {"channel": channel.id, "permalink": permalink(call.store, message)}
