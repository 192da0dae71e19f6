"""Block Kit as plain data: builders that respect Slack's limits, escaping, dates and mentions.

Limits are Slack's published ones (https://api.slack.com/reference/block-kit/blocks and
/reference/block-kit/block-elements); `slack_sdk.models` checks most on `to_dict()`, but not the number
of blocks in a message, which is why `split_blocks` exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

Block = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_MODAL_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_FALLBACK_TEXT = 3000  # Slack accepts 40k; a notification longer than this is useless

# A signal's status (metrics answer, digest, App Home).
SIGNAL_ICONS = {
    "ok": ":white_check_mark:",
    "breached": ":red_circle:",
    "n/a": ":grey_question:",
    "unavailable": ":warning:",
    "no threshold": ":white_circle:",
}

_ENTITY = re.compile(r"&(?:amp|lt|gt);$|&(?:amp|lt|gt|am|a|l|g)?$")


def escape(text: str) -> str:
    """Escape user text for mrkdwn so it cannot mention @channel, link, or inject formatting tokens."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut to `limit` characters without splitting an `&amp;`-style entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ellipsis)]
    # Drop a partial entity at the end ("&am", "&l") so Slack doesn't show a stray ampersand.
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:] and len(cut) - amp < 5:
        cut = cut[:amp]
    return cut + ellipsis


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def channel_link(channel_id: str) -> str:
    return f"<#{channel_id}>"


def link(url: str, label: str) -> str:
    return f"<{url}|{escape(label).replace('|', '¦')}>"


def date(when: datetime, fmt: str = "{date_short_pretty} at {time}", link_url: str | None = None) -> str:
    """A `<!date^…>` token: each reader sees the time in their own zone; UTC text as the fallback."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    fallback = aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    extra = f"^{link_url}" if link_url else ""
    return f"<!date^{int(aware.timestamp())}^{fmt}{extra}|{fallback}>"


def plain(text: str, emoji: bool = True) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": emoji}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(truncate(text, MAX_HEADER_TEXT))}


def section(text: str, *, block_id: str | None = None, accessory: dict[str, Any] | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(truncate(text, MAX_SECTION_TEXT))}
    if block_id:
        block["block_id"] = block_id[:MAX_BLOCK_ID]
    if accessory:
        block["accessory"] = accessory
    return block


def fields(items: Sequence[str], *, block_id: str | None = None) -> Block:
    """A section of up to 10 short fields (two columns on desktop)."""
    block: Block = {"type": "section", "fields": [mrkdwn(truncate(i, MAX_FIELD_TEXT)) for i in items[:10]]}
    if block_id:
        block["block_id"] = block_id[:MAX_BLOCK_ID]
    return block


def context(*texts: str) -> Block:
    return {
        "type": "context",
        "elements": [mrkdwn(truncate(t, MAX_SECTION_TEXT)) for t in texts[:MAX_CONTEXT_ELEMENTS]],
    }


def divider() -> Block:
    return {"type": "divider"}


def image(url: str, alt: str, title: str | None = None) -> Block:
    block: Block = {"type": "image", "image_url": url, "alt_text": truncate(alt, 2000)}
    if title:
        block["title"] = plain(truncate(title, 2000))
    return block


def button(
    text: str,
    action_id: str,
    value: str | None = None,
    *,
    style: str | None = None,
    url: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if len(action_id) > MAX_ACTION_ID:
        raise ValueError(f"action_id longer than {MAX_ACTION_ID}: {action_id[:40]}…")
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(truncate(text, MAX_BUTTON_TEXT)),
        "action_id": action_id,
    }
    if value is not None:
        if len(value) > MAX_BUTTON_VALUE:
            raise ValueError(f"button value longer than {MAX_BUTTON_VALUE} characters")
        element["value"] = value
    if style in ("primary", "danger"):
        element["style"] = style
    if url:
        element["url"] = url
    if confirm:
        element["confirm"] = confirm
    return element


def confirm_dialog(title: str, text: str, confirm: str = "Yes", deny: str = "Cancel") -> dict[str, Any]:
    return {
        "title": plain(truncate(title, 100)),
        "text": mrkdwn(truncate(text, 300)),
        "confirm": plain(truncate(confirm, 30)),
        "deny": plain(truncate(deny, 30)),
    }


def option(text: str, value: str, description: str | None = None) -> dict[str, Any]:
    if len(value) > MAX_OPTION_VALUE:
        raise ValueError(f"option value longer than {MAX_OPTION_VALUE} characters")
    opt: dict[str, Any] = {"text": plain(truncate(text, MAX_OPTION_TEXT)), "value": value}
    if description:
        opt["description"] = plain(truncate(description, MAX_OPTION_TEXT))
    return opt


def actions(*elements: dict[str, Any], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements[:MAX_ACTIONS_ELEMENTS])}
    if block_id:
        block["block_id"] = block_id[:MAX_BLOCK_ID]
    return block


def input_block(
    label: str,
    element: dict[str, Any],
    *,
    block_id: str,
    optional: bool = False,
    hint: str | None = None,
    dispatch_action: bool = False,
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id[:MAX_BLOCK_ID],
        "label": plain(truncate(label, 2000)),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(truncate(hint, 2000))
    if dispatch_action:
        block["dispatch_action"] = True
    return block


def modal(
    title: str,
    blocks: list[Block],
    *,
    callback_id: str,
    submit: str | None = "Submit",
    close: str = "Cancel",
    private_metadata: str = "",
    external_id: str | None = None,
) -> dict[str, Any]:
    if len(blocks) > MAX_VIEW_BLOCKS:
        raise ValueError(f"a modal holds at most {MAX_VIEW_BLOCKS} blocks, got {len(blocks)}")
    if len(private_metadata) > MAX_PRIVATE_METADATA:
        raise ValueError("private_metadata longer than 3,000 characters")
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(truncate(title, MAX_MODAL_TITLE)),
        "close": plain(truncate(close, MAX_MODAL_TITLE)),
        "blocks": blocks,
        "private_metadata": private_metadata,
    }
    if submit:
        view["submit"] = plain(truncate(submit, MAX_MODAL_TITLE))
    if external_id:
        view["external_id"] = external_id
    return view


def fallback_text(text: str) -> str:
    """The `text` of a message: what notifications and screen readers read. Never empty."""
    text = text.strip() or "scalebot"
    return truncate(text, MAX_FALLBACK_TEXT)


def split_blocks(blocks: Sequence[Block], limit: int = MAX_MESSAGE_BLOCKS) -> list[list[Block]]:
    """Split a long list into messages of at most `limit` blocks, never leaving a header last."""
    chunks: list[list[Block]] = []
    current: list[Block] = []
    for block in blocks:
        if len(current) == limit:
            carry: list[Block] = []
            while current and current[-1].get("type") in ("header", "divider") and len(current) > 1:
                carry.insert(0, current.pop())
            chunks.append(current)
            current = carry
        current.append(block)
    if current:
        chunks.append(current)
    return chunks


def bullet_list(items: Iterable[str]) -> str:
    return "\n".join(f"• {item}" for item in items)


def message(text: str, blocks: list[Block] | None = None, **extra: Any) -> dict[str, Any]:
    """Arguments for chat.postMessage / chat.update / respond with the fallback text guaranteed."""
    if blocks is not None and len(blocks) > MAX_MESSAGE_BLOCKS:
        raise ValueError(f"a message holds at most {MAX_MESSAGE_BLOCKS} blocks; use split_blocks")
    payload: dict[str, Any] = {"text": fallback_text(text), **extra}
    if blocks is not None:
        payload["blocks"] = blocks
    return payload
