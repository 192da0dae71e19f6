"""Slack text as a person sees it: mrkdwn and plain_text turned into safe HTML.

Everything that is not a formatting rule Slack documents is escaped. Control sequences (`<@U…>`,
`<#C…>`, `<!here>`, `<!date^…>`, links) are resolved against the workspace and shown in the reader's
time zone (https://docs.slack.dev/messaging/formatting-message-text). Only http(s) and mailto links
become anchors; anything else is shown as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

# The shortcodes apps commonly use, and every one the bot writes (tests/test_local_emoji.py checks);
# an unknown one is shown as typed, as Slack does for emoji it does not know.
EMOJI = {
    # Away statuses the bot recognises (bot/presence/config.py) and shows in pre-mortem threads.
    "palm_tree": "🌴",
    "airplane": "✈️",
    "baby": "👶",
    "beach_with_umbrella": "🏖️",
    "desert_island": "🏝️",
    "face_with_thermometer": "🤒",
    "thermometer": "🌡️",
    "mask": "😷",
    "fast_forward": "⏩",
    "dart": "🎯",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "warning": "⚠️",
    "rotating_light": "🚨",
    "rocket": "🚀",
    "chart_with_upwards_trend": "📈",
    "chart_with_downwards_trend": "📉",
    "bar_chart": "📊",
    "memo": "📝",
    "clipboard": "📋",
    "question": "❓",
    "grey_question": "❔",
    "exclamation": "❗",
    "bulb": "💡",
    "fire": "🔥",
    "tada": "🎉",
    "eyes": "👀",
    "wave": "👋",
    "thumbsup": "👍",
    "+1": "👍",
    "thumbsdown": "👎",
    "-1": "👎",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "calendar": "📆",
    "date": "📅",
    "alarm_clock": "⏰",
    "lock": "🔒",
    "mag": "🔍",
    "gear": "⚙️",
    "wrench": "🔧",
    "hammer_and_wrench": "🛠️",
    "construction": "🚧",
    "large_green_circle": "🟢",
    "large_yellow_circle": "🟡",
    "large_orange_circle": "🟠",
    "red_circle": "🔴",
    "white_circle": "⚪",
    "large_blue_circle": "🔵",
    "black_circle": "⚫",
    "arrow_right": "➡️",
    "arrow_up": "⬆️",
    "arrow_down": "⬇️",
    "point_right": "👉",
    "star": "⭐",
    "sparkles": "✨",
    "information_source": "ℹ️",
    "no_entry": "⛔",
    "stop_sign": "🛑",
    "link": "🔗",
    "busts_in_silhouette": "👥",
    "bust_in_silhouette": "👤",
    "speech_balloon": "💬",
    "thinking_face": "🤔",
    "shrug": "🤷",
    "chart": "💹",
    "money_with_wings": "💸",
    "zap": "⚡",
    "100": "💯",
    "crystal_ball": "🔮",
    "scales": "⚖️",
    "arrow_up_small": "🔼",
    "arrow_down_small": "🔽",
    "inbox_tray": "📥",
    "outbox_tray": "📤",
    "no_entry_sign": "🚫",
    "pencil2": "✏️",
    "pencil": "📝",
}

_SCHEMES = ("http://", "https://", "mailto:")
_CONTROL = re.compile(r"<([^<>\n]+)>")
_CODE_BLOCK = re.compile(r"```\n?(.*?)```", re.S)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])")
# A closing marker is one not followed by a word character, so `_(003_a1b2.txt)_` is one italic run.
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^\n]*?[^\s_])_(?!\w)")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^\n]*?[^\s~])~(?!\w)")
_EMOJI = re.compile(r":([a-z0-9_+\-]+):")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_DATE_TOKEN = re.compile(
    r"\{(date_num|date_short_pretty|date_long_pretty|date_pretty|date_short|date_long|date|time_secs|time|ago)\}"
)


@dataclass
class TextContext:
    """Who and what names resolve to, and the reader's zone, for one rendering."""

    user_names: dict[str, str] = field(default_factory=dict)
    channel_names: dict[str, str] = field(default_factory=dict)
    tz: str = "UTC"
    now: float = 0.0
    # Turns an image or file URL into one the browser may load (None: show it as a link only).
    local_url: Callable[[str], str | None] = lambda url: None

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.tz)
        except (KeyError, ValueError):
            return ZoneInfo("UTC")


