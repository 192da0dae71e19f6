"""The pre-mortem's work behind the listeners and jobs: loading, permissions, and the thread.

The thread is always drawn from what is stored. Every change asks the redraw engine (`bot.redraw`) for a
drawing, which reads the pre-mortem, renders it, updates the messages whose content hash changed and
posts the ones that are due and missing (the reveal, "data says", the top three). The engine draws at
once when idle, shares one drawing among the requests that arrive within `UPDATE_INTERVAL` of the last
(so a burst of votes costs a few `chat.update` calls), keeps the workspace's `chat.update` budget across
replicas, and draws again after a 429's Retry-After, so no update is lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Coroutine
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import blocks as bk
from bot.calibration import service as calibration
from bot.errors import PermissionDenied, UserError
from bot.premortem.board import Board
from bot.premortem.model import Premortem
from bot.premortem.render import prompt_message, reveal_messages, root_message
from bot.premortem.render_plan import data_message, top_message
from bot.premortem.state import load_rows, state_of
from bot.redraw import Redraw, Updater, content_digest
from bot.runtime import Runtime, one_per_runtime
from bot.slack_api import InstrumentedWebClient, every, is_slack_admin
from bot.teams import Team, resolve_team
from storage import premortem as repo
from storage import teams as teams_repo

log = logging.getLogger(__name__)

UNKNOWN = "I can't find that pre-mortem any more. Start one with `/scale-check premortem @lead …`."
# Requests within this many seconds of a thread's last drawing share the next one (the first is drawn
# at once), whatever the number of clicks.
UPDATE_INTERVAL = 0.3
SHOWN_SECONDS = 7 * 24 * 3600.0  # how long the hash of what a message shows is remembered
# A channel's member list answers "is this voter in the channel?" for this long; a "no" is asked again.
MEMBERS_TTL = 30.0
USER_TZ_TTL = 3600.0


def closed_sentence(pm: Premortem, *, plain: bool = False) -> str:
    """Why answers or votes are closed; `plain` for a modal's error (no mentions, no dates)."""
    if pm.status == "cancelled":
        if plain:
            return "This pre-mortem was cancelled, so it takes no more answers or votes."
        if pm.cancelled_by is None:
            return "This pre-mortem closed at its deadline because no lead had answered; start another."
        return f"This pre-mortem was cancelled by {bk.mention(pm.cancelled_by)}, so it takes no more answers or votes."
    if pm.status == "voting":
        return "The answers were revealed, so answers are closed: vote on the risks in the thread instead."
    if pm.status == "planning":
        return (
            "Voting has closed and the top three risks are being mitigated, so answers and votes are closed."
        )
    return "This pre-mortem is still collecting answers; voting starts when they are revealed."


