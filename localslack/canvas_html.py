"""A channel's canvases in the console: the tab bar above a channel, and a canvas's Markdown as HTML.

Slack shows a channel's canvas (and any canvases tabbed into it) as tabs beside *Messages*; the console
does the same. The Markdown subset rendered is what canvases hold: headings, paragraphs, bold and italic,
code spans, bullet lists, tables, and the canvas mentions `![](@U…)` and `![](#C…)`.
"""

from __future__ import annotations

import html
import re

from localslack.state import Canvas, Channel, User

_MENTION = re.compile(r"!\[\]\(([@#])([A-Z0-9]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])_(.+?)_(?!\w)")
_CODE = re.compile(r"`([^`]+)`")


def tabs_html(channel: Channel, canvases: list[Canvas], surface: str) -> str:
    """The tab bar: *Messages*, then each canvas of the channel (none when it has no canvas)."""
    if not canvases:
        return ""
    on_messages = " aria-current=page" if surface == "channel" else ""
    out = [f'<a href="#messages" data-surface="channel" role="tab"{on_messages}>Messages</a>']
    for canvas in canvases:
        current = " aria-current=page" if surface == "canvas" else ""
        out.append(
            f'<a href="#canvas" data-surface="canvas" role="tab"{current}>🗒 {html.escape(canvas.title)}</a>'
        )
        break  # one canvas tab is shown open at a time: the channel's own, else the first tabbed one
    return f'<nav class="channel-tabs" role="tablist" aria-label="#{html.escape(channel.name)}">{"".join(out)}</nav>'


def _inline(text: str, users: dict[str, User], channels: dict[str, str]) -> str:
    def mention(found: re.Match[str]) -> str:
        kind, ref = found.group(1), found.group(2)
        if kind == "@":
            user = users.get(ref)
            name = (user.display_name or user.real_name or user.name) if user else ref
            return f'<span class="mention">@{html.escape(name)}</span>'
        return f'<span class="mention">#{html.escape(channels.get(ref, ref))}</span>'

    out = html.escape(text.replace("\\|", "|"), quote=False)
    out = _MENTION.sub(mention, out)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    out = _ITALIC.sub(r"<em>\1</em>", out)
    return _CODE.sub(r"<code>\1</code>", out)


def _cells(line: str) -> list[str]:
    inner = line.strip().strip("|")
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner)]


def canvas_html(canvas: Canvas, users: dict[str, User], channels: dict[str, str]) -> str:
    """A canvas's body as HTML (escaped; only the subset above)."""
    lines = canvas.markdown.splitlines()
    out: list[str] = [f'<article class="canvas" aria-label="{html.escape(canvas.title)}">']
    i = 0
    while i < len(lines):
        line = lines[i]
        if (
            line.startswith("|")
            and i + 1 < len(lines)
            and set(lines[i + 1].replace("|", "").strip()) <= {"-", ":", " "}
        ):
            head = "".join(f"<th>{_inline(c, users, channels)}</th>" for c in _cells(line))
            rows, i = [], i + 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(
                    "<tr>"
                    + "".join(f"<td>{_inline(c, users, channels)}</td>" for c in _cells(lines[i]))
                    + "</tr>"
                )
                i += 1
            out.append(
                f'<div class="canvas-table"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
            )
            continue
        heading = re.match(r"(#{1,3}) (.*)", line)
        if heading:
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2), users, channels)}</h{level}>")
        elif line.startswith(("- ", "* ", "• ")):
            items = []
            while i < len(lines) and lines[i].startswith(("- ", "* ", "• ")):
                items.append(f"<li>{_inline(lines[i][2:], users, channels)}</li>")
                i += 1
            out.append(f"<ul>{''.join(items)}</ul>")
            continue
        elif line.strip():
            out.append(f"<p>{_inline(line, users, channels)}</p>")
        i += 1
    out.append("</article>")
    return "".join(out)