def unescape_slack(text: str) -> str:
    """Slack's three entities back to characters (the only escaping mrkdwn knows)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def emojize(escaped: str) -> str:
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), escaped)


def plain_html(text: object, emoji: bool = True) -> str:
    """A plain_text object's text: literal, escaped, line breaks kept."""
    out = html.escape(str(text or ""))
    if emoji:
        out = emojize(out)
    return out.replace("\n", "<br>")


def text_object_html(obj: object, ctx: TextContext) -> str:
    """A composition text object (plain_text or mrkdwn) as HTML."""
    if not isinstance(obj, dict):
        return ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn_html(str(obj.get("text") or ""), ctx)
    return plain_html(obj.get("text"), bool(obj.get("emoji", True)))


def text_object_plain(obj: object) -> str:
    """A text object as unformatted text (for attributes such as confirm dialogs and placeholders)."""
    if not isinstance(obj, dict):
        return ""
    text = str(obj.get("text") or "")
    if obj.get("type") == "mrkdwn":
        text = unescape_slack(_CONTROL.sub(lambda m: _control_plain(m.group(1)), text))
    return text


def _control_plain(inner: str) -> str:
    target, _, label = inner.partition("|")
    return label or target


def safe_href(url: str) -> str | None:
    """The URL if a browser may follow it from the console (http, https, mailto), else None."""
    url = url.strip()
    return url if url.lower().startswith(_SCHEMES) else None


def link_html(url: str, label_html: str) -> str:
    href = safe_href(url)
    if href is None:
        return label_html
    return f'<a href="{html.escape(href)}" target="_blank" rel="noopener noreferrer">{label_html}</a>'


def mention_html(user_id: str, ctx: TextContext, label: str | None = None) -> str:
    name = ctx.user_names.get(user_id) or label or user_id
    return f'<span class="mention" data-user="{html.escape(user_id)}">@{html.escape(name)}</span>'


def channel_html(channel_id: str, ctx: TextContext, label: str | None = None) -> str:
    name = ctx.channel_names.get(channel_id) or label or channel_id
    return f'<span class="mention channel">#{html.escape(name)}</span>'


def control_html(inner: str, ctx: TextContext) -> str:
    """One `<…>` control sequence."""
    if inner.startswith("@"):
        user_id, _, label = inner[1:].partition("|")
        return mention_html(user_id, ctx, label or None)
    if inner.startswith("#"):
        channel_id, _, label = inner[1:].partition("|")
        return channel_html(channel_id, ctx, label or None)
    if inner.startswith("!date^"):
        return date_token_html(inner, ctx)
    if inner.startswith("!subteam^"):
        group, _, label = inner[len("!subteam^") :].partition("|")
        return f'<span class="mention">{html.escape(label or "@" + group)}</span>'
    if inner.startswith("!"):
        word, _, label = inner[1:].partition("|")
        return f'<span class="mention broadcast">@{html.escape(label.lstrip("@") or word)}</span>'
    url, _, label = inner.partition("|")
    label_html = _inline(unescape_slack(label or url))
    return link_html(unescape_slack(url), label_html)


def _inline(text: str) -> str:
    """Escaped text with bold, italic and strike (a link label's formatting)."""
    out = html.escape(text)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    out = _ITALIC.sub(r"<em>\1</em>", out)
    return _STRIKE.sub(r"<del>\1</del>", out)


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _clock(when: datetime, seconds: bool = False) -> str:
    hour = when.hour % 12 or 12
    secs = f":{when.second:02d}" if seconds else ""
    return f"{hour}:{when.minute:02d}{secs} {'AM' if when.hour < 12 else 'PM'}"


def _ago(delta: float) -> str:
    seconds = int(abs(delta))
    future = delta < 0
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            words = f"{n} {unit}{'s' if n != 1 else ''}"
            return f"in {words}" if future else f"{words} ago"
    return "just now"


