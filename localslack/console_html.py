"""The console's panes as HTML: sidebar, channel, thread, modal and App Home, for one acting user.

Rendering works on a `Scene`, a copy of what the user can see taken under the store's lock, so the
lock is never held while HTML is built.
"""

from __future__ import annotations

import html
import zlib
from dataclasses import dataclass, field

from localslack.canvas_html import canvas_html, tabs_html
from localslack.mrkdwn import message_time, mrkdwn_html, text_object_html
from localslack.render_blocks import blocks_html
from localslack.render_elements import RenderContext, attr
from localslack.state import Canvas, Channel, Ephemeral, Message, StoredFile, User, View, Workspace

_IMAGE_TYPES = ("png", "jpg", "jpeg", "gif", "webp")


@dataclass
class Scene:
    """What one user sees right now: copies, safe to render without the lock."""

    workspace: Workspace
    user: User
    users: dict[str, User]
    channels: list[Channel]  # the channels the user is in, by name
    channel: Channel | None
    messages: list[Message]  # the channel's messages and replies, oldest first
    ephemerals: list[Ephemeral]  # the user's ephemeral messages in the channel
    thread_ts: str | None
    modal: View | None
    modal_depth: int
    home: View | None
    im: Channel | None  # the user's DM with the app
    surface: str  # "channel" | "home" | "messages"
    files: dict[str, StoredFile]
    now: float
    client_errors: dict[str, str] = field(default_factory=dict)
    origin: str = ""
    files_prefix: str = ""
    notes: tuple[str, ...] = ()  # what the app serving this workspace adds to the header (e.g. demo data)
    canvases: list[Canvas] = field(default_factory=list)  # the channel's canvas, then its canvas tabs

    def context(self, surface: str, prefix: str) -> RenderContext:
        ctx = RenderContext(
            user_names={u.id: u.display_name or u.real_name or u.name for u in self.users.values()},
            channel_names={c.id: c.name for c in self.channels},
            tz=self.user.tz,
            now=self.now,
            local_url=self.local_url,
            surface=surface,
            users=[
                (u.id, u.real_name or u.name)
                for u in sorted(self.users.values(), key=lambda u: u.real_name.lower())
                if not u.is_bot and not u.deleted
            ],
            channels=[(c.id, c.name) for c in self.channels if not c.is_im and not c.is_mpim],
            id_prefix=prefix,
        )
        return ctx

    def local_url(self, url: str) -> str | None:
        """An image URL the page may load: a stored file, a data: URL, or this server's own path."""
        if self.files_prefix and url.startswith(self.files_prefix):
            file_id = url[len(self.files_prefix) :].split("/", 1)[0].rsplit("-", 1)[-1]
            return f"/console/files/{file_id}"
        if url.startswith("data:image/"):
            return url
        if self.origin and url.startswith(self.origin + "/"):
            return url[len(self.origin) :]
        if url.startswith("/") and not url.startswith("//"):
            return url
        return None


def _color(key: str) -> int:
    return zlib.crc32(key.encode()) % 8


def _initials(name: str) -> str:
    return (name.strip()[:1] or "?").upper()


def _author(scene: Scene, user_id: str | None, bot: bool) -> tuple[str, bool]:
    user = scene.users.get(user_id or "")
    if user is None:
        return (user_id or "Slack"), bot
    return (user.real_name or user.name), bot or user.is_bot


def _replies(scene: Scene, ts: str) -> list[Message]:
    return [m for m in scene.messages if m.thread_ts == ts and m.ts != ts]


def _files_html(scene: Scene, message: Message) -> str:
    out = []
    for file_id in message.files:
        stored = scene.files.get(file_id)
        if stored is None:
            continue
        name = stored.title or stored.filename
        url = f"/console/files/{attr(stored.id)}"
        ext = stored.filename.rsplit(".", 1)[-1].lower()
        if ext in _IMAGE_TYPES and stored.uploaded:
            alt = attr(stored.alt_txt or name)
            out.append(f'<figure class="file-image"><img src="{url}" alt="{alt}" loading="lazy"></figure>')
        out.append(f'<a class="file" href="{url}" target="_blank" rel="noopener">📎 {html.escape(name)}</a>')
    return "".join(out)


