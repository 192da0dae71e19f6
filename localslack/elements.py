"""Interactive Block Kit elements as a user meets them: finding them, choosing values, their state.

Slack's client enforces some rules before anything reaches the app (an option must exist, a required
input must be filled, a text input's length bounds); the actor enforces them here and raises
`ActorError`, so a test cannot make a user do what Slack's client would not let them do.
"""

from __future__ import annotations

import copy
import random
import re
import string
from collections.abc import Iterator
from typing import Any

from localslack.state import JSON


class ActorError(AssertionError):
    """A test asked a user to do something impossible in Slack (or the app answered what Slack refuses)."""


_TEXT_INPUTS = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
_ONE_OPTION = {"static_select", "external_select", "radio_buttons", "overflow"}
_MANY_OPTIONS = {"multi_static_select", "multi_external_select", "checkboxes"}
_ENTITY = {
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_users_select": ("selected_users", "initial_users"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
}
_SCALAR = {
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "datetimepicker": ("selected_date_time", "initial_date_time"),
    "rich_text_input": ("rich_text_value", "initial_value"),
    "file_input": ("files", None),
}
STATEFUL = _TEXT_INPUTS | _ONE_OPTION | _MANY_OPTIONS | set(_ENTITY) | set(_SCALAR)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def iter_elements(blocks: list[Any] | None) -> Iterator[tuple[JSON, JSON]]:
    """(block, element) for every interactive element in `blocks`."""
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "actions":
            for element in block.get("elements") or []:
                yield block, element
        for key in ("accessory", "element"):
            element = block.get(key)
            if isinstance(element, dict) and element.get("type") != "image":
                yield block, element


def find_element(
    blocks: list[Any] | None,
    action_id: str,
    block_id: str | None = None,
    where: str = "the message",
    button_value: str | None = None,
) -> tuple[JSON, JSON]:
    """The one element with `action_id` (and `block_id` / button `value`, if given); ActorError if none
    or several."""
    found = [
        (b, e)
        for b, e in iter_elements(blocks)
        if e.get("action_id") == action_id
        and (block_id is None or b.get("block_id") == block_id)
        and (button_value is None or e.get("value") == button_value)
    ]
    if not found:
        rendered = sorted({str(e.get("action_id")) for _, e in iter_elements(blocks)})
        wanted = f"action_id={action_id!r}" + (f" value={button_value!r}" if button_value is not None else "")
        raise ActorError(f"no element with {wanted} in {where}; it renders action_ids {rendered}")
    if len(found) > 1:
        raise ActorError(f"{len(found)} elements with action_id={action_id!r} in {where}; pass block_id")
    return found[0]


def all_options(element: JSON) -> list[JSON]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _pick(element: JSON, value: Any) -> JSON:
    """The element's option for `value` (an option value or an option dict)."""
    wanted = value.get("value") if isinstance(value, dict) else value
    if element.get("type") in ("external_select", "multi_external_select"):
        # External options come from the app's block_suggestion answer, not the element.
        if isinstance(value, dict):
            return value
        return {"text": {"type": "plain_text", "text": str(value)}, "value": str(value)}
    for option in all_options(element):
        if option.get("value") == wanted:
            return option
    values = [o.get("value") for o in all_options(element)]
    raise ActorError(f"{element.get('action_id')!r} has no option {wanted!r}; its options are {values}")


def state_entry(element: JSON, value: Any) -> JSON:
    """The element's `state.values` entry after the user chose `value` (None clears it)."""
    kind = str(element.get("type"))
    entry: JSON = {"type": kind}
    if kind in _TEXT_INPUTS:
        entry["value"] = None if value is None else _text_value(element, value)
    elif kind in _ONE_OPTION:
        entry["selected_option"] = None if value is None else _pick(element, value)
    elif kind in _MANY_OPTIONS:
        chosen = [_pick(element, v) for v in (value or [])]
        most = element.get("max_selected_items")
        if most is not None and len(chosen) > int(most):
            raise ActorError(f"{element.get('action_id')!r} allows at most {most} selections")
        entry["selected_options"] = chosen
    elif kind in _ENTITY:
        key = _ENTITY[kind][0]
        entry[key] = list(value or []) if kind.startswith("multi_") else value
    elif kind in _SCALAR:
        key = _SCALAR[kind][0]
        if kind == "datepicker" and value is not None and not _DATE.match(str(value)):
            raise ActorError(f"a datepicker value is YYYY-MM-DD, not {value!r}")
        if kind == "timepicker" and value is not None and not _TIME.match(str(value)):
            raise ActorError(f"a timepicker value is HH:mm, not {value!r}")
        entry[key] = value
    else:
        raise ActorError(f"a {kind} element holds no value")
    return entry