def format_date(epoch: int, fmt: str, ctx: TextContext) -> str:
    """Slack's `{date_*}`/`{time}` tokens for `epoch`, in the reader's zone."""
    zone = ctx.zone
    when = datetime.fromtimestamp(epoch, zone)
    today = datetime.fromtimestamp(ctx.now, zone).date() if ctx.now else when.date()

    values = {
        "date_num": when.strftime("%Y-%m-%d"),
        "date": f"{when.strftime('%B')} {_ordinal(when.day)}, {when.year}",
        "date_short": f"{when.strftime('%b')} {when.day}, {when.year}",
        "date_long": f"{when.strftime('%A, %B')} {_ordinal(when.day)}, {when.year}",
        "time": _clock(when),
        "time_secs": _clock(when, seconds=True),
        "ago": _ago(ctx.now - epoch) if ctx.now else _clock(when),
    }
    relative = {0: "today", -1: "yesterday", 1: "tomorrow"}.get((when.date() - today).days)
    for base in ("date", "date_short", "date_long"):
        values[f"{base}_pretty"] = relative or values[base]
    return _DATE_TOKEN.sub(lambda m: values[m.group(1)], fmt)


def date_token_html(inner: str, ctx: TextContext) -> str:
    """`!date^epoch^format[^link]|fallback` shown in the reader's zone, the fallback on error."""
    spec, _, fallback = inner.partition("|")
    parts = spec.split("^")
    try:
        epoch = int(parts[1])
        fmt = parts[2]
    except (IndexError, ValueError):
        return html.escape(unescape_slack(fallback or inner))
    shown = html.escape(format_date(epoch, unescape_slack(fmt), ctx))
    iso = datetime.fromtimestamp(epoch, ctx.zone).isoformat()
    out = f'<time datetime="{html.escape(iso)}" title="{html.escape(ctx.tz)}">{shown}</time>'
    if len(parts) > 3 and parts[3]:
        out = link_html(unescape_slack("^".join(parts[3:])), out)
    return out


def mrkdwn_html(text: str, ctx: TextContext) -> str:
    """mrkdwn as HTML: code, links and mentions first (as placeholders), then emphasis and quotes."""
    stash: list[str] = []

    def keep(fragment: str) -> str:
        stash.append(fragment)
        return f"\x00{len(stash) - 1}\x00"

    def plain_of(raw: str) -> str:
        shown = _CONTROL.sub(lambda m: _control_plain(m.group(1)), raw)
        return html.escape(unescape_slack(shown))

    text = text.replace("\x00", "")
    text = _CODE_BLOCK.sub(lambda m: keep(f"<pre>{plain_of(m.group(1))}</pre>"), text)
    text = _CODE_SPAN.sub(lambda m: keep(f"<code>{plain_of(m.group(1))}</code>"), text)
    text = _CONTROL.sub(lambda m: keep(control_html(m.group(1), ctx)), text)
    out = html.escape(unescape_slack(text))
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    out = _ITALIC.sub(r"<em>\1</em>", out)
    out = _STRIKE.sub(r"<del>\1</del>", out)
    out = emojize(out)
    out = _quotes(out)
    out = out.replace("\n", "<br>")
    while _PLACEHOLDER.search(out):
        out = _PLACEHOLDER.sub(lambda m: stash[int(m.group(1))], out)
    return out


def _quotes(escaped: str) -> str:
    """Lines starting with `>` become one blockquote per run of such lines."""
    lines = escaped.split("\n")
    out: list[str] = []
    quote: list[str] = []
    for line in lines:
        if line.startswith("&gt;"):
            quote.append(line[4:].lstrip(" "))
            continue
        if quote:
            out.append("<blockquote>" + "<br>".join(quote) + "</blockquote>")
            quote = []
        out.append(line)
    if quote:
        out.append("<blockquote>" + "<br>".join(quote) + "</blockquote>")
    # A blockquote is a block: no line break is needed around it.
    return (
        "\n".join(out).replace("</blockquote>\n", "</blockquote>").replace("\n<blockquote>", "<blockquote>")
    )


def message_time(ts: str, ctx: TextContext) -> tuple[str, str]:
    """(short time, ISO datetime) of a message `ts` in the reader's zone."""
    try:
        epoch = float(ts)
    except ValueError:
        return "", ""
    when = datetime.fromtimestamp(epoch, ctx.zone)
    today = datetime.fromtimestamp(ctx.now or epoch, ctx.zone).date()
    shown = _clock(when)
    if when.date() != today:
        shown = f"{when.strftime('%b')} {when.day}, {when.year} at {shown}"
    return shown, when.isoformat()
