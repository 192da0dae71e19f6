"""A test-only capability that uses every Block Kit element the console must render and send.

`/scale-check demo` posts a message with every block and element kind, a thread reply and an
ephemeral message; its buttons open a modal (inputs, an external select served by block_suggestion,
a number validated in the modal), and `/scale-check demo home` publishes an App Home. Registered on
the real app through the same `Listeners` wiring as the product's capabilities.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from bot import blocks as bk
from handlers.base import Ctx, FieldError, Listeners
from handlers.router import Subcommand

COMPONENTS = ["database", "cache", "queue", "load balancer", "search index"]
PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkaPhfDwAE"
    "hgGAlWrsQwAAAABJRU5ErkJggg=="
)
WHEN = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)  # 17:30 in Berlin, 11:30 in New York


@dataclass
class Recorded:
    """What the demo's listeners received, for tests to compare with what the page showed."""

    submissions: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)


def text(value: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": value}


def every_block(user_id: str) -> list[dict[str, Any]]:
    options = [bk.option(s, s) for s in ("1K", "10K", "100K")]
    return [
        bk.header("Demo: every block"),
        bk.section(
            f"*Bold*, _italic_, ~struck~, `code` and <https://example.org/docs|a link>, for <@U0MANAGER> "
            f"in <#C0SEARCH>, due {bk.date(WHEN)}. Escaped: {bk.escape('<script>alert(1)</script> & co')}",
            block_id="intro",
        ),
        bk.fields(["*Users*\n1,200", "*Peak rps*\n45"], block_id="numbers"),
        bk.section("Open the form", block_id="open", accessory=bk.button("Open form", "demo_open", "form")),
        bk.context("Context with an image", "and two texts"),
        {"type": "context", "elements": [{"type": "image", "image_url": PIXEL, "alt_text": "a pixel"}]},
        bk.divider(),
        bk.actions(
            bk.button("Yes", "demo_answer", "yes", style="primary"),
            bk.button("No", "demo_answer_no", "no"),
            bk.button(
                "Reset",
                "demo_reset",
                "reset",
                style="danger",
                confirm=bk.confirm_dialog("Reset?", "This clears it."),
            ),
            {
                "type": "static_select",
                "action_id": "demo_pick",
                "placeholder": text("Stage"),
                "options": options,
            },
            {"type": "users_select", "action_id": "demo_user", "placeholder": text("Owner")},
            {
                "type": "overflow",
                "action_id": "demo_more",
                "options": [bk.option("Share", "share"), bk.option("Archive", "archive")],
            },
            {
                "type": "external_select",
                "action_id": "demo_find",
                "placeholder": text("Component"),
                "min_query_length": 2,
            },
            {"type": "datepicker", "action_id": "demo_date", "initial_date": "2026-03-02"},
            block_id="controls",
        ),
        bk.image(PIXEL, "a chart", "Latency trend"),
        {"type": "image", "image_url": "https://example.org/chart.png", "alt_text": "an outside chart"},
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Rich ", "style": {"bold": True}},
                        {"type": "user", "user_id": user_id},
                        {"type": "text", "text": " "},
                        {"type": "emoji", "name": "rocket"},
                        {"type": "link", "url": "https://example.org", "text": "docs"},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "bullet",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "first item"}]},
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "second item"}]},
                    ],
                },
                {"type": "rich_text_quote", "elements": [{"type": "text", "text": "a quote"}]},
                {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "SELECT 1;"}]},
            ],
        },
    ]


def form(channel: str, ts: str) -> dict[str, Any]:
    stages = [bk.option(s, s) for s in ("1K", "10K", "100K")]
    blocks = [
        bk.input_block("Name", {"type": "plain_text_input", "action_id": "value"}, block_id="name"),
        bk.input_block(
            "Peak requests per second",
            {"type": "plain_text_input", "action_id": "value", "placeholder": text("e.g. 1200")},
            block_id="rps",
            hint="A whole number.",
        ),
        bk.input_block(
            "Stage", {"type": "static_select", "action_id": "value", "options": stages}, block_id="stage"
        ),
        bk.input_block(
            "Component",
            {"type": "external_select", "action_id": "demo_component", "min_query_length": 2},
            block_id="component",
        ),
        bk.input_block(
            "Owner", {"type": "users_select", "action_id": "value"}, block_id="owner", optional=True
        ),
        bk.input_block(
            "Checked",
            {
                "type": "checkboxes",
                "action_id": "value",
                "options": [bk.option("Load test", "load"), bk.option("Rollback", "rollback")],
            },
            block_id="checked",
            optional=True,
        ),
        bk.input_block(
            "Notes",
            {"type": "plain_text_input", "action_id": "value", "multiline": True},
            block_id="notes",
            optional=True,
        ),
    ]
    view = bk.modal(
        "Demo form",
        blocks,
        callback_id="demo_form",
        submit="Save",
        private_metadata=json.dumps([channel, ts]),
    )
    view["notify_on_close"] = True
    return view