def _text_value(element: JSON, value: Any) -> str:
    text = str(value)
    name = element.get("action_id")
    if element.get("type") == "number_input":
        try:
            number = float(text)
        except ValueError:
            raise ActorError(f"{name!r} is a number input; {text!r} is not a number") from None
        if not element.get("is_decimal_allowed") and not number.is_integer():
            raise ActorError(f"{name!r} does not allow decimals")
        for bound, ok in (
            ("min_value", number >= float(element.get("min_value", number))),
            ("max_value", number <= float(element.get("max_value", number))),
        ):
            if not ok:
                raise ActorError(f"{name!r} refuses {text}: outside {bound}={element.get(bound)}")
        return text
    if len(text) < int(element.get("min_length", 0)):
        raise ActorError(f"{name!r} needs at least {element['min_length']} characters")
    if "max_length" in element and len(text) > int(element["max_length"]):
        raise ActorError(f"{name!r} takes at most {element['max_length']} characters")
    return text


def initial_entry(element: JSON) -> JSON:
    """The state entry an untouched element has (its initial_* value, or empty)."""
    kind = str(element.get("type"))
    if kind in _TEXT_INPUTS:
        return {"type": kind, "value": element.get("initial_value")}
    if kind in _ONE_OPTION:
        return {"type": kind, "selected_option": element.get("initial_option")}
    if kind in _MANY_OPTIONS:
        return {"type": kind, "selected_options": list(element.get("initial_options") or [])}
    if kind in _ENTITY:
        key, initial = _ENTITY[kind]
        default: Any = [] if kind.startswith("multi_") else None
        return {"type": kind, key: element.get(initial, default)}
    if kind in _SCALAR:
        key, initial_key = _SCALAR[kind]
        return {"type": kind, key: element.get(initial_key) if initial_key else None}
    return {"type": kind}


def is_empty(entry: JSON) -> bool:
    values = [v for k, v in entry.items() if k != "type"]
    return all(v in (None, "", []) for v in values)


def state_values(blocks: list[Any] | None, entered: dict[str, dict[str, JSON]]) -> dict[str, dict[str, JSON]]:
    """`state.values` as Slack sends it: every input element, plus other elements the user touched."""
    values: dict[str, dict[str, JSON]] = {}
    for block, element in iter_elements(blocks):
        kind, block_id, action_id = element.get("type"), block.get("block_id"), element.get("action_id")
        if kind not in STATEFUL or not block_id or not action_id:
            continue
        entry = entered.get(block_id, {}).get(action_id)
        if entry is None:
            entry = initial_entry(element)
            if block.get("type") != "input" and is_empty(entry):
                continue
        values.setdefault(block_id, {})[action_id] = entry
    return values


def preserve_state(
    entered: dict[str, dict[str, JSON]], blocks: list[Any] | None
) -> dict[str, dict[str, JSON]]:
    """What survives a views.update: entries whose block_id, action_id and element type still match."""
    kept: dict[str, dict[str, JSON]] = {}
    for block, element in iter_elements(blocks):
        entry = entered.get(str(block.get("block_id")), {}).get(str(element.get("action_id")))
        if entry is not None and entry.get("type") == element.get("type"):
            kept.setdefault(str(block["block_id"]), {})[str(element["action_id"])] = entry
    return kept


def action_item(block: JSON, element: JSON, value: Any, action_ts: str) -> JSON:
    """One `actions[]` entry of a block_actions payload."""
    kind = element.get("type")
    item: JSON = {"action_id": element.get("action_id"), "block_id": block.get("block_id"), "type": kind}
    if kind in ("button", "workflow_button"):
        item["text"] = element.get("text")
        if "value" in element:
            item["value"] = element["value"]
        if "style" in element:
            item["style"] = element["style"]
    else:
        item.update({k: v for k, v in state_entry(element, value).items() if k != "type"})
        if "placeholder" in element:
            item["placeholder"] = element["placeholder"]
    item["action_ts"] = action_ts
    return item


def with_generated_ids(blocks: list[Any] | None, rng: random.Random | None = None) -> list[Any] | None:
    """A copy of `blocks` where, as Slack does, every block has a block_id and every element an action_id."""
    if blocks is None:
        return None
    rng = rng or random.Random()
    alphabet = string.ascii_letters + string.digits

    def new_id() -> str:
        return "".join(rng.choice(alphabet) for _ in range(5))

    out = copy.deepcopy(blocks)
    for block in out:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", new_id())
        for element in _interactive_elements(block):
            element.setdefault("action_id", new_id())
    return out


def _interactive_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if block.get("type") == "actions":
        found.extend(e for e in block.get("elements") or [] if isinstance(e, dict))
    for key in ("accessory", "element"):
        element = block.get(key)
        if isinstance(element, dict) and element.get("type") != "image":
            found.append(element)
    return found
