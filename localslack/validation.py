"""Block Kit checks Slack makes on the server, including the ones slack_sdk's models do not catch.

Each check returns Slack-style problem strings, `[ERROR] <what> [json-pointer:<where>]`, which the API
puts in `response_metadata.messages`. Limits come from Slack's Block Kit reference; the page is cited
where each number is checked.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

# https://docs.slack.dev/reference/block-kit/blocks : "up to 50 blocks in each message, and up to 100
# blocks in modals or Home tabs".
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100

_SELECTS = {
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
}
_MULTI_SELECTS = {f"multi_{s}" for s in _SELECTS}
_ACTIONS_ELEMENTS = {
    "button",
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "overflow",
    "radio_buttons",
    "timepicker",
    "workflow_button",
    "rich_text_input",
    *_SELECTS,
    *_MULTI_SELECTS,
}
_ACCESSORY_ELEMENTS = {
    "button",
    "checkboxes",
    "datepicker",
    "image",
    "overflow",
    "radio_buttons",
    "timepicker",
    "workflow_button",
    *_SELECTS,
    *_MULTI_SELECTS,
}
_INPUT_ELEMENTS = {
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "email_text_input",
    "file_input",
    "number_input",
    "plain_text_input",
    "radio_buttons",
    "rich_text_input",
    "timepicker",
    "url_text_input",
    *_SELECTS,
    *_MULTI_SELECTS,
}
_COMMON_BLOCKS = {
    "section",
    "divider",
    "image",
    "actions",
    "context",
    "header",
    "input",
    "rich_text",
    "video",
}
BLOCK_TYPES = {
    "message": _COMMON_BLOCKS | {"markdown", "file", "table", "context_actions"},
    "modal": _COMMON_BLOCKS,
    "home": _COMMON_BLOCKS,
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Problems:
    """Collects `[ERROR] ... [json-pointer:...]` strings."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, what: str, pointer: str) -> None:
        self.messages.append(f"[ERROR] {what} [json-pointer:{pointer}]")

    def too_long(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(f"must be less than {limit + 1} characters", pointer)

    def string(self, obj: dict[str, Any], key: str, pointer: str, limit: int, required: bool = False) -> None:
        value = obj.get(key)
        if value is None:
            if required:
                self.add(f"missing required field: {key}", pointer)
            return
        if not isinstance(value, str):
            self.add("must be a string", f"{pointer}/{key}")
        elif required and not value:
            self.add("must be more than 0 characters", f"{pointer}/{key}")
        else:
            self.too_long(value, limit, f"{pointer}/{key}")

    def text(
        self, obj: Any, pointer: str, limit: int, plain_only: bool = False, required: bool = True
    ) -> None:
        """A text object: {"type": "plain_text"|"mrkdwn", "text": "..."}."""
        if obj is None:
            if required:
                self.add("missing required field", pointer)
            return
        if not isinstance(obj, dict):
            self.add("must be a text object", pointer)
            return
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in allowed:
            self.add(f"must be one of {list(allowed)}", f"{pointer}/type")
        self.string(obj, "text", pointer, limit, required=True)

    def items(self, value: Any, pointer: str, most: int, least: int = 1) -> list[Any]:
        if not isinstance(value, list):
            self.add("must be an array", pointer)
            return []
        if len(value) < least:
            self.add(f"must contain at least {least} item(s)", pointer)
        if len(value) > most:
            self.add(f"no more than {most} items allowed", pointer)
        return value


def validate_blocks(blocks: Any, surface: str, pointer: str = "/blocks") -> list[str]:
    """Problems with a `blocks` array on a surface ("message", "modal" or "home"); [] when valid."""
    p = Problems()
    limit = MESSAGE_BLOCKS_MAX if surface == "message" else VIEW_BLOCKS_MAX
    items = p.items(blocks, pointer, limit, least=0)
    block_ids: set[str] = set()
    for i, block in enumerate(items):
        _block(p, block, f"{pointer}/{i}", surface, block_ids)
    return p.messages


def validate_view(view: Any, allowed_types: tuple[str, ...], pointer: str = "/view") -> list[str]:
    """Problems with a view payload (https://docs.slack.dev/reference/views/modal-views)."""
    p = Problems()
    if not isinstance(view, dict):
        p.add("must be an object", pointer)
        return p.messages
    kind = view.get("type")
    if kind not in allowed_types:
        p.add(f"must be one of {list(allowed_types)}", f"{pointer}/type")
        return p.messages
    if kind == "modal":
        # Modal view fields: title, close and submit are plain_text of at most 24 characters.
        p.text(view.get("title"), f"{pointer}/title", 24, plain_only=True)
        p.text(view.get("close"), f"{pointer}/close", 24, plain_only=True, required=False)
        p.text(view.get("submit"), f"{pointer}/submit", 24, plain_only=True, required=False)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            p.add("submit is required when an input block is within the blocks array", f"{pointer}/submit")
    # private_metadata max 3000 characters; callback_id and external_id max 255 characters.
    p.string(view, "private_metadata", pointer, 3000)
    p.string(view, "callback_id", pointer, 255)
    p.string(view, "external_id", pointer, 255)
    if "blocks" not in view:
        p.add("missing required field: blocks", pointer)
    else:
        p.messages.extend(validate_blocks(view["blocks"], kind, f"{pointer}/blocks"))
    return p.messages


def validate_options_response(body: Any) -> list[str]:
    """Problems with an app's answer to block_suggestion: {"options": [...]} or {"option_groups": [...]}."""
    p = Problems()
    if not isinstance(body, dict) or ("options" not in body and "option_groups" not in body):
        p.add("must be an object with options or option_groups", "")
        return p.messages
    if "options" in body:
        for i, option in enumerate(p.items(body["options"], "/options", 100, least=0)):
            _option(p, option, f"/options/{i}")
    if "option_groups" in body:
        for i, group in enumerate(p.items(body["option_groups"], "/option_groups", 100, least=0)):
            ptr = f"/option_groups/{i}"
            if not isinstance(group, dict):
                p.add("must be an object", ptr)
                continue
            p.text(group.get("label"), f"{ptr}/label", 75, plain_only=True)
            for j, option in enumerate(p.items(group.get("options"), f"{ptr}/options", 100)):
                _option(p, option, f"{ptr}/options/{j}")
    return p.messages


def _block(p: Problems, block: Any, ptr: str, surface: str, block_ids: set[str]) -> None:
    if not isinstance(block, dict):
        p.add("must be an object", ptr)
        return
    kind = block.get("type")
    if kind not in BLOCK_TYPES[surface]:
        p.add(f"unsupported block type for {surface}: {kind!r}", f"{ptr}/type")
        return
    if "block_id" in block:
        # block_id: "Maximum length for this field is 255 characters", unique within a message or view.
        p.string(block, "block_id", ptr, 255, required=True)
        if block["block_id"] in block_ids:
            p.add(f"duplicate block_id {block['block_id']!r}", f"{ptr}/block_id")
        block_ids.add(block["block_id"])
    before = len(p.messages)
    action_ids: set[str] = set()
    if kind == "section":
        # https://docs.slack.dev/reference/block-kit/blocks/section-block : text max 3000 characters;
        # fields max 10 items of at most 2000 characters each; text or fields is required.
        if block.get("text") is None and block.get("fields") is None:
            p.add("must provide text or fields", ptr)
        p.text(block.get("text"), f"{ptr}/text", 3000, required=False)
        if block.get("fields") is not None:
            for i, f in enumerate(p.items(block["fields"], f"{ptr}/fields", 10)):
                p.text(f, f"{ptr}/fields/{i}", 2000)
        if block.get("accessory") is not None:
            _element(p, block["accessory"], f"{ptr}/accessory", _ACCESSORY_ELEMENTS, action_ids)
    elif kind == "header":
        # https://docs.slack.dev/reference/block-kit/blocks/header-block : plain_text, max 150 characters.
        p.text(block.get("text"), f"{ptr}/text", 150, plain_only=True)
    elif kind == "actions":
        # https://docs.slack.dev/reference/block-kit/blocks/actions-block : at most 25 elements.
        for i, el in enumerate(p.items(block.get("elements"), f"{ptr}/elements", 25)):
            _element(p, el, f"{ptr}/elements/{i}", _ACTIONS_ELEMENTS, action_ids)
    elif kind == "context":
        # https://docs.slack.dev/reference/block-kit/blocks/context-block : at most 10 elements.
        for i, el in enumerate(p.items(block.get("elements"), f"{ptr}/elements", 10)):
            if isinstance(el, dict) and el.get("type") == "image":
                _image(p, el, f"{ptr}/elements/{i}")
            else:
                p.text(el, f"{ptr}/elements/{i}", 3000)
    elif kind == "input":
        # https://docs.slack.dev/reference/block-kit/blocks/input-block : label and hint are plain_text
        # of at most 2000 characters; element is required.
        p.text(block.get("label"), f"{ptr}/label", 2000, plain_only=True)
        p.text(block.get("hint"), f"{ptr}/hint", 2000, plain_only=True, required=False)
        if block.get("element") is None:
            p.add("missing required field: element", ptr)
        else:
            _element(p, block["element"], f"{ptr}/element", _INPUT_ELEMENTS, action_ids)
    elif kind == "image":
        _image(p, block, ptr)
        p.text(block.get("title"), f"{ptr}/title", 2000, plain_only=True, required=False)
    elif kind == "markdown":
        # https://docs.slack.dev/reference/block-kit/blocks/markdown-block : text max 12,000 characters.
        p.string(block, "text", ptr, 12000, required=True)
    if len(p.messages) == before:
        _sdk_check(p, block, ptr)


def _sdk_check(p: Problems, block: dict[str, Any], ptr: str) -> None:
    """What slack_sdk's own models refuse (they catch many limits on to_dict())."""
    try:
        parsed = Block.parse(copy.deepcopy(block))
        if parsed is None:
            p.add(f"unknown block type {block.get('type')!r}", f"{ptr}/type")
            return
        parsed.to_dict()
    except SlackObjectFormationError as exc:
        p.add(str(exc), ptr)
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        p.add(f"malformed block: {exc}", ptr)


def _element(p: Problems, el: Any, ptr: str, allowed: set[str], action_ids: set[str]) -> None:
    if not isinstance(el, dict):
        p.add("must be an object", ptr)
        return
    kind = el.get("type")
    if kind not in allowed:
        p.add(f"unsupported element type here: {kind!r}", f"{ptr}/type")
        return
    if "action_id" in el:
        # action_id: "Maximum length is 255 characters", unique among the action_ids of its block.
        p.string(el, "action_id", ptr, 255, required=True)
        if el["action_id"] in action_ids:
            p.add(f"duplicate action_id {el['action_id']!r}", f"{ptr}/action_id")
        action_ids.add(el["action_id"])
    # Select menus and inputs: placeholder is plain_text of at most 150 characters.
    p.text(el.get("placeholder"), f"{ptr}/placeholder", 150, plain_only=True, required=False)
    if el.get("confirm") is not None:
        _confirm(p, el["confirm"], f"{ptr}/confirm")
    if kind == "button":
        # https://docs.slack.dev/reference/block-kit/block-elements/button-element : text max 75,
        # value max 2000, url max 3000, accessibility_label max 75 characters.
        p.text(el.get("text"), f"{ptr}/text", 75, plain_only=True)
        p.string(el, "value", ptr, 2000)
        p.string(el, "url", ptr, 3000)
        p.string(el, "accessibility_label", ptr, 75)
        if el.get("style") not in (None, "primary", "danger"):
            p.add('must be one of ["primary","danger"]', f"{ptr}/style")
    elif kind in ("static_select", "multi_static_select"):
        _static_options(p, el, ptr)
    elif kind == "overflow":
        # Overflow menu: between 1 and 5 options.
        for i, option in enumerate(p.items(el.get("options"), f"{ptr}/options", 5)):
            _option(p, option, f"{ptr}/options/{i}")
    elif kind in ("checkboxes", "radio_buttons"):
        # Checkboxes and radio buttons: at most 10 options, whose text may be mrkdwn.
        options = p.items(el.get("options"), f"{ptr}/options", 10)
        for i, option in enumerate(options):
            _option(p, option, f"{ptr}/options/{i}", plain_only=False)
        _initial_in(p, el, options, ptr)
    elif kind == "datepicker" and el.get("initial_date") is not None:
        if not _DATE.match(str(el["initial_date"])):
            p.add("must be a date in the format YYYY-MM-DD", f"{ptr}/initial_date")
    elif kind == "timepicker" and el.get("initial_time") is not None:
        if not _TIME.match(str(el["initial_time"])):
            p.add("must be a time in the format HH:mm", f"{ptr}/initial_time")
    elif kind == "plain_text_input":
        # Plain-text input: min_length 0..3000, max_length 1..3000.
        for key in ("min_length", "max_length"):
            value = el.get(key)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 3000):
                p.add("must be an integer between 0 and 3000", f"{ptr}/{key}")
    elif kind == "number_input" and not isinstance(el.get("is_decimal_allowed"), bool):
        p.add("missing required field: is_decimal_allowed", ptr)
    elif kind == "image":
        _image(p, el, ptr)


