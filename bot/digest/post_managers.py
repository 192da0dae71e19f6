"""Sending each manager their own digest, exactly once per (workspace, week, manager).

Like every digest message, a manager's is recorded before it is posted and completed after, and carries
message metadata naming the workspace, week and manager; a run that died in between reads the latest
messages where it went (their DM or their chosen channel) and adopts it instead of posting it again.
Already posted, it is edited in place when its content changed. Managers' digests go to different
conversations, so a few are sent at once (each conversation still paced at Slack's one a second).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.digest.assemble import Digest
from bot.digest.found import Tag
from bot.digest.model import TeamDigest
from bot.digest.render import Extras
from bot.digest.render_manager import manager_message
from bot.digest.slack_calls import paced
from bot.errors import UserError
from bot.slack_api import InstrumentedWebClient, WorkspaceInactiveError
from storage import digest as repo

log = logging.getLogger(__name__)

AT_ONCE = 8  # managers' digests in flight at once (each to its own conversation)
HISTORY_LIMIT = 50


@dataclass(frozen=True)
class Recipient:
    user: str
    teams: Sequence[TeamDigest]
    channel: str | None  # their chosen channel; None: by DM


Record = Callable[..., Awaitable[Any]]


async def find_in(client: InstrumentedWebClient, channel: str, tag: Tag, key: str) -> str | None:
    """The ts of this week's digest for `key` among the conversation's latest messages."""
    page = await paced(
        channel,
        client.conversations_history,
        posts=False,
        channel=channel,
        limit=HISTORY_LIMIT,
        include_all_metadata=True,
    )
    for message in page.get("messages") or []:
        if tag.of(message) == ("manager", key):
            return str(message["ts"])
    return None


class ManagerPoster:
    def __init__(
        self,
        client: InstrumentedWebClient,
        digest: Digest,
        tag: Tag,
        existing: dict[tuple[str, str], repo.DigestPostRow],
        record: Record,
        content_hash: Callable[[dict[str, Any]], str],
    ) -> None:
        self.client, self.digest, self.tag, self.existing = client, digest, tag, existing
        self.record, self.hash = record, content_hash
        self.sent = self.updated = 0
        self.failures: list[str] = []

    async def _where(self, recipient: Recipient, row: repo.DigestPostRow | None) -> str:
        if row is not None and row.channel_id:
            return row.channel_id
        if recipient.channel:
            return recipient.channel
        opened = await paced(
            "conversations.open", self.client.conversations_open, posts=False, users=recipient.user
        )
        return str(opened["channel"]["id"])

    async def one(self, recipient: Recipient, parent_link: str | None, extras: Extras) -> None:
        user = recipient.user
        payload = manager_message(self.digest, recipient.teams, parent_link=parent_link, extras=extras)
        digest_hash = self.hash(payload)
        row = self.existing.get(("manager", user))
        try:
            where = await self._where(recipient, row)
            ts = row.ts if row is not None else None
            if ts is None and row is not None and row.error is None:
                ts = await find_in(self.client, where, self.tag, user)  # sent by a run that died?
                if ts is not None:
                    await self.record("done", "manager", user, ts=ts, content_hash="", channel_id=where)
            if ts is not None:
                if row is None or row.content_hash != digest_hash:
                    await paced(where, self.client.chat_update, posts=False, channel=where, ts=ts, **payload)
                    await self.record("done", "manager", user, ts=ts, content_hash=digest_hash)
                    self.updated += 1
                return
            await self.record("intent", "manager", user, channel=where)
            response = await paced(
                where,
                self.client.chat_postMessage,
                channel=where,
                metadata=self.tag.metadata("manager", user),
                **payload,
            )
            await self.record(
                "done", "manager", user, ts=str(response["ts"]), content_hash=digest_hash, channel_id=where
            )
            self.sent += 1
        except WorkspaceInactiveError:
            raise
        except (SlackApiError, UserError) as exc:
            reason = str((exc.response or {}).get("error")) if isinstance(exc, SlackApiError) else exc.message
            log.warning("a manager's digest failed", extra={"user": user, "reason": reason})
            await self.record("failed", "manager", user, error=reason)
            self.failures.append(user)

    async def send(self, recipients: Sequence[Recipient], parent_link: str | None, extras: Extras) -> None:
        limit = asyncio.Semaphore(AT_ONCE)

        async def bounded(recipient: Recipient) -> None:
            async with limit:
                await self.one(recipient, parent_link, extras)

        await asyncio.gather(*(bounded(r) for r in recipients))
