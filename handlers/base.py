"""What every listener shares: the request context, the central error handler, ack-then-work wiring.

Listeners are registered through `Listeners`, never with `app.action(...)` directly, so that each one
acks at once, does its slow work after the ack (a Bolt lazy listener), and reports errors the same way:
a sentence the person can act on for a `UserError`, an error id for anything else.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot import blocks as bk
from bot import modal_wait
from bot.errors import UserError, new_error_id, unexpected_error_message
from bot.runtime import Runtime
from bot.setup.service import remember_channel
from bot.slack_api import InstrumentedWebClient, WorkspaceInactiveError, user_is_slack_admin
from bot.storable import field_problems
from bot.teams import Team

# chat.postEphemeral errors after which the person is told by DM instead (the bot's own absence from
# a channel is answered with the invite hint by the error handler).
EPHEMERAL_ELSEWHERE = frozenset({"user_not_in_channel"})

log = logging.getLogger(__name__)


class FieldError(UserError):
    """A problem with one input of a modal; shown under that input."""

    def __init__(self, block_id: str, message: str) -> None:
        super().__init__(message)
        self.block_id = block_id


class ViewErrors(UserError):
    """Several input problems at once: {block_id: message}."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class Ctx:
    """One request from Slack, as the domain-facing parts of a listener need it."""

    rt: Runtime
    body: dict[str, Any]
    client: InstrumentedWebClient
    workspace_id: str
    user_id: str | None
    channel_id: str | None
    trigger_id: str | None
    response_url: str | None
    respond: AsyncRespond | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # When set, what would be shown to this person alone is collected here instead (a command run from
    # a button on the App Home, which shows it there or in a modal).
    collected: list[tuple[str, list[bk.Block] | None]] | None = None

    @property
    def now(self) -> datetime:
        return self.rt.clock.now()

    @property
    def user_name(self) -> str:
        user = self.body.get("user") or {}
        return str(
            self.body.get("user_name") or user.get("username") or user.get("name") or self.user_id or ""
        )

    @property
    def channel_name(self) -> str | None:
        channel = self.body.get("channel") or {}
        return self.body.get("channel_name") or channel.get("name")

    async def ephemeral(
        self, text: str, blocks: list[bk.Block] | None = None, *, thread_ts: str | None = None
    ) -> None:
        """Tell only this person: through the response URL when there is one, else chat.postEphemeral."""
        if self.collected is not None:
            self.collected.append((text, blocks))
            return
        payload = bk.message(text, blocks)
        if self.respond is not None and self.response_url:
            await self.respond(response_type="ephemeral", replace_original=False, **payload)
            return
        if self.channel_id and self.user_id:
            try:
                await self.client.chat_postEphemeral(
                    channel=self.channel_id, user=self.user_id, thread_ts=thread_ts, **payload
                )
                return
            except SlackApiError as exc:
                # Someone acting from the App Home or a modal may not be in the team's channel: the
                # answer comes by DM rather than not at all.
                if exc.response.get("error") not in EPHEMERAL_ELSEWHERE:
                    raise
        if self.user_id:
            await self.dm(self.user_id, text, blocks)

    async def team(self) -> Team:
        """This channel's team (setup in Slack wins over the file; else a team named after the channel).

        The channel is remembered with its name, so that jobs and modals name the team as the channel was
        named; it becomes a team in the digest and on the App Home only once it is set up, declared in the
        file, or has records (`bot/digest/roster.py`)."""
        if not self.channel_id:
            raise UserError("Run this in your team's channel.")
        name = self.channel_name
        if name is None and not self.rt.config.team_for(self.workspace_id, self.channel_id):
            info = await self.client.conversations_info(channel=self.channel_id)
            name = info["channel"].get("name")
        return await remember_channel(self.rt, self.workspace_id, self.channel_id, name)

    async def dm(self, user_id: str, text: str, blocks: list[bk.Block] | None = None) -> dict[str, Any]:
        opened = await self.client.conversations_open(users=user_id)
        response = await self.client.chat_postMessage(
            channel=opened["channel"]["id"], **bk.message(text, blocks)
        )
        return dict(response.data)  # type: ignore[arg-type]


async def is_slack_admin(ctx: Ctx, user_id: str | None = None) -> bool:
    """A workspace admin or owner, as Slack says (users.info)."""
    who = user_id or ctx.user_id
    return await user_is_slack_admin(ctx.client, who) if who else False


async def is_admin(ctx: Ctx) -> bool:
    """A workspace admin: Slack's own, or one the config file names for the workspace."""
    return ctx.user_id in ctx.rt.config.admins_for(ctx.workspace_id) or await is_slack_admin(ctx)


def build_ctx(
    rt: Runtime,
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: InstrumentedWebClient,
    respond: AsyncRespond | None,
) -> Ctx:
    channel_id = context.channel_id
    if channel_id is None:
        container = body.get("container") or {}
        channel_id = container.get("channel_id")
    return Ctx(
        rt=rt,
        body=body,
        client=client,
        workspace_id=context.team_id or body.get("team_id") or (body.get("team") or {}).get("id") or "",
        user_id=context.user_id,
        channel_id=channel_id,
        trigger_id=body.get("trigger_id"),
        response_url=context.response_url,
        respond=respond,
    )


