"""Block Kit blocks as HTML, the way Slack's client lays them out (https://docs.slack.dev/reference/block-kit/blocks).

Pure functions of the blocks and a `RenderContext`; every string that reaches the page is escaped
here or in `localslack.mrkdwn`.
"""

from __future__ import annotations

import html
from typing import Any

from localslack.mrkdwn import (
    EMOJI,
    channel_html,
    date_token_html,
    link_html,
    mention_html,
    plain_html,
    text_object_html,
)
from localslack.render_elements import (
    JSON,
    RenderContext,
    attr,
    element_html,
    image_element_html,
)


def blocks_html(blocks: list[Any] | None, ctx: RenderContext) -> str:
    return "".join(block_html(b, ctx) for b in blocks or [] if isinstance(b, dict))


def block_html(block: JSON, ctx: RenderContext) -> str:
    kind = str(block.get("type"))
    renderer = _BLOCKS.get(kind)
    if renderer is None:
        return f'<div class="bk-unknown">[{plain_html(kind)} block]</div>'
    return renderer(block, ctx)


def _section(block: JSON, ctx: RenderContext) -> str:
    parts = []
    if block.get("text"):
        parts.append(f'<div class="bk-text">{text_object_html(block["text"], ctx)}</div>')
    if block.get("fields"):
        fields = "".join(f'<div class="bk-field">{text_object_html(f, ctx)}</div>' for f in block["fields"])
        parts.append(f'<div class="bk-fields">{fields}</div>')
    body = f'<div class="bk-section-body">{"".join(parts)}</div>'
    accessory = block.get("accessory")
    if isinstance(accessory, dict):
        if accessory.get("type") == "image":
            acc = image_element_html(accessory, ctx, "bk-accessory-image")
        else:
            acc = element_html(block, accessory, ctx)
        body += f'<div class="bk-accessory">{acc}</div>'
    return f'<div class="bk-section" data-block-id="{attr(block.get("block_id", ""))}">{body}</div>'


def _header(block: JSON, ctx: RenderContext) -> str:
    return f'<h3 class="bk-header">{text_object_html(block.get("text"), ctx)}</h3>'


def _context(block: JSON, ctx: RenderContext) -> str:
    items = []
    for element in block.get("elements") or []:
        if not isinstance(element, dict):
            continue
        if element.get("type") == "image":
            items.append(image_element_html(element, ctx, "bk-context-image"))
        else:
            items.append(f"<span>{text_object_html(element, ctx)}</span>")
    return f'<div class="bk-context">{"".join(items)}</div>'


def _divider(block: JSON, ctx: RenderContext) -> str:
    return '<hr class="bk-divider">'


def _actions(block: JSON, ctx: RenderContext) -> str:
    elements = "".join(element_html(block, e, ctx) for e in block.get("elements") or [])
    return f'<div class="bk-actions" data-block-id="{attr(block.get("block_id", ""))}">{elements}</div>'


def _image(block: JSON, ctx: RenderContext) -> str:
    title = block.get("title")
    caption = f"<figcaption>{text_object_html(title, ctx)}</figcaption>" if title else ""
    return f'<figure class="bk-image">{caption}{image_element_html(block, ctx, "bk-image-img")}</figure>'


def _input(block: JSON, ctx: RenderContext) -> str:
    block_id = str(block.get("block_id", ""))
    element = block.get("element") if isinstance(block.get("element"), dict) else {}
    label_id = ctx.new_id()
    optional = ' <span class="bk-optional">(optional)</span>' if block.get("optional") else ""
    label = f'<label class="bk-label" for="{label_id}">{text_object_html(block.get("label"), ctx)}{optional}</label>'
    control = element_html(block, element, ctx, label_id)
    hint = block.get("hint")
    hint_html = f'<div class="bk-hint">{text_object_html(hint, ctx)}</div>' if hint else ""
    error = ctx.errors.get(block_id)
    error_html = f'<div class="bk-error" role="alert">{html.escape(error)}</div>' if error else ""
    css = "bk-input has-error" if error else "bk-input"
    return (
        f'<div class="{css}" data-block-id="{attr(block_id)}" '
        f'data-optional="{"1" if block.get("optional") else "0"}">{label}{control}{hint_html}{error_html}</div>'
    )


