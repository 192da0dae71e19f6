"""Checks on a signed Slack payload before Bolt parses or routes it.

Every shape a client can sign answers 2xx or 4xx, never 5xx: parsing is bounded (size by
`bot.limits`, nesting depth and field count here), and a payload that names no workspace is refused
before anything is stored. Enterprise Grid org-wide installs are not supported yet: their payloads are
answered with a sentence that says so (docs/operations.md, "Enterprise Grid").
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, unquote_plus, urlencode

MAX_DEPTH = 32  # Slack's deepest payloads (a view's blocks and state) nest about a dozen levels
MAX_FORM_FIELDS = 200

ENTERPRISE_NOT_SUPPORTED = (
    "scalebot does not support Enterprise Grid org-wide installs yet. "
    "Ask an admin to install it in each workspace instead of across the organization."
)

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_text(body: str) -> str | None:
    """The JSON a request body carries (the body itself, or the `payload=` form field), else None."""
    stripped = body.lstrip()
    if stripped.startswith(("{", "[")):
        return stripped
    if body.startswith("payload="):
        return unquote_plus(body[len("payload=") :].split("&", 1)[0])
    return None


def nesting_depth(text: str) -> int:
    """How deep objects and arrays nest in a JSON text (outside strings), without parsing it."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def parsing_problem(body: str) -> str | None:
    """Why this body must not be parsed (too deep, too many fields), or None."""
    text = json_text(body)
    if text is not None:
        if nesting_depth(text) > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
    elif body.count("&") >= MAX_FORM_FIELDS:
        return f"more than {MAX_FORM_FIELDS} form fields"
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def workspace_id(body: dict[str, Any]) -> str | None:
    """The workspace a payload comes from, wherever its kind carries it."""
    team = body.get("team")
    found = _text(body.get("team_id")) or (_text(team.get("id")) if isinstance(team, dict) else None)
    if found is None:
        view = body.get("view")
        if isinstance(view, dict):
            found = _text(view.get("team_id"))
    if found is None:
        user = body.get("user")
        if isinstance(user, dict):
            found = _text(user.get("team_id"))
    return found


def enterprise_id(body: dict[str, Any]) -> str | None:
    enterprise = body.get("enterprise")
    return _text(body.get("enterprise_id")) or (
        _text(enterprise.get("id")) if isinstance(enterprise, dict) else None
    )


def is_enterprise_install(body: dict[str, Any]) -> bool:
    """An org-wide install's payload: flagged as such, or an enterprise without a workspace."""
    if body.get("is_enterprise_install") is True:
        return True
    authorizations = body.get("authorizations")
    if isinstance(authorizations, list) and any(
        isinstance(a, dict) and a.get("is_enterprise_install") is True for a in authorizations
    ):
        return True
    return workspace_id(body) is None and enterprise_id(body) is not None


# What Bolt reads, unguarded, while it routes each kind of payload: checked before it sees them.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "view_submission": ("view.type", "view.callback_id", "view.id"),
    "view_closed": ("view.type", "view.callback_id", "view.id"),
    "block_suggestion": ("action_id",),
    "shortcut": ("callback_id",),
    "message_action": ("callback_id",),
    "interactive_message": ("callback_id",),
    "event_callback": ("event.type",),
}


def _field(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def missing_field(body: dict[str, Any]) -> str | None:
    """The first field this kind of payload must carry (as text) and does not, or None."""
    if "command" in body:
        return next((f for f in ("command", "user_id", "channel_id") if not _text(body.get(f))), None)
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return "actions"
        if not all(isinstance(a, dict) and _text(a.get("action_id")) for a in actions):
            return "actions.action_id"
        return None
    for path in _REQUIRED.get(str(kind), ()):
        if not _text(_field(body, path)):
            return path
    return None


def encode_like(original: str, body: dict[str, Any]) -> str:
    """`body` encoded the way `original` was (JSON, a `payload=` form field, or form fields)."""
    if original.lstrip().startswith(("{", "[")):
        return json.dumps(body)
    if original.startswith("payload="):
        return "payload=" + quote(json.dumps(body))
    return urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
