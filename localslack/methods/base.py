"""What every Web API method shares: the call context, Slack's error shape and the method registry."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localslack.faults import Faults
from localslack.state import JSON, Channel, Token, User, Workspace
from localslack.store import Store
from localslack.validation import validate_blocks

# https://docs.slack.dev/reference/methods/chat.postMessage : Slack documents `msg_too_long` for text
# over its 40,000-character ceiling.
MAX_TEXT = 40_000


class SlackError(Exception):
    """An `{"ok": false, "error": ...}` answer, optionally with `response_metadata.messages`."""

    def __init__(
        self,
        error: str,
        messages: list[str] | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        fields: JSON | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
        self.status = status
        self.headers = headers or {}
        self.fields = fields or {}  # more top-level fields, e.g. missing_scope's `needed` and `provided`

    def body(self) -> JSON:
        out: JSON = {"ok": False, "error": self.error, **self.fields}
        if self.messages:
            out["response_metadata"] = {"messages": self.messages}
        return out


@dataclass
class Call:
    """One Web API call: its arguments, who made it and the state it acts on."""

    method: str
    args: JSON
    store: Store
    faults: Faults
    token: Token | None = None
    basic_auth: tuple[str, str] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def workspace(self) -> Workspace:
        assert self.token is not None
        return self.store.workspaces[self.token.team_id]

    @property
    def team_id(self) -> str:
        return self.workspace.team_id

    def arg(self, name: str, required: bool = False) -> str | None:
        value = self.args.get(name)
        if value is None or value == "":
            if required:
                raise SlackError("invalid_arguments", [f"[ERROR] missing required field: {name}"])
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)

    def flag(self, name: str) -> bool:
        return self.args.get(name) in (True, 1, "true", "1", "True")

    def integer(self, name: str, default: int) -> int:
        raw = self.args.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise SlackError(
                "invalid_arguments", [f"[ERROR] must be an integer [json-pointer:/{name}]"]
            ) from None

    def json_arg(self, name: str, error: str = "invalid_arguments") -> Any:
        """An argument that is JSON: a string in form bodies, already parsed in JSON bodies."""
        raw = self.args.get(name)
        if raw is None or raw == "":
            return None
        if isinstance(raw, str):
            try:
                return json.loads(raw)
            except ValueError:
                raise SlackError(error, [f"[ERROR] invalid JSON [json-pointer:/{name}]"]) from None
        return raw


Handler = Callable[[Call], JSON]
METHODS: dict[str, Handler] = {}
UNAUTHENTICATED: set[str] = set()


def method(name: str, authenticated: bool = True) -> Callable[[Handler], Handler]:
    """Register a Web API method handler under its Slack name."""

    def register(handler: Handler) -> Handler:
        METHODS[name] = handler
        if not authenticated:
            UNAUTHENTICATED.add(name)
        return handler

    return register


def resolve_channel(call: Call, ref: str | None, error: str = "channel_not_found") -> Channel:
    """A channel of the caller's workspace by id, #name or user id (the bot's IM with that user)."""
    store, team_id = call.store, call.team_id
    if not ref:
        raise SlackError(error)
    channel = store.channels.get(ref)
    if channel is None and ref[0] in "UW" and ref in store.users:
        user = store.users[ref]
        if user.team_id == team_id and not user.deleted:
            channel, _ = store.open_im(team_id, ref)
    if channel is None:
        name = ref.removeprefix("#")
        channel = next(
            (c for c in store.channels.values() if c.team_id == team_id and not c.is_im and c.name == name),
            None,
        )
    if channel is None or channel.team_id != team_id:
        raise SlackError(error)
    if channel.is_private and not bot_is_member(call, channel):
        raise SlackError(error)  # private channels are invisible to non-members
    return channel


def bot_is_member(call: Call, channel: Channel) -> bool:
    return call.workspace.bot_user_id in channel.members


def active_members(store: Store, channel: Channel) -> list[str]:
    """Members who are still active (a deactivated user no longer counts as a member)."""
    return [u for u in channel.members if u in store.users and not store.users[u].deleted]


def require_scope(call: Call, scope: str) -> None:
    """Refuse a call whose token was granted scopes without `scope`, as Slack does. (A token minted
    with no scope list, the fake's pre-installed one, holds them all.)"""
    token = call.token
    if token is None or not token.scopes:
        return
    granted = [s.strip() for s in token.scopes.split(",") if s.strip()]
    if scope not in granted:
        raise SlackError("missing_scope", fields={"needed": scope, "provided": ",".join(granted)})


def find_user(call: Call, user_id: str | None) -> User:
    user = call.store.users.get(user_id or "")
    if user is None or user.team_id != call.team_id:
        raise SlackError("user_not_found")
    return user


def check_message_content(text: Any, blocks: Any, surface: str = "message") -> None:
    """Refuse what Slack refuses in a message: invalid blocks, no text fallback, text too long."""
    if blocks is not None:
        problems = validate_blocks(blocks, surface)
        if problems:
            raise SlackError("invalid_blocks", problems)
    if not isinstance(text, str) or not text.strip():
        # Stricter than Slack, which accepts blocks with only a warning: this bot promises a plain-text
        # fallback on every message (notifications and screen readers use it).
        raise SlackError("no_text")
    if len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")


def paginate(call: Call, items: list[Any], default_limit: int = 100) -> tuple[list[Any], str]:
    """Slack-style cursor pagination: returns (page, next_cursor); next_cursor is "" at the end."""
    limit = max(1, min(call.integer("limit", default_limit), 1000))
    cursor = call.arg("cursor")
    start = 0
    if cursor:
        try:
            kind, _, offset = base64.b64decode(cursor.encode()).decode().partition(":")
            start = int(offset)
            if kind != "offset" or start < 0:
                raise ValueError(cursor)
        except ValueError:
            raise SlackError("invalid_cursor") from None
    page = items[start : start + limit]
    end = start + limit
    next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
    return page, next_cursor