class PremortemService:
    def __init__(self, rt: Runtime, interval: float | None = None) -> None:
        self.rt = rt
        self.interval = UPDATE_INTERVAL if interval is None else interval
        self.redraw: Redraw[tuple[str, int]] = Redraw(
            "premortem",
            rt.cache,
            self._render,
            client_for=rt.client_for,
            workspace_of=lambda key: key[0],
            gap=self.interval,
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._members: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}
        self._member_locks: dict[tuple[str, str], asyncio.Lock] = {}

    def background(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` after the current request has been answered (errors are logged)."""

        async def run() -> None:
            try:
                await work
            except Exception:
                log.error("pre-mortem background work failed", exc_info=True)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- reading ----------------------------------------------------------------------------------

    async def load(self, workspace_id: str, premortem_id: int) -> Premortem:
        found = await self.rt.db.run(load_rows, workspace_id, premortem_id)
        if found is None:
            raise UserError(UNKNOWN)
        return state_of(*found)

    async def team(self, workspace_id: str, channel_id: str) -> Team:
        row = await self.rt.db.run(teams_repo.find, workspace_id, channel_id)
        return resolve_team(
            self.rt.config, workspace_id, channel_id, row.name if row else None, row.setup if row else None
        )

    async def board(self, pm: Premortem, team: Team | None = None) -> Board:
        team = team or await self.team(pm.workspace_id, pm.channel_id)
        return Board.of(pm, team.premortem.signal_components)

    async def active_in_channel(self, workspace_id: str, channel_id: str) -> list[repo.PremortemRow]:
        """The channel's pre-mortems still running (asking, voting or planning)."""
        return list(await self.rt.db.run(repo.active_in_channel, workspace_id, channel_id))

    async def component_names(self, workspace_id: str, premortem_id: int) -> tuple[list[str], set[str]]:
        """Components to suggest in a pre-mortem's answer form: what broke though nobody predicted it
        (calibration's surprises, returned apart too, to be marked), the team's, then those of its earlier
        pre-mortems (none when the pre-mortem is unknown)."""
        row = await self.rt.db.run(repo.get, workspace_id, premortem_id)
        if row is None:
            return [], set()
        team = await self.team(workspace_id, row.channel_id)
        earlier = await self.rt.db.run(repo.known_components, workspace_id, row.channel_id)
        surprised = await calibration.surprises(self.rt, workspace_id, row.channel_id)
        return list(dict.fromkeys([*surprised, *team.premortem.components, *earlier])), set(surprised)

    # --- people -----------------------------------------------------------------------------------

    async def client(self, workspace_id: str) -> InstrumentedWebClient:
        return await self.rt.client_for(workspace_id)

    async def user_info(self, workspace_id: str, user_id: str) -> dict[str, Any]:
        client = await self.client(workspace_id)
        try:
            return dict((await client.users_info(user=user_id))["user"])
        except SlackApiError as exc:
            if exc.response.get("error") == "user_not_found":
                return {"id": user_id, "deleted": True}
            raise

    async def is_admin(self, workspace_id: str, user_id: str) -> bool:
        if user_id in self.rt.config.admins_for(workspace_id):
            return True
        return is_slack_admin(await self.user_info(workspace_id, user_id))

    async def require(self, workspace_id: str, user_id: str, people: Collection[str], sentence: str) -> None:
        """Let `people` (and admins) through; everyone else gets `sentence` (who can, and how)."""
        if user_id in people or await self.is_admin(workspace_id, user_id):
            return
        raise PermissionDenied(sentence)

    async def user_tz(self, workspace_id: str, user_id: str) -> str | None:
        """The person's Slack time zone (`users.info` tz), cached for an hour; None when unknown."""
        key = f"premortem:tz:{workspace_id}:{user_id}"
        cached = await self.rt.cache.get(key)
        if cached is not None:
            return cached.decode() or None
        try:
            tz = str((await self.user_info(workspace_id, user_id)).get("tz") or "")
        except SlackApiError as exc:
            log.info("could not read a user's time zone", extra={"error": exc.response.get("error")})
            return None
        await self.rt.cache.set(key, tz.encode(), USER_TZ_TTL)
        return tz or None

    async def members(self, workspace_id: str, channel_id: str) -> set[str]:
        """The channel's members, asked of Slack now (and remembered for `is_member`)."""
        client = await self.client(workspace_id)
        found = set(await every(client.conversations_members, "members", channel=channel_id, limit=200))
        self._members[(workspace_id, channel_id)] = (time.monotonic(), frozenset(found))
        return found

    async def is_member(self, workspace_id: str, channel_id: str, user_id: str) -> bool:
        """Whether `user_id` is in the channel: a member list read in the last `MEMBERS_TTL` seconds says
        yes; a no is asked of Slack again, so someone who just joined is not refused. Concurrent askers
        share one lookup (a burst of votes costs one `conversations.members`, not one each)."""
        key = (workspace_id, channel_id)
        async with self._member_locks.setdefault(key, asyncio.Lock()):
            known = self._members.get(key)
            if known is not None and time.monotonic() - known[0] < MEMBERS_TTL and user_id in known[1]:
                return True
            return user_id in await self.members(workspace_id, channel_id)

    async def dm(self, workspace_id: str, user_id: str, message: dict[str, Any]) -> tuple[str, str]:
        client = await self.client(workspace_id)
        opened = await client.conversations_open(users=user_id)
        channel = opened["channel"]["id"]
        posted = await client.chat_postMessage(channel=channel, **message)
        return channel, str(posted["ts"])

    # --- the thread -------------------------------------------------------------------------------

    async def refresh(
        self, workspace_id: str, premortem_id: int, *, ts: str | None = None, response_url: str | None = None
    ) -> None:
        """Redraw the thread from what is stored; returns once a drawing that started after this call
        has landed. `ts`/`response_url`: the message a click came from and the click's response_url."""
        await self.redraw.request((workspace_id, premortem_id), ts=ts, response_url=response_url)

    async def _render(self, key: tuple[str, int], updater: Updater) -> None:
        workspace_id, premortem_id = key
        found = await self.rt.db.run(load_rows, workspace_id, premortem_id)
        if found is None:
            return
        row = found[0].premortem
        if row.root_ts is None:
            return
        pm = state_of(*found)
        board = await self.board(pm)
        client = await self.client(workspace_id)
        saved: dict[str, Any] = {}
        try:
            await self._draw(client, updater, pm, board, row, saved)
        finally:
            # Kept even when a later call failed (a 429), so a message posted is never posted again.
            if saved:
                await self.rt.db.run(repo.set_messages, workspace_id, premortem_id, **saved)

    async def _draw(
        self,
        client: InstrumentedWebClient,
        updater: Updater,
        pm: Premortem,
        board: Board,
        row: repo.PremortemRow,
        saved: dict[str, Any],
    ) -> None:
        """Update or post each part of the thread; `saved` collects the ts of every message posted."""
        channel, root = pm.channel_id, row.root_ts
        assert root is not None
        await self._put(client, updater, pm, "root", channel, root, root_message(board))
        prompt_ts = await self._put(
            client, updater, pm, "prompt", channel, row.prompt_ts, prompt_message(pm), root
        )
        if prompt_ts != row.prompt_ts:
            saved["prompt_ts"] = prompt_ts
        if pm.revealed_at is not None:
            shown = list(row.reveal_ts)
            messages = reveal_messages(board)
            for i, message in enumerate(messages):
                ts = shown[i] if i < len(shown) else None
                posted = await self._put(client, updater, pm, f"reveal{i}", channel, ts, message, root)
                if ts is None and posted:
                    shown.append(posted)
                    saved["reveal_ts"] = list(shown)
            for i in range(len(messages), len(shown)):  # the reveal got shorter (never in practice)
                filler = bk.message("(continued above)", [bk.context("(continued above)")])
                await self._put(client, updater, pm, f"reveal{i}", channel, shown[i], filler, root)
            if pm.data is not None:
                data_ts = await self._put(
                    client, updater, pm, "data", channel, row.data_ts, data_message(board), root
                )
                if data_ts != row.data_ts:
                    saved["data_ts"] = data_ts
        if pm.status == "planning":
            now = self.rt.clock.now()
            top_ts = await self._put(
                client, updater, pm, "top", channel, row.top_ts, top_message(board, now), root
            )
            if top_ts != row.top_ts:
                saved["top_ts"] = top_ts

    async def _put(
        self,
        client: InstrumentedWebClient,
        updater: Updater,
        pm: Premortem,
        part: str,
        channel: str,
        ts: str | None,
        message: dict[str, Any],
        thread_ts: str | None = None,
    ) -> str | None:
        """Update the message `ts` in place (when its content changed), or post it in the thread."""
        # What each message shows is remembered in the cache, so every replica skips an unchanged one.
        key = f"premortem:shown:{pm.workspace_id}:{pm.id}:{part}"
        digest = content_digest(message)
        if ts is None:
            posted = await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
            await self.rt.cache.set(key, digest.encode(), SHOWN_SECONDS)
            return str(posted["ts"])
        if await self.rt.cache.get(key) == digest.encode():
            return ts
        try:
            await updater.update(channel, ts, message)
        except SlackApiError as exc:
            if exc.response.get("error") != "message_not_found":
                raise
            log.warning("a pre-mortem message was deleted", extra={"premortem": pm.id, "part": part})
        await self.rt.cache.set(key, digest.encode(), SHOWN_SECONDS)
        return ts


service_for = one_per_runtime(PremortemService)