def _static_options(p: Problems, el: dict[str, Any], ptr: str) -> None:
    # Static select: options or option_groups (exactly one), each at most 100 items.
    has_options, has_groups = el.get("options") is not None, el.get("option_groups") is not None
    if has_options == has_groups:
        p.add("must provide exactly one of options or option_groups", ptr)
        return
    every: list[Any] = []
    if has_options:
        every = p.items(el["options"], f"{ptr}/options", 100)
        for i, option in enumerate(every):
            _option(p, option, f"{ptr}/options/{i}")
    else:
        for i, group in enumerate(p.items(el["option_groups"], f"{ptr}/option_groups", 100)):
            gptr = f"{ptr}/option_groups/{i}"
            if not isinstance(group, dict):
                p.add("must be an object", gptr)
                continue
            p.text(group.get("label"), f"{gptr}/label", 75, plain_only=True)
            options = p.items(group.get("options"), f"{gptr}/options", 100)
            for j, option in enumerate(options):
                _option(p, option, f"{gptr}/options/{j}")
            every.extend(options)
    _initial_in(p, el, every, ptr)


def _initial_in(p: Problems, el: dict[str, Any], options: list[Any], ptr: str) -> None:
    """initial_option(s) must be among the element's options."""
    values = {o.get("value") for o in options if isinstance(o, dict)}
    initial = el.get("initial_options") or ([el["initial_option"]] if el.get("initial_option") else [])
    for i, option in enumerate(initial):
        if not isinstance(option, dict) or option.get("value") not in values:
            p.add("initial option must match one of the options", f"{ptr}/initial_options/{i}")


