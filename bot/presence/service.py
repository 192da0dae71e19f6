"""Whether a person can be pinged now: `reach(workspace, user)` reads their Slack status
(`users.profile.get`) and Do Not Disturb (`dnd.teamInfo`, 50 people a call) and judges them with
`bot.presence.rules`. Any capability that DMs one person asks this first; posts to a team's channel don't.

- Lookups are cached for a few minutes per person, DND lookups made at about the same time are batched
  into one `dnd.teamInfo` call, and every call waits for its place in the method's tier (`pace.TIERS`),
  so a reminder round for 1,000 people never meets a 429.
- An install without `users.profile:read` or `dnd:read` (`missing_scope`) treats people as present; it is
  logged once per workspace, and a reinstall with the new manifest enables the check.
- Any other failure also treats the person as present: a reminder that reaches someone away is better
  than one silently never sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError

from bot.presence.config import AwayConfig
from bot.presence.pace import Pace
from bot.presence.rules import Dnd, Reach, Reached, Status, judge
from bot.runtime import Runtime, one_per_runtime

log = logging.getLogger(__name__)

STATUS_TTL = 300.0  # a status read is reused for 5 minutes
DND_TTL = 300.0
TEAM_INFO_MAX = 50  # dnd.teamInfo takes up to 50 users a call
BATCH_WINDOW = 0.05  # DND lookups asked within this many seconds share one dnd.teamInfo call
NO_SCOPE_TTL = 3600.0  # after a missing_scope, don't ask again for an hour (a reinstall may add it)
LOGGED_TTL = 30 * 24 * 3600.0


class Presence:
    def __init__(self, rt: Runtime, pace: Pace | None = None) -> None:
        self.rt = rt
        self.pace = pace or Pace(rt.cache)
        self._pending: dict[str, dict[str, asyncio.Future[Dnd | None]]] = {}
        self._flushing: dict[str, asyncio.Task[None]] = {}

    def config(self, workspace_id: str) -> AwayConfig:
        return self.rt.config.away_for(workspace_id)

    async def reach(self, workspace_id: str, user_id: str) -> Reach:
        """Reached, or Away(until) when their status or Do Not Disturb says they are away."""
        config = self.config(workspace_id)
        if not config.enabled:
            return Reached()
        status, dnd = await asyncio.gather(
            self.status(workspace_id, user_id), self.dnd(workspace_id, user_id)
        )
        return judge(status, dnd, config, self.rt.clock.now())

    async def reach_many(self, workspace_id: str, user_ids: Iterable[str]) -> dict[str, Reach]:
        users = list(dict.fromkeys(user_ids))
        found = await asyncio.gather(*(self.reach(workspace_id, u) for u in users))
        return dict(zip(users, found, strict=True))

    # --- status -------------------------------------------------------------------------------------

    async def status(self, workspace_id: str, user_id: str) -> Status | None:
        key = f"presence:status:{workspace_id}:{user_id}"
        cached = await self.rt.cache.get(key)
        if cached is not None:
            return Status.of(json.loads(cached))
        if await self._no_scope(workspace_id, "users.profile:read"):
            return None
        await self.pace.take(workspace_id, "users.profile.get")
        client = await self.rt.client_for(workspace_id)
        try:
            profile = dict((await client.users_profile_get(user=user_id))["profile"])
        except SlackApiError as exc:
            await self._failed(workspace_id, "users.profile.get", exc)
            return None
        kept = {k: profile.get(k) for k in ("status_text", "status_emoji", "status_expiration")}
        await self.rt.cache.set(key, json.dumps(kept).encode(), STATUS_TTL)
        return Status.of(kept)

    # --- Do Not Disturb -------------------------------------------------------------------------------

    async def dnd(self, workspace_id: str, user_id: str) -> Dnd | None:
        key = f"presence:dnd:{workspace_id}:{user_id}"
        cached = await self.rt.cache.get(key)
        if cached is not None:
            return Dnd.of(json.loads(cached))
        if await self._no_scope(workspace_id, "dnd:read"):
            return None
        pending = self._pending.setdefault(workspace_id, {})
        future = pending.get(user_id)
        if future is None:
            future = pending[user_id] = asyncio.get_running_loop().create_future()
        if workspace_id not in self._flushing:
            self._flushing[workspace_id] = asyncio.get_running_loop().create_task(self._flush(workspace_id))
        return await asyncio.shield(future)

    async def _flush(self, workspace_id: str) -> None:
        """Answer the pending DND lookups of a workspace, 50 people a `dnd.teamInfo` call."""
        try:
            await asyncio.sleep(BATCH_WINDOW)
            while pending := self._pending.get(workspace_id):
                batch = dict(list(pending.items())[:TEAM_INFO_MAX])
                for user in batch:
                    del pending[user]
                answers = await self._team_info(workspace_id, list(batch))
                for user, future in batch.items():
                    if not future.done():
                        future.set_result(answers.get(user))
        except Exception:
            log.warning("could not read who is in Do Not Disturb; treating them as present", exc_info=True)
            for future in self._pending.pop(workspace_id, {}).values():
                if not future.done():
                    future.set_result(None)
        finally:
            self._flushing.pop(workspace_id, None)

    async def _team_info(self, workspace_id: str, users: list[str]) -> dict[str, Dnd]:
        await self.pace.take(workspace_id, "dnd.teamInfo")
        client = await self.rt.client_for(workspace_id)
        try:
            answer = await client.dnd_teamInfo(users=",".join(users))
        except SlackApiError as exc:
            await self._failed(workspace_id, "dnd.teamInfo", exc)
            return {}
        found: dict[str, Dnd] = {}
        for user, info in dict(answer.get("users") or {}).items():
            await self.rt.cache.set(f"presence:dnd:{workspace_id}:{user}", json.dumps(info).encode(), DND_TTL)
            found[user] = Dnd.of(info)
        return found

    # --- what Slack refused ---------------------------------------------------------------------------

    async def _no_scope(self, workspace_id: str, scope: str) -> bool:
        return await self.rt.cache.get(f"presence:noscope:{workspace_id}:{scope}") is not None

    async def _failed(self, workspace_id: str, method: str, exc: SlackApiError) -> None:
        error = str(exc.response.get("error") or "")
        if error != "missing_scope":
            log.warning(
                "could not read who is away; treating them as present",
                extra={"method": method, "error": error},
            )
            return
        needed = str(
            exc.response.get("needed") or ("dnd:read" if method.startswith("dnd.") else "users.profile:read")
        )
        await self.rt.cache.set(f"presence:noscope:{workspace_id}:{needed}", b"1", NO_SCOPE_TTL)
        if await self.rt.cache.claim(f"presence:noscope:logged:{workspace_id}", LOGGED_TTL):
            log.warning(
                "this install lacks a scope to see who is away, so everyone is treated as present; "
                "reinstall the app to grant it",
                extra={"workspace": workspace_id, "needed": needed},
            )


presence_for = one_per_runtime(Presence)  # one DND batch and one cache view per running app