async def report(ctx: Ctx, exc: BaseException) -> None:
    """The central error handler: a fixable error as its sentence, anything else as an error id."""
    if isinstance(exc, WorkspaceInactiveError):
        log.warning("not acting for an inactive workspace", extra={"workspace": exc.workspace_id})
        return
    if isinstance(exc, UserError):
        text = exc.message
    else:
        error_id = new_error_id()
        log.error(
            "listener failed",
            extra={"error_id": error_id, "workspace": ctx.workspace_id, "kind": _kind(ctx.body)},
            exc_info=exc,
        )
        text = unexpected_error_message(error_id)
    try:
        await ctx.ephemeral(text)
    except Exception as told:
        log.warning("could not tell the user about an error", extra={"error": type(told).__name__})


def _kind(body: dict[str, Any]) -> str:
    if "command" in body:
        return "command"
    return str(body.get("type", "unknown"))


Work = Callable[[Ctx], Awaitable[None]]
ActionWork = Callable[[Ctx, dict[str, Any]], Awaitable[None]]
ViewSubmit = Callable[[Ctx, dict[str, Any]], Awaitable[dict[str, Any] | None]]
Suggest = Callable[[Ctx, dict[str, Any]], Awaitable[list[dict[str, Any]]]]


# A person's submissions of one modal are checked and saved in the order they arrived, so a slow
# save finishing late never replaces the answer they submitted after it.
_submission_locks: weakref.WeakValueDictionary[tuple[str, str, str], asyncio.Lock] = (
    weakref.WeakValueDictionary()
)
_background: set[asyncio.Future[Any]] = set()


def _keep(task: asyncio.Future[Any]) -> None:
    _background.add(task)
    task.add_done_callback(_background.discard)


