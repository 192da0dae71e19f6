"""The `/scale-check` slash command: answer help and bad arguments in the ack, run the rest after it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot import blocks as bk
from bot.runtime import Runtime
from handlers.base import build_ctx, report
from handlers.router import COMMAND, CommandRouter, example_text


def register_command(app: AsyncApp, rt: Runtime, router: CommandRouter) -> None:
    async def ack_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        sub, args, suggestion = router.resolve(command.get("text") or "")
        if sub is None:
            unknown = args if suggestion is not None else None
            help_message = router.help_message(unknown, suggestion, command.get("user_id"))
            await ack(response_type="ephemeral", **help_message)
            return
        problem = sub.check(args) if sub.check else None
        if problem:
            usage = f"{COMMAND} {sub.name} {sub.usage}".strip()
            text = f"{problem}\nUsage: `{usage}` — for example {example_text(sub.example, command.get('user_id'))}."
            await ack(response_type="ephemeral", **bk.message(text, [bk.section(text)]))
            return
        await ack()

    async def run_command(
        body: dict[str, Any], context: AsyncBoltContext, client: Any, respond: AsyncRespond
    ) -> None:
        sub, args, _ = router.resolve(body.get("text") or "")
        if sub is None or (sub.check and sub.check(args)):
            return  # answered in the ack
        ctx = build_ctx(rt, body, context, client, respond)
        try:
            await sub.run(ctx, args)
        except Exception as exc:
            await report(ctx, exc)

    app.command(COMMAND)(ack=ack_command, lazy=[run_command])