def _file(block: JSON, ctx: RenderContext) -> str:
    name = block.get("external_id") or block.get("file_id") or "file"
    return f'<div class="bk-file">📎 {plain_html(name)}</div>'


def _video(block: JSON, ctx: RenderContext) -> str:
    title = text_object_html(block.get("title"), ctx) or "Video"
    url = str(block.get("title_url") or block.get("video_url") or "")
    return f'<div class="bk-video">▶ {link_html(url, title) if url else title}</div>'


def _markdown(block: JSON, ctx: RenderContext) -> str:
    # The `markdown` block takes standard Markdown; shown as its text with line breaks kept.
    return f'<div class="bk-markdown">{plain_html(block.get("text"), emoji=False)}</div>'


# -- rich text ---------------------------------------------------------------------------------------


def _rich_text(block: JSON, ctx: RenderContext) -> str:
    inner = "".join(_rich_node(e, ctx) for e in block.get("elements") or [] if isinstance(e, dict))
    return f'<div class="bk-rich">{inner}</div>'


def _rich_node(node: JSON, ctx: RenderContext) -> str:
    kind = node.get("type")
    children = [c for c in node.get("elements") or [] if isinstance(c, dict)]
    if kind == "rich_text_section":
        return f"<p>{''.join(_rich_inline(c, ctx) for c in children)}</p>"
    if kind == "rich_text_preformatted":
        return f"<pre>{''.join(_rich_inline(c, ctx) for c in children)}</pre>"
    if kind == "rich_text_quote":
        return f"<blockquote>{''.join(_rich_inline(c, ctx) for c in children)}</blockquote>"
    if kind == "rich_text_list":
        tag = "ol" if node.get("style") == "ordered" else "ul"
        indent = int(node.get("indent", 0) or 0)
        items = "".join(f"<li>{_rich_list_item(c, ctx)}</li>" for c in children)
        return f'<{tag} class="indent-{min(indent, 8)}">{items}</{tag}>'
    return _rich_inline(node, ctx)


def _rich_list_item(node: JSON, ctx: RenderContext) -> str:
    children = [c for c in node.get("elements") or [] if isinstance(c, dict)]
    return "".join(_rich_inline(c, ctx) for c in children)


def _styled(inner: str, style: Any) -> str:
    if not isinstance(style, dict):
        return inner
    for flag, tag in (("code", "code"), ("strike", "del"), ("italic", "em"), ("bold", "strong")):
        if style.get(flag):
            inner = f"<{tag}>{inner}</{tag}>"
    return inner


def _rich_inline(node: JSON, ctx: RenderContext) -> str:
    kind = node.get("type")
    style = node.get("style")
    if kind == "text":
        return _styled(plain_html(node.get("text"), emoji=False), style)
    if kind == "link":
        label = plain_html(node.get("text") or node.get("url"), emoji=False)
        return _styled(link_html(str(node.get("url") or ""), label), style)
    if kind == "user":
        return _styled(mention_html(str(node.get("user_id")), ctx), style)
    if kind == "channel":
        return _styled(channel_html(str(node.get("channel_id")), ctx), style)
    if kind == "usergroup":
        return f'<span class="mention">@{plain_html(node.get("usergroup_id"))}</span>'
    if kind == "broadcast":
        return f'<span class="mention broadcast">@{plain_html(node.get("range"))}</span>'
    if kind == "emoji":
        name = str(node.get("name", ""))
        code = node.get("unicode")
        if isinstance(code, str) and code:
            try:
                return "".join(chr(int(part, 16)) for part in code.split("-"))
            except ValueError:
                pass
        return html.escape(EMOJI.get(name, f":{name}:"))
    if kind == "date":
        inner = f"!date^{node.get('timestamp')}^{node.get('format', '{date_short}')}"
        if node.get("url"):
            inner += f"^{node['url']}"
        return date_token_html(f"{inner}|{node.get('fallback', '')}", ctx)
    if kind == "color":
        return f'<span class="bk-color">{plain_html(node.get("value"))}</span>'
    if kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote", "rich_text_list"):
        return _rich_node(node, ctx)
    return ""


_BLOCKS = {
    "section": _section,
    "header": _header,
    "context": _context,
    "divider": _divider,
    "actions": _actions,
    "image": _image,
    "input": _input,
    "file": _file,
    "video": _video,
    "markdown": _markdown,
    "rich_text": _rich_text,
}