def message_html(
    scene: Scene, message: Message, ctx: RenderContext, *, in_thread: bool = False, parent: bool = False
) -> str:
    name, is_app = _author(scene, message.user, message.bot_id is not None)
    when, iso = message_time(message.ts, ctx)
    badge = '<span class="badge">APP</span>' if is_app else ""
    edited = '<span class="edited">(edited)</span>' if message.edited else ""
    if message.subtype == "tombstone":
        body = '<div class="tombstone">This message was deleted.</div>'
    elif message.blocks:
        body = f'<div class="blocks">{blocks_html(message.blocks, ctx)}</div>'
    else:
        body = f'<div class="text">{mrkdwn_html(message.text, ctx)}</div>'
    body += _files_html(scene, message)
    footer = ""
    replies = _replies(scene, message.ts)
    if replies and not in_thread:
        last, _ = message_time(replies[-1].ts, ctx)
        count = f"{len(replies)} repl{'y' if len(replies) == 1 else 'ies'}"
        footer = (
            f'<button type="button" class="replies" data-thread="{attr(message.ts)}" '
            f'data-key="thread/{attr(message.ts)}">{count}</button>'
            f'<span class="replies-last">Last reply {html.escape(last)}</span>'
        )
    if message.reply_broadcast and not in_thread:
        footer += '<span class="broadcast-note">replied to a thread</span>'
    css = "msg" + (" parent" if parent else "")
    return (
        f'<article class="{css}" data-ts="{attr(message.ts)}" data-channel="{attr(message.channel)}">'
        f'<div class="avatar c{_color(name)}" aria-hidden="true">{html.escape(_initials(name))}</div>'
        f'<div class="msg-body"><header><span class="author">{html.escape(name)}</span>{badge}'
        f'<time datetime="{attr(iso)}">{html.escape(when)}</time>{edited}</header>'
        f'{body}<div class="msg-footer">{footer}</div></div></article>'
    )


def ephemeral_html(scene: Scene, ephemeral: Ephemeral, ctx: RenderContext) -> str:
    from_slack = ephemeral.source == "slackbot"
    name = "Slackbot" if from_slack else _author(scene, scene.workspace.bot_user_id, True)[0]
    when, iso = message_time(ephemeral.ts, ctx)
    if ephemeral.blocks:
        body = f'<div class="blocks">{blocks_html(ephemeral.blocks, ctx)}</div>'
    else:
        body = f'<div class="text">{mrkdwn_html(ephemeral.text, ctx)}</div>'
    badge = "" if from_slack else '<span class="badge">APP</span>'
    return (
        f'<article class="msg ephemeral" data-ts="{attr(ephemeral.ts)}" '
        f'data-channel="{attr(ephemeral.channel)}" data-ephemeral="1">'
        f'<div class="avatar c{_color(name)}" aria-hidden="true">{html.escape(_initials(name))}</div>'
        f'<div class="msg-body"><header><span class="author">{html.escape(name)}</span>{badge}'
        f'<time datetime="{attr(iso)}">{html.escape(when)}</time></header>{body}'
        f'<div class="only-you">Only visible to you · <button type="button" class="link" '
        f'data-dismiss="{attr(ephemeral.ts)}" data-key="dismiss/{attr(ephemeral.ts)}">Dismiss</button>'
        f"</div></div></article>"
    )


def _timeline(scene: Scene, items: list[Message | Ephemeral], ctx: RenderContext, in_thread: bool) -> str:
    parts = []
    for item in sorted(items, key=lambda i: float(i.ts)):
        if isinstance(item, Ephemeral):
            parts.append(ephemeral_html(scene, item, ctx))
        else:
            parts.append(message_html(scene, item, ctx, in_thread=in_thread))
    return "".join(parts)


def channel_pane(scene: Scene) -> str:
    """The channel header and its top-level messages with the user's ephemeral messages among them."""
    channel = scene.channel
    if channel is None:
        return '<div class="empty">Pick a channel on the left.</div>'
    tabs = tabs_html(channel, scene.canvases, scene.surface)
    if scene.surface == "canvas" and scene.canvases:
        names = {c.id: c.name for c in scene.channels}
        return tabs + canvas_html(scene.canvases[0], scene.users, names)
    return tabs + _messages(scene, channel)


