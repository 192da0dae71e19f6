"""`Store`: everything a local Slack workspace holds, behind one lock.

The server thread and the test thread both touch the store, so every mutation goes through a method
that takes `lock` (an RLock, so API handlers can hold it across several calls). Reads of the public
dicts are fine while holding `lock`; the `FakeSlack` façade does that for tests.
"""

from __future__ import annotations

import random
import string
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from localslack.snapshot import put_back, take
from localslack.state import (
    JSON,
    AppConfig,
    Canvas,
    Channel,
    Ephemeral,
    Message,
    OAuthCode,
    RecordedCall,
    ResponseUrl,
    ResponseUrlPost,
    StoredFile,
    Token,
    Trigger,
    User,
    View,
    Workspace,
)

_ALNUM = string.ascii_uppercase + string.digits
_T = TypeVar("_T")


class Store:
    """Workspaces, users, channels, messages, views, triggers, files and the call log."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self._clock = clock
        self._rng = random.Random()
        self._last_us = 0  # survives reset(), so message timestamps never repeat
        # Bumped by every change a caller might want to persist or redraw (see `touch`).
        self.revision = 0
        # Absolute URLs (response_url, upload_url, permalinks) start here; the server sets it.
        self.public_url = "http://127.0.0.1"
        self.reset()

    def reset(self) -> None:
        """Forget everything (workspaces, app config, calls...) but keep the lock, clock and public_url."""
        with self.lock:
            self._init_tables()

    def touch(self) -> None:
        """Note a change made outside the store's own methods (a view filled in, a user joining)."""
        with self.lock:
            self.revision += 1

    def _init_tables(self) -> None:
        self.revision = getattr(self, "revision", 0) + 1
        self._offset = 0.0
        self.app = AppConfig()
        self.workspaces: dict[str, Workspace] = {}
        self.tokens: dict[str, Token] = {}
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, View] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.response_url_posts: list[ResponseUrlPost] = []
        self.calls: list[RecordedCall] = []
        self.files: dict[str, StoredFile] = {}
        self.canvases: dict[str, Canvas] = {}
        self.oauth_codes: dict[str, OAuthCode] = {}

    # -- time and ids ---------------------------------------------------------------------------

    def now(self) -> float:
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the store's clock forward (expiry of triggers, response_urls and OAuth codes)."""
        with self.lock:
            self._offset += seconds

    def next_ts(self) -> str:
        """A message ts: seconds.microseconds, strictly increasing across the store."""
        with self.lock:
            us = max(int(self.now() * 1_000_000), self._last_us + 1)
            self._last_us = us
            return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def new_id(self, prefix: str, length: int = 10) -> str:
        with self.lock:
            return prefix + "".join(self._rng.choice(_ALNUM) for _ in range(length))

    def secret(self, length: int = 24) -> str:
        with self.lock:
            alphabet = string.ascii_letters + string.digits
            return "".join(self._rng.choice(alphabet) for _ in range(length))

    # -- workspaces, tokens, users --------------------------------------------------------------

    def add_workspace(self, team_id: str, name: str, domain: str, bot_name: str = "scalebot") -> Workspace:
        with self.lock:
            if team_id in self.workspaces:
                raise ValueError(f"workspace {team_id} already exists")
            bot_user_id = self.new_id("U")
            bot_id = self.new_id("B")
            ws = Workspace(
                team_id=team_id,
                name=name,
                domain=domain,
                bot_user_id=bot_user_id,
                bot_id=bot_id,
                bot_token="",
                created=int(self.now()),
            )
            self.workspaces[team_id] = ws
            self.users[bot_user_id] = User(
                id=bot_user_id,
                team_id=team_id,
                name=bot_name,
                real_name=bot_name,
                is_bot=True,
                bot_id=bot_id,
                updated=int(self.now()),
            )
            self.mint_bot_token(team_id)
            return ws

    def mint_bot_token(self, team_id: str, scopes: str = "") -> Token:
        """A fresh xoxb token for the workspace's bot; it becomes `workspace.bot_token`."""
        with self.lock:
            ws = self.workspaces[team_id]
            token = self.mint_token(team_id, "bot", ws.bot_user_id, scopes)
            ws.bot_token = token.token
            return token

    def mint_token(self, team_id: str, kind: str, user_id: str, scopes: str = "") -> Token:
        with self.lock:
            prefix = "xoxb" if kind == "bot" else "xoxp"
            value = f"{prefix}-{self._rng.randrange(10**11, 10**12)}-{self.secret(24)}"
            token = Token(token=value, team_id=team_id, kind=kind, user_id=user_id, scopes=scopes)
            self.tokens[value] = token
            return token

    def revoke_tokens(self, team_id: str) -> None:
        with self.lock:
            for token in self.tokens.values():
                if token.team_id == team_id:
                    token.revoked = True

    def set_workspace_active(self, team_id: str, active: bool) -> None:
        with self.lock:
            self.workspaces[team_id].active = active

    def add_user(self, user: User) -> User:
        with self.lock:
            if user.team_id not in self.workspaces:
                raise ValueError(f"unknown workspace {user.team_id}")
            if user.id in self.users:
                raise ValueError(f"user {user.id} already exists")
            user.updated = int(self.now())
            self.users[user.id] = user
            return user

    def deactivate_user(self, user_id: str) -> None:
        with self.lock:
            user = self.users[user_id]
            user.deleted = True
            user.updated = int(self.now())
            for token in self.tokens.values():
                if token.kind == "user" and token.user_id == user_id:
                    token.revoked = True

    # -- channels ------------------------------------------------------------------------------

    def add_channel(self, channel: Channel) -> Channel:
        with self.lock:
            if channel.team_id not in self.workspaces:
                raise ValueError(f"unknown workspace {channel.team_id}")
            if channel.id in self.channels:
                raise ValueError(f"channel {channel.id} already exists")
            channel.created = channel.created or int(self.now())
            self.channels[channel.id] = channel
            self.messages[channel.id] = []
            return channel

    def join(self, channel_id: str, user_id: str) -> None:
        with self.lock:
            self.revision += 1
            members = self.channels[channel_id].members
            if user_id not in members:
                members.append(user_id)

    def leave(self, channel_id: str, user_id: str) -> None:
        with self.lock:
            self.revision += 1
            members = self.channels[channel_id].members
            if user_id in members:
                members.remove(user_id)

    def open_im(self, team_id: str, user_id: str) -> tuple[Channel, bool]:
        """The bot's IM with `user_id`, created on first use; returns (channel, already_open)."""
        with self.lock:
            for channel in self.channels.values():
                if channel.team_id == team_id and channel.is_im and channel.im_user == user_id:
                    return channel, True
            bot = self.workspaces[team_id].bot_user_id
            channel = Channel(
                id=self.new_id("D"), team_id=team_id, name=user_id, members=[bot, user_id], is_im=True
            )
            channel.im_user = user_id
            return self.add_channel(channel), False

    def open_mpim(self, team_id: str, user_ids: list[str]) -> tuple[Channel, bool]:
        with self.lock:
            bot = self.workspaces[team_id].bot_user_id
            wanted = sorted({*user_ids, bot})
            for channel in self.channels.values():
                if channel.team_id == team_id and channel.is_mpim and sorted(channel.members) == wanted:
                    return channel, True
            names = [self.users[u].name for u in wanted if u in self.users]
            channel = Channel(
                id=self.new_id("G"),
                team_id=team_id,
                name="mpdm-" + "--".join(names) + "-1",
                members=wanted,
                is_private=True,
                is_mpim=True,
            )
            return self.add_channel(channel), False

    # -- messages ------------------------------------------------------------------------------

    def add_message(self, message: Message) -> Message:
        with self.lock:
            self.revision += 1
            message.ts = message.ts or self.next_ts()
            self.messages.setdefault(message.channel, []).append(message)
            return message

    def find_message(self, channel_id: str, ts: str) -> Message | None:
        with self.lock:
            for message in self.messages.get(channel_id, []):
                if message.ts == ts:
                    return message
            return None

    def edit_message(self, message: Message, text: str, blocks: list[JSON] | None, editor: str) -> None:
        with self.lock:
            self.revision += 1
            message.text = text
            message.blocks = blocks
            message.edited = {"user": editor, "ts": self.next_ts()}

    def delete_message(self, message: Message) -> None:
        """Remove a message; a thread parent with replies leaves a tombstone, as in Slack."""
        with self.lock:
            self.revision += 1
            if self.replies_of(message.channel, message.ts):
                message.subtype = "tombstone"
                message.text = "This message was deleted."
                message.blocks = None
                message.user = "USLACKBOT"
                message.bot_id = None
                return
            self.messages[message.channel].remove(message)

    def replies_of(self, channel_id: str, ts: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages.get(channel_id, []) if m.thread_ts == ts and m.ts != ts]

    def message_to_api(self, message: Message) -> JSON:
        """A message dict shaped like conversations.history / conversations.replies return it."""
        with self.lock:
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
                files = [self.files[f] for f in message.files if f in self.files]
                out["files"] = [f.to_api(self.public_url) for f in files]
                out["upload"] = True
            if message.thread_ts:
                out["thread_ts"] = message.thread_ts
                if message.thread_ts != message.ts and message.reply_broadcast:
                    out["subtype"] = "thread_broadcast"
            replies = self.replies_of(message.channel, message.ts)
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

    def add_ephemeral(self, ephemeral: Ephemeral) -> Ephemeral:
        with self.lock:
            self.revision += 1
            ephemeral.ts = ephemeral.ts or self.next_ts()
            self.ephemerals.append(ephemeral)
            return ephemeral

    def find_ephemeral(self, user_id: str, ts: str) -> Ephemeral | None:
        with self.lock:
            return next((e for e in self.ephemerals if e.user == user_id and e.ts == ts), None)

    def remove_ephemeral(self, ephemeral: Ephemeral) -> None:
        with self.lock:
            self.revision += 1
            self.ephemerals.remove(ephemeral)

    # -- views, triggers, response_urls ---------------------------------------------------------

    def put_view(self, view: View) -> View:
        with self.lock:
            self.revision += 1
            self.views[view.id] = view
            return view

    def new_view_hash(self) -> str:
        return f"{int(self.now())}.{self.secret(8)}"

    def mint_trigger(self, team_id: str, user_id: str, view_id: str | None = None) -> Trigger:
        with self.lock:
            self.revision += 1
            tid = f"{int(self.now())}.{self._rng.randrange(10**9, 10**10)}.{self.secret(32).lower()}"
            trigger = Trigger(id=tid, team_id=team_id, user_id=user_id, created=self.now(), view_id=view_id)
            self.triggers[tid] = trigger
            return trigger

    def mint_response_url(self, **kwargs: Any) -> ResponseUrl:
        with self.lock:
            self.revision += 1
            hook = ResponseUrl(id=self.secret(32), created=self.now(), **kwargs)
            self.response_urls[hook.id] = hook
            return hook

    def record_hook_post(self, post: ResponseUrlPost) -> None:
        with self.lock:
            self.revision += 1
            self.response_url_posts.append(post)

    def record_call(self, call: RecordedCall) -> None:
        with self.lock:
            self.revision += 1
            self.calls.append(call)

    # -- files and OAuth ------------------------------------------------------------------------

    def add_file(self, stored: StoredFile) -> StoredFile:
        with self.lock:
            self.files[stored.id] = stored
            return stored

    def add_oauth_code(self, code: OAuthCode) -> OAuthCode:
        with self.lock:
            self.oauth_codes[code.code] = code
            return code

    # -- persistence (localslack/snapshot.py) ------------------------------------------------------

    def snapshot(self) -> JSON:
        """Everything as plain JSON-compatible data (see `restore`)."""
        with self.lock:
            return take(self)

    def restore(self, data: JSON) -> None:
        """Replace everything with a `snapshot()`; timestamps keep increasing past the restored ones."""
        with self.lock:
            put_back(self, data)
            self.revision += 1

    @property
    def last_us(self) -> int:
        return self._last_us

    @last_us.setter
    def last_us(self, value: int) -> None:
        self._last_us = max(self._last_us, value)
