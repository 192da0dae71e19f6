"""What a browser control holds, as Block Kit state, and the checks Slack's client makes before sending.

Slack's client refuses some input itself (a required field left empty, text in a number input, too
few characters) and says so under the input without telling the app; the console does the same.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from localslack.state import JSON

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TEXT = {"plain_text_input", "number_input", "email_text_input", "url_text_input"}


def _rich_text(text: str) -> JSON:
    return {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


def coerce(element: JSON, raw: Any, zone: ZoneInfo) -> Any:
    """The value to give the actor for what the page sent (None when the control is empty)."""
    kind = str(element.get("type"))
    if kind.startswith("multi_") or kind == "checkboxes":
        items = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        return [i for i in items if i not in (None, "")]
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if kind in _TEXT:
        return str(raw).strip() if kind == "number_input" else str(raw)
    if kind == "rich_text_input":
        return _rich_text(str(raw))
    if kind == "datetimepicker" and isinstance(raw, str):
        try:
            return int(datetime.fromisoformat(raw).replace(tzinfo=zone).timestamp())
        except ValueError:
            return None
    return raw


def client_error(element: JSON, value: Any) -> str | None:
    """The sentence Slack's client shows under an input it will not send, else None."""
    kind = str(element.get("type"))
    if value is None or kind not in _TEXT:
        return None
    text = str(value)
    if kind == "number_input":
        try:
            number = float(text)
        except ValueError:
            return "Enter a number."
        if not element.get("is_decimal_allowed") and not number.is_integer():
            return "Enter a whole number."
        if "min_value" in element and number < float(element["min_value"]):
            return f"Enter a number that is at least {element['min_value']}."
        if "max_value" in element and number > float(element["max_value"]):
            return f"Enter a number that is at most {element['max_value']}."
        return None
    if "min_length" in element and len(text) < int(element["min_length"]):
        return f"Enter at least {element['min_length']} characters."
    if "max_length" in element and len(text) > int(element["max_length"]):
        return f"Enter no more than {element['max_length']} characters."
    if kind == "email_text_input" and not _EMAIL.match(text):
        return "Enter a valid email address."
    if kind == "url_text_input" and not text.lower().startswith(("http://", "https://")):
        return "Enter a valid URL, starting with http:// or https://."
    return None