def _first_input(view: dict[str, Any]) -> str | None:
    return next((b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"), None)


async def _in_order(ctx: Ctx, view: dict[str, Any], submit: ViewSubmit) -> dict[str, Any] | None:
    key = (ctx.workspace_id, ctx.user_id or "", str(view.get("callback_id") or ""))
    lock = _submission_locks.get(key)
    if lock is None:
        lock = _submission_locks[key] = asyncio.Lock()
    async with lock:
        return await submit(ctx, view)


async def _finish_later(
    ctx: Ctx, view: dict[str, Any], saving: asyncio.Future[dict[str, Any] | None], after: Work | None
) -> None:
    """A submission acked with "Saving…": its outcome replaces that view (or comes by DM)."""
    try:
        result = await saving
    except ViewErrors as exc:
        await _show(ctx, view, modal_wait.retry_view(view, " ".join(exc.errors.values())))
        return
    except UserError as exc:
        await _show(ctx, view, modal_wait.retry_view(view, exc.message))
        return
    except Exception as exc:
        error_id = new_error_id()
        log.error(
            "listener failed",
            extra={"error_id": error_id, "workspace": ctx.workspace_id, "kind": _kind(ctx.body)},
            exc_info=exc,
        )
        reason = f"What you submitted could not be saved (error id {error_id})."
        await _show(ctx, view, modal_wait.failed_view(view, reason), dm_if_closed=True)
        return
    if (result or {}).get("response_action") == "errors":
        errors = (result or {}).get("errors") or {}
        await _show(ctx, view, modal_wait.retry_view(view, " ".join(map(str, errors.values()))))
        return
    shown = (
        (result or {}).get("view") if (result or {}).get("response_action") in ("update", "push") else None
    )
    await _show(ctx, view, shown or modal_wait.saved_view(view))
    if after is not None:
        ctx.extras["view_result"] = result
        try:
            await after(ctx)
        except Exception as exc:
            await report(ctx, exc)


async def _show(ctx: Ctx, view: dict[str, Any], shown: dict[str, Any], *, dm_if_closed: bool = False) -> None:
    try:
        await ctx.client.views_update(view_id=view["id"], view=shown)
        return
    except Exception as exc:  # the person closed the window
        log.info("could not update a modal after saving", extra={"error": type(exc).__name__})
    if dm_if_closed and ctx.user_id:
        typed = "\n".join(f"> {bk.escape(t)}" for t in modal_wait.typed_values(view))
        text = (
            "What you submitted in a form could not be saved. What you typed:\n" + typed
            if typed
            else "What you submitted in a form could not be saved."
        )
        try:
            await ctx.dm(ctx.user_id, text)
        except Exception:
            log.warning("could not tell the user their answer was not saved", exc_info=True)


class Listeners:
    """Registers listeners on a Bolt app with the ack-first pattern and the central error handler."""

    def __init__(self, app: AsyncApp, rt: Runtime, router: Any) -> None:
        self.app, self.rt, self.router = app, rt, router

    def _ctx(self, body: dict[str, Any], context: AsyncBoltContext, client: Any, respond: Any) -> Ctx:
        return build_ctx(self.rt, body, context, client, respond)

    def action(self, action_id: str | re.Pattern[str], work: ActionWork) -> None:
        """A button, select or overflow: acked at once, `work(ctx, action)` runs after."""

        async def ack_action(ack: AsyncAck) -> None:
            await ack()

        async def run_action(
            body: dict[str, Any], context: AsyncBoltContext, client: Any, respond: AsyncRespond, action: dict
        ) -> None:
            ctx = self._ctx(body, context, client, respond)
            try:
                await work(ctx, action)
            except Exception as exc:
                await report(ctx, exc)

        run_action.__name__ = f"run_{getattr(work, '__name__', 'action')}"
        self.app.action(action_id)(ack=ack_action, lazy=[run_action])

    def view(self, callback_id: str | re.Pattern[str], submit: ViewSubmit, after: Work | None = None) -> None:
        """A modal submission: `submit` validates and stores before the ack (its result is the ack's
        response_action); `after` does the slow part once Slack has its answer.

        Unstorable text is refused under its field before `submit` runs. `submit` gets
        `modal_wait.SAVE_BUDGET` seconds: past that the ack shows "Saving…" and the outcome (the
        result, the field errors as a note above the filled-in modal, or a failure showing the
        person's own text) follows with views.update; `after` then runs as usual."""

        async def ack_view(
            ack: AsyncAck, body: dict, context: AsyncBoltContext, client: Any, view: dict
        ) -> None:
            ctx = self._ctx(body, context, client, None)
            if unstorable := field_problems(view):
                # Refused where the person can fix it: their text stays in the modal.
                await ack(response_action="errors", errors=unstorable)
                return
            saving = asyncio.ensure_future(_in_order(ctx, view, submit))
            await asyncio.wait({saving}, timeout=modal_wait.SAVE_BUDGET)
            if not saving.done():
                # Slack closes the modal after 3 s: say it is saving, finish with views.update.
                await ack(response_action="update", view=modal_wait.saving_view(view))
                _keep(asyncio.ensure_future(_finish_later(ctx, view, saving, after)))
                return
            try:
                result = saving.result()
            except ViewErrors as exc:
                await ack(response_action="errors", errors=exc.errors)
                return
            except FieldError as exc:
                await ack(response_action="errors", errors={exc.block_id: exc.message})
                return
            except UserError as exc:
                first_input = _first_input(view)
                if first_input:
                    await ack(response_action="errors", errors={first_input: exc.message})
                else:
                    await ack()
                    await report(ctx, exc)
                return
            except Exception as exc:
                await ack()
                await report(ctx, exc)
                return
            context["view_result"] = result
            context["view_accepted"] = True
            await ack(**(result or {}))

        lazy = []
        if after is not None:

            async def after_view(body: dict, context: AsyncBoltContext, client: Any) -> None:
                # Bolt starts lazy listeners whatever the ack said; a refused submission has no after.
                # (The ack listener has returned before Bolt copies the context for this one.)
                if not context.get("view_accepted"):
                    return
                ctx = self._ctx(body, context, client, None)
                ctx.extras["view_result"] = context.get("view_result")
                try:
                    await after(ctx)
                except Exception as exc:
                    await report(ctx, exc)

            after_view.__name__ = f"after_{getattr(after, '__name__', 'view')}"
            lazy.append(after_view)
        self.app.view(callback_id)(ack=ack_view, lazy=lazy)

    def view_closed(self, callback_id: str | re.Pattern[str], work: Work) -> None:
        async def ack_closed(ack: AsyncAck) -> None:
            await ack()

        async def run_closed(body: dict, context: AsyncBoltContext, client: Any) -> None:
            ctx = self._ctx(body, context, client, None)
            try:
                await work(ctx)
            except Exception as exc:
                await report(ctx, exc)

        self.app.view_closed(callback_id)(ack=ack_closed, lazy=[run_closed])

    def options(self, action_id: str | re.Pattern[str], suggest: Suggest) -> None:
        """An external select's suggestions, answered in the ack (Slack waits for them)."""

        async def ack_options(ack: AsyncAck, body: dict, context: AsyncBoltContext, client: Any) -> None:
            ctx = self._ctx(body, context, client, None)
            try:
                options = await suggest(ctx, body)
            except Exception as exc:
                error_id = new_error_id()
                log.error("options failed", extra={"error_id": error_id}, exc_info=exc)
                options = []
            await ack(options=options[:100])

        self.app.options(action_id)(ack_options)

    def event(self, event_type: str, work: Work) -> None:
        async def ack_event(ack: AsyncAck) -> None:
            await ack()

        async def run_event(body: dict, context: AsyncBoltContext, client: Any) -> None:
            ctx = self._ctx(body, context, client, None)
            try:
                await work(ctx)
            except Exception as exc:
                if not isinstance(exc, UserError):
                    log.error("event listener failed", extra={"event": event_type}, exc_info=exc)

        run_event.__name__ = f"run_{event_type}"
        self.app.event(event_type)(ack=ack_event, lazy=[run_event])
