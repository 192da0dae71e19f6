"""files.*: the external upload flow slack_sdk's files_upload_v2 uses (get URL, POST bytes, complete)."""

from __future__ import annotations

import base64

from localslack.methods.base import Call, SlackError, bot_is_member, method, resolve_channel
from localslack.methods.chat import post_bot_message
from localslack.state import JSON, StoredFile
from localslack.store import Store


@method("files.getUploadURLExternal")
def get_upload_url(call: Call) -> JSON:
    filename = call.arg("filename", required=True)
    length = call.integer("length", -1)
    if length < 1:
        raise SlackError(
            "invalid_arguments", ["[ERROR] length must be a positive integer [json-pointer:/length]"]
        )
    assert call.token is not None and filename is not None
    stored = call.store.add_file(
        StoredFile(
            id=call.store.new_id("F"),
            team_id=call.team_id,
            user=call.token.user_id,
            filename=filename,
            length=length,
            created=int(call.store.now()),
            alt_txt=call.arg("alt_txt"),
        )
    )
    return {"upload_url": f"{call.store.public_url}/upload/v1/{stored.id}", "file_id": stored.id}


def receive_upload(store: Store, file_id: str, data: bytes) -> tuple[int, str]:
    """The upload POST itself: (HTTP status, body). Slack answers 200 "OK - <bytes>"."""
    with store.lock:
        stored = store.files.get(file_id)
        if stored is None or stored.completed:
            return 404, "file_not_found"
        stored.data_b64 = base64.b64encode(data).decode("ascii")
        return 200, f"OK - {len(data)}"


@method("files.completeUploadExternal")
def complete_upload(call: Call) -> JSON:
    entries = call.json_arg("files")
    if not isinstance(entries, list) or not entries:
        raise SlackError(
            "invalid_arguments", ["[ERROR] files must be a non-empty array [json-pointer:/files]"]
        )
    stored_files: list[StoredFile] = []
    for entry in entries:
        stored = call.store.files.get(entry.get("id", "")) if isinstance(entry, dict) else None
        if stored is None or stored.team_id != call.team_id or not stored.uploaded or stored.completed:
            raise SlackError("file_not_found")
        stored_files.append(stored)
    channel = None
    channel_ref = call.arg("channel_id") or call.arg("channels")
    if channel_ref:
        channel = resolve_channel(call, channel_ref.split(",")[0], error="invalid_channel")
        if not bot_is_member(call, channel):
            raise SlackError("posting_to_channel_denied")
    for entry, stored in zip(entries, stored_files, strict=True):
        stored.title = entry.get("title") or stored.filename
        stored.completed = True
        stored.initial_comment = call.arg("initial_comment")
        stored.thread_ts = call.arg("thread_ts")
        if channel is not None:
            stored.channels.append(channel.id)
    if channel is not None:
        post_bot_message(
            call.store,
            call.workspace,
            channel,
            call.arg("initial_comment") or "",
            None,
            thread_ts=call.arg("thread_ts"),
            files=[f.id for f in stored_files],
        )
    return {"files": [{"id": f.id, "title": f.title} for f in stored_files]}


@method("files.info")
def files_info(call: Call) -> JSON:
    stored = call.store.files.get(call.arg("file") or "")
    if stored is None or stored.team_id != call.team_id or not stored.completed:
        raise SlackError("file_not_found")
    return {
        "file": stored.to_api(call.store.public_url),
        "comments": [],
        "response_metadata": {"next_cursor": ""},
    }
