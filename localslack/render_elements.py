"""Block Kit elements as HTML controls: buttons, selects, menus, pickers and text inputs.

Each interactive control carries what the console needs to send the action Slack would send:
`data-action-id`, `data-block-id`, `data-type` and, for buttons, `data-value`. `data-act` says how the
browser treats it: `click` (a button), `select` (a choice sent at once as block_actions) or `input`
(a value kept in the view until submit, like Slack's input blocks without `dispatch_action`).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from localslack.mrkdwn import TextContext, plain_html, text_object_html, text_object_plain

JSON = dict[str, Any]


@dataclass
class RenderContext(TextContext):
    """A rendering for one reader on one surface (a message, a modal or the Home tab)."""

    surface: str = "message"
    users: list[tuple[str, str]] = field(default_factory=list)  # (id, label) for users selects
    channels: list[tuple[str, str]] = field(default_factory=list)  # (id, name) for conversation selects
    state: dict[str, dict[str, JSON]] = field(default_factory=dict)  # a view's state.values
    errors: dict[str, str] = field(default_factory=dict)  # a view's input errors
    id_prefix: str = "m"
    _ids: int = 0

    def new_id(self) -> str:
        self._ids += 1
        return f"{self.id_prefix}-{self._ids}"


def attr(value: object) -> str:
    return html.escape(str(value), quote=True)


def _data(block: JSON, element: JSON, act: str, key_extra: str = "") -> str:
    parts = [
        f'data-act="{act}"',
        f'data-action-id="{attr(element.get("action_id", ""))}"',
        f'data-block-id="{attr(block.get("block_id", ""))}"',
        f'data-type="{attr(element.get("type", ""))}"',
        f'data-key="{attr(_key(block, element, key_extra))}"',
    ]
    return " ".join(parts)


def _key(block: JSON, element: JSON, extra: str = "") -> str:
    return f"{block.get('block_id', '')}/{element.get('action_id', '')}/{extra}"


def _act(block: JSON) -> str:
    """How a stateful element behaves: sent at once, or kept until the modal is submitted."""
    if block.get("type") == "input" and not block.get("dispatch_action"):
        return "input"
    return "select"


def _current(element: JSON, block: JSON, ctx: RenderContext) -> JSON | None:
    return ctx.state.get(str(block.get("block_id")), {}).get(str(element.get("action_id")))


def _confirm(element: JSON) -> str:
    confirm = element.get("confirm")
    if not isinstance(confirm, dict):
        return ""
    data = {
        "title": text_object_plain(confirm.get("title")) or "Are you sure?",
        "text": text_object_plain(confirm.get("text")),
        "confirm": text_object_plain(confirm.get("confirm")) or "Yes",
        "deny": text_object_plain(confirm.get("deny")) or "Cancel",
        "style": confirm.get("style") or "",
    }
    return f' data-confirm="{attr(json.dumps(data))}"'


def button_html(block: JSON, element: JSON, ctx: RenderContext) -> str:
    style = element.get("style")
    classes = "bk-button" + (f" {style}" if style in ("primary", "danger") else "")
    value = element.get("value")
    extra = f' data-value="{attr(value)}"' if value is not None else ""
    if element.get("url"):
        extra += f' data-url="{attr(element["url"])}"'
    label = text_object_html(element.get("text"), ctx)
    data = _data(block, element, "click", str(value or ""))
    return f'<button type="button" class="{classes}" {data}{extra}{_confirm(element)}>{label}</button>'


def _option_label(option: JSON) -> str:
    return text_object_plain(option.get("text"))


def _options_html(element: JSON, chosen: set[str]) -> str:
    def one(option: JSON) -> str:
        value = str(option.get("value", ""))
        selected = " selected" if value in chosen else ""
        return f'<option value="{attr(value)}"{selected}>{html.escape(_option_label(option))}</option>'

    parts = [one(o) for o in element.get("options") or []]
    for group in element.get("option_groups") or []:
        inner = "".join(one(o) for o in group.get("options") or [])
        parts.append(f'<optgroup label="{attr(text_object_plain(group.get("label")))}">{inner}</optgroup>')
    return "".join(parts)


def _chosen(element: JSON, current: JSON | None) -> set[str]:
    if current is not None:
        one = current.get("selected_option")
        many = current.get("selected_options")
        if one:
            return {str(one.get("value"))}
        if many is not None:
            return {str(o.get("value")) for o in many}
        for key in ("selected_user", "selected_conversation", "selected_channel"):
            if current.get(key):
                return {str(current[key])}
        for key in ("selected_users", "selected_conversations", "selected_channels"):
            if current.get(key) is not None:
                return {str(v) for v in current[key]}
        return set()
    initial = element.get("initial_option")
    if isinstance(initial, dict):
        return {str(initial.get("value"))}
    initials = element.get("initial_options")
    if isinstance(initials, list):
        return {str(o.get("value")) for o in initials}
    for key in ("initial_user", "initial_conversation", "initial_channel"):
        if element.get(key):
            return {str(element[key])}
    for key in ("initial_users", "initial_conversations", "initial_channels"):
        if isinstance(element.get(key), list):
            return {str(v) for v in element[key]}
    return set()


def select_html(block: JSON, element: JSON, ctx: RenderContext, label_id: str | None = None) -> str:
    kind = str(element.get("type"))
    multi = kind.startswith("multi_")
    chosen = _chosen(element, _current(element, block, ctx))
    if kind.endswith("users_select"):
        choices = "".join(
            f'<option value="{attr(uid)}"{" selected" if uid in chosen else ""}>{html.escape(label)}</option>'
            for uid, label in ctx.users
        )
    elif kind.endswith(("conversations_select", "channels_select")):
        choices = "".join(
            f'<option value="{attr(cid)}"{" selected" if cid in chosen else ""}>#{html.escape(name)}</option>'
            for cid, name in ctx.channels
        )
    else:
        choices = _options_html(element, chosen)
    placeholder = text_object_plain(element.get("placeholder")) or "Select an item"
    id_attr = f' id="{attr(label_id)}"' if label_id else ""
    aria = "" if label_id else f' aria-label="{attr(placeholder)}"'
    if multi:
        return (
            f'<select class="bk-select" multiple{id_attr}{aria} {_data(block, element, _act(block))}>'
            f"{choices}</select>"
        )
    blank = " selected" if not chosen else ""
    return (
        f'<select class="bk-select"{id_attr}{aria} {_data(block, element, _act(block))}>'
        f'<option value=""{blank} disabled>{html.escape(placeholder)}</option>{choices}</select>'
    )


def external_select_html(block: JSON, element: JSON, ctx: RenderContext, label_id: str | None = None) -> str:
    current = _current(element, block, ctx)
    option = (current or {}).get("selected_option") if current else element.get("initial_option")
    shown = _option_label(option) if isinstance(option, dict) else ""
    chosen = json.dumps(option) if isinstance(option, dict) else ""
    placeholder = text_object_plain(element.get("placeholder")) or "Type to search"
    least = int(element.get("min_query_length", 3))
    id_attr = f' id="{attr(label_id)}"' if label_id else ""
    aria = "" if label_id else f' aria-label="{attr(placeholder)}"'
    listbox = ctx.new_id()
    return (
        f'<div class="bk-external" {_data(block, element, _act(block))} data-min-query="{least}" '
        f'data-selected="{attr(chosen)}">'
        f'<input type="text" class="bk-external-query"{id_attr}{aria} role="combobox" autocomplete="off" '
        f'aria-autocomplete="list" aria-expanded="false" aria-controls="{listbox}" '
        f'placeholder="{attr(placeholder)}" value="{attr(shown)}">'
        f'<ul class="bk-external-options" id="{listbox}" role="listbox" hidden></ul></div>'
    )


def overflow_html(block: JSON, element: JSON, ctx: RenderContext) -> str:
    items = "".join(
        f'<button type="button" role="menuitem" data-option="{attr(o.get("value", ""))}">'
        f"{html.escape(_option_label(o))}</button>"
        for o in element.get("options") or []
    )
    return (
        f'<details class="bk-overflow" {_data(block, element, "select")}{_confirm(element)}>'
        f'<summary aria-label="More actions" title="More actions">⋯</summary>'
        f'<div class="bk-menu" role="menu">{items}</div></details>'
    )


def choices_html(block: JSON, element: JSON, ctx: RenderContext) -> str:
    kind = "checkbox" if element.get("type") == "checkboxes" else "radio"
    chosen = _chosen(element, _current(element, block, ctx))
    name = attr(ctx.new_id())
    rows = []
    for option in element.get("options") or []:
        value = str(option.get("value", ""))
        checked = " checked" if value in chosen else ""
        desc = option.get("description")
        desc_html = f'<span class="bk-desc">{text_object_html(desc, ctx)}</span>' if desc else ""
        rows.append(
            f'<label class="bk-choice"><input type="{kind}" name="{name}" value="{attr(value)}"{checked}>'
            f"<span>{text_object_html(option.get('text'), ctx)}{desc_html}</span></label>"
        )
    return f'<fieldset class="bk-choices" {_data(block, element, _act(block))}>{"".join(rows)}</fieldset>'


_PICKERS = {"datepicker": "date", "timepicker": "time", "datetimepicker": "datetime-local"}


def picker_html(block: JSON, element: JSON, ctx: RenderContext, label_id: str | None = None) -> str:
    kind = str(element.get("type"))
    current = _current(element, block, ctx) or {}
    key = {"datepicker": "date", "timepicker": "time", "datetimepicker": "date_time"}[kind]
    value = current.get(f"selected_{key}", element.get(f"initial_{key}"))
    if kind == "datetimepicker" and isinstance(value, int | float):
        from datetime import datetime

        value = datetime.fromtimestamp(value, ctx.zone).strftime("%Y-%m-%dT%H:%M")
    id_attr = f' id="{attr(label_id)}"' if label_id else ""
    aria = "" if label_id else f' aria-label="{attr(text_object_plain(element.get("placeholder")) or kind)}"'
    val = f' value="{attr(value)}"' if value else ""
    return (
        f'<input class="bk-picker" type="{_PICKERS[kind]}"{id_attr}{aria}{val} '
        f"{_data(block, element, _act(block))}>"
    )


def text_input_html(block: JSON, element: JSON, ctx: RenderContext, label_id: str | None = None) -> str:
    kind = str(element.get("type"))
    current = _current(element, block, ctx)
    value = current.get("value") if current else element.get("initial_value")
    if kind == "rich_text_input":
        value = _rich_plain(value)
    placeholder = text_object_plain(element.get("placeholder"))
    attrs = f'class="bk-field-input" {_data(block, element, _act(block))}'
    if label_id:
        attrs += f' id="{attr(label_id)}"'
    if placeholder:
        attrs += f' placeholder="{attr(placeholder)}"'
    if element.get("max_length"):
        attrs += f' maxlength="{attr(element["max_length"])}"'
    if element.get("focus_on_load"):
        attrs += " autofocus"
    if element.get("multiline") or kind == "rich_text_input":
        return f'<textarea rows="4" {attrs}>{html.escape(str(value or ""))}</textarea>'
    input_type = {"email_text_input": "email", "url_text_input": "url"}.get(kind, "text")
    if kind == "number_input":
        attrs += ' inputmode="decimal"'
    val = f' value="{attr(value)}"' if value not in (None, "") else ""
    return f'<input type="{input_type}" {attrs}{val}>'


def _rich_plain(value: Any) -> str:
    """The text typed into a rich_text_input (its rich_text value flattened)."""
    if not isinstance(value, dict):
        return str(value or "")
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                out.append(str(node.get("text", "")))
            for child in node.get("elements") or []:
                walk(child)

    walk(value)
    return "".join(out)


def image_element_html(element: JSON, ctx: RenderContext, css: str = "bk-thumb") -> str:
    url = element.get("image_url") or (element.get("slack_file") or {}).get("url") or ""
    alt = str(element.get("alt_text") or "")
    local = ctx.local_url(str(url)) if url else None
    if local is None:
        return f'<span class="{css} bk-image-missing" role="img" aria-label="{attr(alt)}">{html.escape(alt or "image")}</span>'
    return f'<img class="{css}" src="{attr(local)}" alt="{attr(alt)}" loading="lazy">'


def element_html(block: JSON, element: Any, ctx: RenderContext, label_id: str | None = None) -> str:
    """Any block element; an unknown one is named rather than dropped."""
    if not isinstance(element, dict):
        return ""
    kind = str(element.get("type"))
    if kind in ("button", "workflow_button"):
        return button_html(block, element, ctx)
    if kind in ("external_select", "multi_external_select"):
        return external_select_html(block, element, ctx, label_id)
    if kind.endswith("_select"):
        return select_html(block, element, ctx, label_id)
    if kind == "overflow":
        return overflow_html(block, element, ctx)
    if kind in ("checkboxes", "radio_buttons"):
        return choices_html(block, element, ctx)
    if kind in _PICKERS:
        return picker_html(block, element, ctx, label_id)
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input", "rich_text_input"):
        return text_input_html(block, element, ctx, label_id)
    if kind == "image":
        return image_element_html(element, ctx)
    if kind == "file_input":
        return '<p class="bk-note">File uploads are not available in the local console.</p>'
    return f'<span class="bk-unknown">[{plain_html(kind)} element]</span>'
