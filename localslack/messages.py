"""Messages as Slack's Web API returns them (conversations.history, .replies): the thread's counts,
files, edits and metadata a client reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from localslack.state import JSON, Message

if TYPE_CHECKING:
    from localslack.store import Store


def message_to_api(store: Store, message: Message) -> JSON:
    """A message dict shaped like conversations.history / conversations.replies return it."""
    with store.lock:
        out: JSON = {"type": "message", "ts": message.ts, "text": message.text, "team": message.team}
        if message.subtype:
            out["subtype"] = message.subtype
        if message.user:
            out["user"] = message.user
        if message.bot_id:
            out["bot_id"] = message.bot_id
            out["app_id"] = message.app_id
        if message.blocks is not None:
            out["blocks"] = message.blocks
        if message.metadata is not None:
            out["metadata"] = message.metadata
        if message.edited is not None:
            out["edited"] = dict(message.edited)
        if message.files:
            files = [store.files[f] for f in message.files if f in store.files]
            out["files"] = [f.to_api(store.public_url) for f in files]
            out["upload"] = True
        if message.thread_ts:
            out["thread_ts"] = message.thread_ts
            if message.thread_ts != message.ts and message.reply_broadcast:
                out["subtype"] = "thread_broadcast"
        replies = store.replies_of(message.channel, message.ts)
        if replies:
            users = list(dict.fromkeys(r.user for r in replies if r.user))
            out.update(
                thread_ts=message.ts,
                reply_count=len(replies),
                reply_users_count=len(users),
                reply_users=users,
                latest_reply=replies[-1].ts,
                is_locked=False,
                subscribed=False,
            )
        return out