def _option(p: Problems, option: Any, ptr: str, plain_only: bool = True) -> None:
    # https://docs.slack.dev/reference/block-kit/composition-objects/option-object : text max 75,
    # value max 150, description max 75, url max 3000 characters.
    if not isinstance(option, dict):
        p.add("must be an object", ptr)
        return
    p.text(option.get("text"), f"{ptr}/text", 75, plain_only=plain_only)
    p.string(option, "value", ptr, 150, required=True)
    p.text(option.get("description"), f"{ptr}/description", 75, plain_only=plain_only, required=False)
    p.string(option, "url", ptr, 3000)


def _confirm(p: Problems, confirm: Any, ptr: str) -> None:
    # Confirmation dialog: title max 100, text max 300, confirm and deny max 30 characters.
    if not isinstance(confirm, dict):
        p.add("must be an object", ptr)
        return
    p.text(confirm.get("title"), f"{ptr}/title", 100, plain_only=True)
    p.text(confirm.get("text"), f"{ptr}/text", 300)
    p.text(confirm.get("confirm"), f"{ptr}/confirm", 30, plain_only=True)
    p.text(confirm.get("deny"), f"{ptr}/deny", 30, plain_only=True)


def _image(p: Problems, el: dict[str, Any], ptr: str) -> None:
    # Image block and element: image_url max 3000 (or slack_file), alt_text required, max 2000.
    if el.get("image_url") is None and el.get("slack_file") is None:
        p.add("must provide image_url or slack_file", ptr)
    p.string(el, "image_url", ptr, 3000)
    p.string(el, "alt_text", ptr, 2000, required=True)
