"""The workspace's scale readiness canvas: created once, then its whole body replaced each run.

Created as the digest channel's own canvas (`conversations.canvases.create`), or, when a person already
made the channel's canvas, as a canvas of the bot's tabbed into the channel (`canvases.create` with
`channel_id`). The row is written before the create call (with the person's canvas, if any) and the id
the moment Slack answers; a process killed in between finds its canvas in the channel's properties (the
channel canvas, or a canvas tab, that is not the person's) instead of creating a second one. A canvas the
bot did not create is never written. Each run replaces the body with one `canvases.edit` `replace` when
its content changed (a repeated edit with the same content is skipped). Where the workspace cannot have
canvases, the caller uploads the same table as a Markdown file in the parent's thread and says why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.digest.canvas import TITLE
from bot.digest.slack_calls import paced
from bot.redraw import content_digest
from bot.slack_api import InstrumentedWebClient, WorkspaceInactiveError
from storage import digest_canvas as repo

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

# Slack's answers meaning this workspace (or this bot) cannot have the canvas: fall back to a file.
NO_CANVASES = {
    "team_tier_cannot_create_channel_canvases": "this Slack plan cannot create channel canvases",
    "free_teams_cannot_create_non_tabbed_canvases": "this Slack plan cannot create canvases",
    "free_team_canvas_tab_already_exists": "this Slack plan allows one canvas tab per channel",
    "canvas_disabled_user_team": "canvases are turned off in this workspace",
    "restricted_action": "the workspace does not let the bot create or edit canvases",
    "missing_scope": "the app is missing the canvases:write scope (reinstall it)",
    "not_allowed_token_type": "the app's token cannot create canvases",
    "canvas_not_found": "the readiness canvas was deleted or is no longer shared with the bot",
}


@dataclass(frozen=True)
class CanvasOutcome:
    canvas_id: str | None = None
    url: str | None = None
    unavailable: str | None = None  # why there is no canvas (plain words)
    created: bool = False
    edited: bool = False


def _content(body: str) -> dict[str, str]:
    return {"type": "markdown", "markdown": body}


def _error(exc: SlackApiError) -> str:
    return str((exc.response or {}).get("error") or "slack error")


async def canvas_url(client: InstrumentedWebClient, workspace_id: str, canvas_id: str) -> str | None:
    """The canvas's link (`<workspace URL>/docs/<team>/<canvas>`), or None when Slack will not say the
    workspace's URL."""
    try:
        base = str((await client.auth_test()).get("url") or "")
    except SlackApiError:
        return None
    return f"{base.rstrip('/')}/docs/{workspace_id}/{canvas_id}" if base else None


class CanvasWriter:
    def __init__(self, rt: Runtime, client: InstrumentedWebClient, workspace_id: str, channel: str) -> None:
        self.rt, self.client, self.ws, self.channel = rt, client, workspace_id, channel

    async def _db(self, fn: Any, *args: Any) -> Any:
        return await self.rt.db.run(fn, *args)

    async def _properties(self) -> tuple[str | None, list[str]]:
        """The channel's own canvas and the canvases in its tabs."""
        info = await paced(self.channel, self.client.conversations_info, posts=False, channel=self.channel)
        props = (info.get("channel") or {}).get("properties") or {}
        own = (props.get("canvas") or {}).get("file_id")
        tabs = [
            str((t.get("data") or {}).get("file_id"))
            for t in props.get("tabs") or []
            if t.get("type") == "canvas" and (t.get("data") or {}).get("file_id")
        ]
        return (str(own) if own else None), tabs

    async def _url(self, canvas_id: str) -> str | None:
        return await canvas_url(self.client, self.ws, canvas_id)

    async def _recover(self, row: repo.DigestCanvasRow) -> str | None:
        """The canvas an earlier run created but did not record: in the channel, and not the person's."""
        own, tabs = await self._properties()
        if row.kind == "channel" and own and own != row.foreign_id:
            return own
        if row.kind == "standalone":
            return next((t for t in tabs if t not in (row.foreign_id, own)), None)
        return None

    async def _create(self, kind: str, body: str, week: str) -> str:
        if kind == "channel":
            response = await paced(
                self.channel,
                self.client.api_call,
                posts=False,
                api_method="conversations.canvases.create",
                json={"channel_id": self.channel, "title": TITLE, "document_content": _content(body)},
            )
        else:
            response = await paced(
                self.channel,
                self.client.api_call,
                posts=False,
                api_method="canvases.create",
                json={"title": TITLE, "channel_id": self.channel, "document_content": _content(body)},
            )
        canvas_id = str(response["canvas_id"])
        await self._db(repo.canvas_created, self.ws, canvas_id, self.rt.clock.now())
        await self._db(repo.canvas_written, self.ws, week, content_digest(body), self.rt.clock.now())
        log.info("readiness canvas created", extra={"workspace": self.ws, "kind": kind})
        return canvas_id

    async def _found_or_created(self, body: str, week: str) -> tuple[str, bool]:
        row = await self._db(repo.get_canvas, self.ws)
        if row is not None and row.unavailable is None:
            found = await self._recover(row)
            if found is not None:
                log.info("found the readiness canvas an earlier run created", extra={"workspace": self.ws})
                await self._db(repo.canvas_created, self.ws, found, self.rt.clock.now())
                return found, False
        own, _ = await self._properties()
        kind = "standalone" if own else "channel"
        if row is None:
            if not await self._db(repo.canvas_intent, self.ws, self.channel, kind, own, self.rt.clock.now()):
                raise RuntimeError("the readiness canvas row appeared meanwhile")  # another run; retried
        else:
            await self._db(repo.retry_intent, self.ws, self.channel, kind, own, self.rt.clock.now())
        try:
            return await self._create(kind, body, week), True
        except SlackApiError as exc:
            if _error(exc) != "channel_canvas_already_exists":
                raise
        # A person made the channel's canvas since we looked: ours goes in a tab beside it.
        own, _ = await self._properties()
        await self._db(repo.retry_intent, self.ws, self.channel, "standalone", own, self.rt.clock.now())
        return await self._create("standalone", body, week), True

    async def write(self, body: str, week: str) -> CanvasOutcome:
        """Create the canvas if the workspace has none, else replace its body if it changed."""
        try:
            row = await self._db(repo.get_canvas, self.ws)
            created = False
            if row is not None and row.canvas_id:
                canvas_id = row.canvas_id
            else:
                canvas_id, created = await self._found_or_created(body, week)
                row = await self._db(repo.get_canvas, self.ws)
            edited = False
            if row is None or row.content_hash != content_digest(body):
                await paced(
                    self.channel,
                    self.client.api_call,
                    posts=False,
                    api_method="canvases.edit",
                    json={
                        "canvas_id": canvas_id,
                        "changes": [{"operation": "replace", "document_content": _content(body)}],
                    },
                )
                await self._db(repo.canvas_written, self.ws, week, content_digest(body), self.rt.clock.now())
                edited = True
        except WorkspaceInactiveError:
            raise
        except SlackApiError as exc:
            error = _error(exc)
            reason = NO_CANVASES.get(error)
            if reason is None:
                reason = f"Slack answered {error}"
            else:
                await self._db(repo.canvas_unavailable, self.ws, error)
            log.warning("no readiness canvas this run", extra={"workspace": self.ws, "reason": error})
            return CanvasOutcome(unavailable=reason)
        return CanvasOutcome(canvas_id, await self._url(canvas_id), None, created, edited)