def _messages(scene: Scene, channel: Channel) -> str:
    ctx = scene.context("message", "c")
    top: list[Message | Ephemeral] = [
        m for m in scene.messages if m.thread_ts is None or m.thread_ts == m.ts or m.reply_broadcast
    ]
    top += [e for e in scene.ephemerals if e.thread_ts is None]
    if not top:
        title = f"#{channel.name}" if not channel.is_im else "your messages with the app"
        return (
            f'<div class="empty"><h2>This is the very beginning of {html.escape(title)}</h2>'
            f"<p>Type <code>/scale-check</code> below to start a scale check, or "
            f"<code>/scale-check help</code> to see everything it can do.</p></div>"
        )
    return _timeline(scene, top, ctx, in_thread=False)


def thread_pane(scene: Scene) -> str:
    if scene.thread_ts is None or scene.channel is None:
        return ""
    parent = next((m for m in scene.messages if m.ts == scene.thread_ts), None)
    if parent is None:
        return '<div class="empty">This thread is gone.</div>'
    ctx = scene.context("message", "t")
    items: list[Message | Ephemeral] = list(_replies(scene, parent.ts))
    items += [e for e in scene.ephemerals if e.thread_ts == parent.ts]
    count = len(_replies(scene, parent.ts))
    return (
        f'<header class="pane-head"><h2>Thread <span class="muted">#{html.escape(scene.channel.name)}</span></h2>'
        f'<button type="button" class="icon" data-close-thread aria-label="Close thread">×</button></header>'
        f'<div class="thread-scroll">{message_html(scene, parent, ctx, in_thread=True, parent=True)}'
        f'<div class="reply-count">{count} repl{"y" if count == 1 else "ies"}</div>'
        f"{_timeline(scene, items, ctx, in_thread=True)}</div>"
    )


def modal_pane(scene: Scene) -> str:
    view = scene.modal
    if view is None:
        return ""
    spec = view.spec
    ctx = scene.context("modal", "v")
    ctx.state = view.state
    ctx.errors = {**(view.errors or {}), **scene.client_errors}
    title = text_object_html(spec.get("title"), ctx)
    close = text_object_html(spec.get("close"), ctx) or "Cancel"
    submit = spec.get("submit")
    submit_html = (
        f'<button type="submit" class="bk-button primary">{text_object_html(submit, ctx)}</button>'
        if submit
        else ""
    )
    back = (
        '<button type="button" class="icon" data-close="back" aria-label="Back">←</button>'
        if scene.modal_depth > 1
        else ""
    )
    return (
        f'<form class="modal" data-view-id="{attr(view.id)}" data-hash="{attr(view.hash)}" novalidate>'
        f'<header>{back}<h2 id="modal-title">{title}</h2>'
        f'<button type="button" class="icon" data-close aria-label="Close">×</button></header>'
        f'<div class="modal-body">{blocks_html(spec.get("blocks"), ctx)}</div>'
        f'<footer><button type="button" class="bk-button" data-close>{close}</button>{submit_html}</footer>'
        f"</form>"
    )


def home_pane(scene: Scene) -> str:
    bot = scene.users.get(scene.workspace.bot_user_id)
    name = html.escape(bot.real_name if bot else "the app")
    tabs = (
        f'<nav class="tabs" aria-label="{name}">'
        f'<button type="button" data-surface="home" aria-current="{"page" if scene.surface == "home" else "false"}">Home</button>'
        f'<button type="button" data-surface="messages" aria-current="{"page" if scene.surface == "messages" else "false"}">Messages</button>'
        "</nav>"
    )
    if scene.surface == "messages":
        return tabs + f'<div class="timeline">{channel_pane(scene)}</div>'
    if scene.home is None:
        body = f'<div class="empty"><p>{name} has not published a Home tab for you yet.</p></div>'
    else:
        ctx = scene.context("home", "h")
        ctx.state = scene.home.state
        body = f'<div class="home" data-view-id="{attr(scene.home.id)}">{blocks_html(scene.home.spec.get("blocks"), ctx)}</div>'
    return tabs + body


