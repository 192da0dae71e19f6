"""Text the databases cannot store, caught where it comes in.

PostgreSQL refuses NUL characters in text where SQLite accepts them, and neither can store a lone
UTF-16 surrogate (Slack's JSON can carry one as `\\ud800`; it is not a character UTF-8 can write). So
that both behave the same and nothing typed is lost:

- a modal's text inputs are checked before the submission is handled: the field is refused with an
  error under it that says what to change (`field_problems`), and the person's text stays in the modal;
- everywhere else (a command's text, a button's value, an event), such characters are replaced with
  U+FFFD "�" before anything sees them (`clean`), a visible mark where the character was.

docs/operations.md ("Text that cannot be stored") documents both.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\N{REPLACEMENT CHARACTER}"
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
FIELD_MESSAGE = (
    "This text contains a character that cannot be saved (an invisible control character or a broken "
    "emoji, often pasted from another program). Retype the text around it and submit again."
)


def clean(value: Any) -> Any:
    """`value` with every unstorable character in every string (keys included) replaced by "�"."""
    if isinstance(value, str):
        return UNSTORABLE.sub(REPLACEMENT, value) if UNSTORABLE.search(value) else value
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def _has_unstorable(value: Any) -> bool:
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_unstorable(k) or _has_unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_unstorable(v) for v in value)
    return False


def field_problems(view: dict[str, Any]) -> dict[str, str]:
    """{block_id: what to change} for each input of a submitted modal holding unstorable text."""
    values = (view.get("state") or {}).get("values") or {}
    if not isinstance(values, dict):
        return {}
    return {str(block_id): FIELD_MESSAGE for block_id, v in values.items() if _has_unstorable(v)}


def clean_payload(body: dict[str, Any]) -> bool:
    """Clean a payload in place (a modal submission's inputs are left for `field_problems` to
    refuse); True when anything changed."""
    view = body.get("view")
    keep_state = body.get("type") == "view_submission" and isinstance(view, dict) and "state" in view
    changed = False
    for key in list(body):
        if key == "view" and keep_state and isinstance(view, dict):
            for inner in list(view):
                if inner != "state" and _has_unstorable(view[inner]):
                    view[inner], changed = clean(view[inner]), True
        elif _has_unstorable(key) or _has_unstorable(body[key]):
            body[clean(key)] = clean(body.pop(key))
            changed = True
    return changed
