"""The records a local Slack keeps: plain, JSON-serialisable dataclasses.

Nothing here talks HTTP or decides what Slack refuses; that lives in the API modules. Keeping the
records flat (ids, strings, lists, dicts) is what lets a later issue persist the whole store as JSON.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass
class AppConfig:
    """The one Slack app this local Slack delivers to (what api.slack.com/apps would hold)."""

    app_id: str = "A0SCALEBOT"
    request_url: str | None = None
    signing_secret: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    redirect_uri: str | None = None
    verification_token: str = "localslack-verification-token"  # noqa: S105 - deprecated, not secret


@dataclass
class Workspace:
    team_id: str
    name: str
    domain: str
    bot_user_id: str
    bot_id: str
    bot_token: str
    created: int
    enterprise_id: str | None = None
    active: bool = True
    # What the workspace's plan allows of canvases: "paid" (all), "free" (no channel canvases, only tabs),
    # "disabled" (an admin turned canvases off).
    canvas_plan: str = "paid"


@dataclass
class Token:
    token: str
    team_id: str
    kind: str  # "bot" | "user"
    user_id: str
    scopes: str = ""
    revoked: bool = False


@dataclass
class User:
    id: str
    team_id: str
    name: str
    real_name: str
    display_name: str = ""
    tz: str = "Europe/Berlin"
    email: str | None = None
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    bot_id: str | None = None
    updated: int = 0
    # What users.profile.get shows (status_expiration 0: no expiry) and Do Not Disturb as dnd.info shows
    # it: a scheduled window (0/0 when off) and a snooze, visible only to the person themselves.
    status_text: str = ""
    status_emoji: str = ""
    status_expiration: int = 0
    dnd_start: int = 0
    dnd_end: int = 0
    snooze_end: int = 0


@dataclass
class Channel:
    id: str
    team_id: str
    name: str
    members: list[str] = field(default_factory=list)
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    im_user: str | None = None
    is_archived: bool = False
    created: int = 0
    creator: str = ""
    canvas_id: str | None = None  # the channel canvas (properties.canvas)
    canvas_tabs: list[str] = field(default_factory=list)  # canvases tabbed into the channel


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    user: str | None
    team: str
    blocks: list[JSON] | None = None
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    reply_broadcast: bool = False
    metadata: JSON | None = None
    edited: JSON | None = None
    subtype: str | None = None
    files: list[str] = field(default_factory=list)


@dataclass
class Ephemeral:
    """An ephemeral message: only `user` sees it, and the Web API cannot read it back."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JSON] | None = None
    thread_ts: str | None = None
    source: str = "chat.postEphemeral"  # or "response_url", "command_response"


@dataclass
class View:
    """A modal or Home tab as Slack keeps it: the app's spec plus Slack's own fields and state."""

    id: str
    team_id: str
    user_id: str
    type: str  # "modal" | "home"
    spec: JSON
    hash: str
    root_view_id: str | None
    app_id: str
    bot_id: str
    previous_view_id: str | None = None
    state: dict[str, dict[str, JSON]] = field(default_factory=dict)
    status: str = "open"  # "open" | "closed" (modals); Home tabs stay "published"
    errors: dict[str, str] | None = None

    def to_api(self) -> JSON:
        """The view object as views.* methods and interaction payloads return it."""
        spec = self.spec
        out: JSON = {
            "id": self.id,
            "team_id": self.team_id,
            "type": self.type,
            "blocks": spec.get("blocks", []),
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "state": {"values": self.state},
            "hash": self.hash,
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "root_view_id": self.root_view_id,
            "previous_view_id": self.previous_view_id,
            "app_id": self.app_id,
            "external_id": spec.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        if self.type == "modal":
            out["title"] = spec.get("title")
            out["close"] = spec.get("close")
            out["submit"] = spec.get("submit")
        return out


@dataclass
class Trigger:
    id: str
    team_id: str
    user_id: str
    created: float
    used: bool = False
    view_id: str | None = None  # set when the interaction happened inside a modal


@dataclass
class ResponseUrl:
    id: str
    team_id: str
    user_id: str
    channel_id: str | None
    created: float
    source_ts: str | None = None  # the message the interaction came from, if any
    source_ephemeral: bool = False
    thread_ts: str | None = None
    uses: int = 0


@dataclass
class ResponseUrlPost:
    hook_id: str
    body: Any
    status: int
    error: str | None
    at: float

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class RecordedCall:
    method: str
    args: JSON
    team_id: str | None
    token_kind: str | None
    ok: bool
    error: str | None
    at: float


@dataclass
class StoredFile:
    id: str
    team_id: str
    user: str
    filename: str
    length: int
    created: int
    title: str | None = None
    alt_txt: str | None = None
    data_b64: str | None = None  # base64 so the record stays JSON-serialisable
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    thread_ts: str | None = None
    initial_comment: str | None = None

    @property
    def content(self) -> bytes:
        """The uploaded bytes (empty until the upload POST happened)."""
        return base64.b64decode(self.data_b64) if self.data_b64 is not None else b""

    @property
    def uploaded(self) -> bool:
        return self.data_b64 is not None

    def to_api(self, public_url: str) -> JSON:
        name = self.filename
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else "binary"
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": name,
            "title": self.title or name,
            "filetype": ext,
            "size": len(self.content),
            "user": self.user,
            "user_team": self.team_id,
            "is_external": False,
            "is_public": bool(self.channels),
            "alt_txt": self.alt_txt,
            "channels": list(self.channels),
            "url_private": f"{public_url}/files-pri/{self.team_id}-{self.id}/{name}",
            "permalink": f"{public_url}/files/{self.user}/{self.id}/{name}",
        }


@dataclass
class Canvas:
    """A canvas: its Markdown body, who created it, where it is."""

    id: str
    team_id: str
    creator: str  # user id (the bot user for the bot's canvases)
    title: str
    markdown: str
    created: int
    updated: int
    channel_id: str | None = None  # the channel whose canvas it is, or which it is tabbed into
    is_channel_canvas: bool = False
    edits: int = 0
    shared_channels: list[str] = field(default_factory=list)


@dataclass
class OAuthCode:
    code: str
    client_id: str
    team_id: str
    user_id: str
    scope: str
    user_scope: str
    redirect_uri: str | None
    created: float
    used: bool = False