def sidebar_pane(scene: Scene) -> str:
    user_options = "".join(
        f'<option value="{attr(u.id)}"{" selected" if u.id == scene.user.id else ""}>'
        f"{html.escape(u.real_name or u.name)}{' (admin)' if u.is_admin else ''}</option>"
        for u in sorted(scene.users.values(), key=lambda u: u.real_name.lower())
        if not u.is_bot and not u.deleted
    )
    current = scene.channel.id if scene.channel and scene.surface in ("channel", "canvas") else None
    channels = "".join(
        f'<li><a href="?user={attr(scene.user.id)}&amp;channel={attr(c.id)}" data-channel-link="{attr(c.id)}"'
        f"{' aria-current=page' if c.id == current else ''}># {html.escape(c.name)}</a></li>"
        for c in scene.channels
        if not c.is_im and not c.is_mpim
    )
    bot = scene.users.get(scene.workspace.bot_user_id)
    app_name = html.escape(bot.real_name if bot else "app")
    on_app = " aria-current=page" if scene.surface in ("home", "messages") else ""
    return (
        f'<div class="workspace">{html.escape(scene.workspace.name)}</div>'
        f'<label class="acting" for="acting-as">Acting as</label>'
        f'<select id="acting-as" data-user-switch>{user_options}</select>'
        f'<div class="tz">Time zone: {html.escape(scene.user.tz)}</div>'
        f'<h2 class="side-head">Channels</h2><ul class="channels">{channels}</ul>'
        f'<h2 class="side-head">Apps</h2><ul class="channels"><li><a href="#home" data-surface="home"{on_app}>'
        f'<span class="app-dot" aria-hidden="true"></span>{app_name}</a></li></ul>'
    )


def main_title(scene: Scene) -> str:
    if scene.surface in ("home", "messages"):
        bot = scene.users.get(scene.workspace.bot_user_id)
        return bot.real_name if bot else "App"
    return f"#{scene.channel.name}" if scene.channel else "scalebot console"


def page_html(scene: Scene, panes: dict[str, str], static_version: str) -> str:
    """The whole page, already showing the current state (the script keeps it up to date)."""
    thread_hidden = "" if panes.get("thread") else " hidden"
    # The app's Messages tab is read-only (the manifest's messages_tab_read_only_enabled).
    composer_hidden = " hidden" if scene.surface != "channel" else ""
    placeholder = f"Message #{scene.channel.name}" if scene.channel else "Message"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{html.escape(main_title(scene))} · {html.escape(scene.workspace.name)}</title>
<link rel="stylesheet" href="/console/static/console.css?v={static_version}">
<script type="module" src="/console/static/console.js?v={static_version}"></script>
</head>
<body data-at-user="{attr(scene.user.id)}" data-at-channel="{attr(scene.channel.id if scene.channel else "")}"
 data-at-surface="{attr(scene.surface)}" data-at-thread="{attr(scene.thread_ts or "")}">
<div class="app">
<nav class="sidebar" id="sidebar" aria-label="Workspace">{panes["sidebar"]}</nav>
<main class="main" aria-labelledby="main-title">
<header class="main-head"><h1 id="main-title">{html.escape(main_title(scene))}</h1>
<span class="local-note">{" · ".join(html.escape(n) for n in ("local workspace · nothing leaves this machine", *scene.notes))}</span>
<span id="busy" class="busy" role="status" hidden><span class="spinner" aria-hidden="true"></span>Working on it…</span></header>
<div class="timeline-wrap">
<section class="timeline" id="main" aria-live="polite" aria-label="Messages" aria-busy="false">{panes["main"]}</section>
<button type="button" id="new-below" class="new-below" hidden>New messages ↓</button>
</div>
<form class="composer" id="composer"{composer_hidden} autocomplete="off">
<label class="sr-only" for="composer-input">Message</label>
<input id="composer-input" name="text" placeholder="{attr(placeholder)} — try /scale-check" autocomplete="off">
<button type="submit" class="bk-button primary">Send</button>
</form>
</main>
<aside class="thread" id="thread" aria-label="Thread"{thread_hidden}>{panes.get("thread", "")}</aside>
</div>
<dialog id="modal" aria-labelledby="modal-title">{panes.get("modal", "")}</dialog>
<dialog id="confirm" aria-labelledby="confirm-title"></dialog>
<dialog id="lightbox" class="lightbox" aria-label="Image at full size">
<button type="button" class="icon lightbox-close" data-lightbox-close aria-label="Close">×</button>
<img alt=""><p><span data-lightbox-caption></span> <a target="_blank" rel="noopener">Open in a new tab</a></p>
</dialog>
<div id="toast" role="status" aria-live="polite" hidden></div>
</body></html>"""
