"""A `Store` as plain JSON-compatible data and back: how local mode keeps its workspace across restarts."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import TYPE_CHECKING, TypeVar

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

if TYPE_CHECKING:
    from localslack.store import Store

_T = TypeVar("_T")

# table name -> (record class, the field it is keyed by)
TABLES: dict[str, tuple[type, str]] = {
    "workspaces": (Workspace, "team_id"),
    "tokens": (Token, "token"),
    "users": (User, "id"),
    "channels": (Channel, "id"),
    "views": (View, "id"),
    "triggers": (Trigger, "id"),
    "response_urls": (ResponseUrl, "id"),
    "files": (StoredFile, "id"),
    "canvases": (Canvas, "id"),
    "oauth_codes": (OAuthCode, "code"),
}


def take(store: Store) -> JSON:
    """Every record of `store` (the caller holds its lock)."""
    data: JSON = {name: [asdict(v) for v in getattr(store, name).values()] for name in TABLES}
    data["app"] = asdict(store.app)
    data["public_url"] = store.public_url
    data["messages"] = [asdict(m) for ms in store.messages.values() for m in ms]
    data["ephemerals"] = [asdict(e) for e in store.ephemerals]
    data["response_url_posts"] = [asdict(p) for p in store.response_url_posts]
    data["calls"] = [asdict(c) for c in store.calls]
    data["last_us"] = store.last_us
    return data


def put_back(store: Store, data: JSON) -> None:
    """Replace `store`'s records with `data` from `take` (the caller holds its lock)."""
    store.app = _build(AppConfig, data["app"])
    store.public_url = data.get("public_url", store.public_url)
    for name, (cls, key) in TABLES.items():
        setattr(store, name, {row[key]: _build(cls, row) for row in data.get(name, [])})
    store.messages = {cid: [] for cid in store.channels}
    for row in data.get("messages", []):
        store.messages.setdefault(row["channel"], []).append(_build(Message, row))
    store.ephemerals = [_build(Ephemeral, r) for r in data.get("ephemerals", [])]
    store.response_url_posts = [_build(ResponseUrlPost, r) for r in data.get("response_url_posts", [])]
    store.calls = [_build(RecordedCall, r) for r in data.get("calls", [])]
    store.last_us = int(data.get("last_us", 0))


def _build(cls: type[_T], row: JSON) -> _T:
    """A record from its dict, ignoring fields a newer or older version wrote."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in row.items() if k in names})