def home(user_id: str, pinged: bool) -> dict[str, Any]:
    blocks = [
        bk.header("scalebot home"),
        bk.section(f"Hello <@{user_id}>, this is your Home tab."),
        bk.actions(bk.button("Ping", "demo_ping", "ping")),
    ]
    if pinged:
        blocks.append(bk.context("Pinged."))
    return {"type": "home", "blocks": blocks}


def register_demo(app: FastAPI) -> Recorded:
    state = app.state.scalebot
    listeners = Listeners(state.bolt, state.rt, state.router)
    seen = Recorded()
    app.state.demo = seen

    async def demo(ctx: Ctx, args: str) -> None:
        assert ctx.channel_id and ctx.user_id
        if args.strip() == "home":
            await ctx.client.views_publish(user_id=ctx.user_id, view=home(ctx.user_id, False))
            return
        posted = await ctx.client.chat_postMessage(
            channel=ctx.channel_id, **bk.message("Demo: every block", every_block(ctx.user_id))
        )
        await ctx.client.chat_postMessage(
            channel=ctx.channel_id, thread_ts=posted["ts"], text="Replies go here."
        )
        await ctx.client.chat_postEphemeral(
            channel=ctx.channel_id,
            user=ctx.user_id,
            **bk.message(
                "Only you see this.",
                [bk.section("Only you see this."), bk.actions(bk.button("OK", "demo_ok", "ok"))],
            ),
        )

    async def open_form(ctx: Ctx, action: dict[str, Any]) -> None:
        message = ctx.body.get("message") or {}
        await ctx.client.views_open(
            trigger_id=ctx.trigger_id, view=form(ctx.channel_id or "", message.get("ts", ""))
        )

    async def reply(ctx: Ctx, action: dict[str, Any]) -> None:
        seen.actions.append(action)
        message = ctx.body.get("message") or {}
        chosen = (
            action.get("value")
            or (action.get("selected_option") or {}).get("value")
            or action.get("selected_user")
            or action.get("selected_date")
        )
        await ctx.client.chat_postMessage(
            channel=ctx.channel_id or "",
            thread_ts=message.get("thread_ts") or message.get("ts"),
            text=f"<@{ctx.user_id}> chose {chosen} with {action['action_id']}",
        )

    async def ok(ctx: Ctx, action: dict[str, Any]) -> None:
        seen.actions.append(action)
        assert ctx.respond is not None
        await ctx.respond(replace_original=True, text=f"Thanks, <@{ctx.user_id}>.")

    async def ping(ctx: Ctx, action: dict[str, Any]) -> None:
        seen.actions.append(action)
        await ctx.client.views_publish(user_id=ctx.user_id or "", view=home(ctx.user_id or "", True))

    async def submit(ctx: Ctx, view: dict[str, Any]) -> dict[str, Any] | None:
        values = view["state"]["values"]
        raw = values["rps"]["value"]["value"] or ""
        if not raw.strip().isdigit():
            raise FieldError("rps", "Enter a whole number of requests per second, like 1200.")
        seen.submissions.append(values)
        return None

    async def saved(ctx: Ctx) -> None:
        view = ctx.body["view"]
        channel, ts = json.loads(view["private_metadata"])
        values = view["state"]["values"]
        if not (values["rps"]["value"]["value"] or "").strip().isdigit():
            return  # Bolt runs lazy listeners whatever the ack said; this submission was refused
        component = values["component"]["demo_component"]["selected_option"]["value"]
        await ctx.client.chat_postMessage(
            channel=channel,
            thread_ts=ts,
            text=f"Saved: {bk.escape(values['name']['value']['value'])}, {values['rps']['value']['value']} rps, {component}",
        )

    async def closed(ctx: Ctx) -> None:
        seen.closed.append(ctx.body["view"]["id"])

    async def suggest(ctx: Ctx, body: dict[str, Any]) -> list[dict[str, Any]]:
        typed = str(body.get("value", "")).lower()
        return [bk.option(c, c) for c in COMPONENTS if typed in c]

    listeners.router.add(
        Subcommand("demo", "every Block Kit element (tests only)", "", "/scale-check demo", demo)
    )
    listeners.action("demo_open", open_form)
    for action_id in (
        "demo_answer",
        "demo_answer_no",
        "demo_reset",
        "demo_pick",
        "demo_user",
        "demo_more",
        "demo_find",
        "demo_date",
    ):
        listeners.action(action_id, reply)
    listeners.action("demo_ok", ok)
    listeners.action("demo_ping", ping)
    listeners.view("demo_form", submit, saved)
    listeners.view_closed("demo_form", closed)
    listeners.options("demo_component", suggest)
    listeners.options("demo_find", suggest)
    return seen
