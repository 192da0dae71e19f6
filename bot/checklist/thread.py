"""Drawing a check's thread from what is stored: the part messages, the verdict and the root message,
each updated only when its content hash changed (the redraw engine decides when, and through what)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.checklist import render, render_verdict
from bot.redraw import Updater
from bot.redraw import content_digest as payload_digest
from bot.slack_api import InstrumentedWebClient
from storage import checklist as repo

if TYPE_CHECKING:
    from bot.checklist.service import ChecklistService

log = logging.getLogger(__name__)


async def draw(svc: ChecklistService, workspace_id: str, check_id: int, updater: Updater) -> None:
    """Bring the thread, the verdict and the root message in line with what is stored."""
    loaded = await svc.rt.db.run(repo.load, workspace_id, check_id)
    if loaded is None or loaded.check.root_ts is None:
        return
    check, state = loaded.check, svc.state_of(loaded)
    client = await svc.rt.client_for(workspace_id)
    channel, root_ts = check.channel_id, check.root_ts
    payloads = render.thread_messages(state)
    existing = {m.seq: m for m in loaded.messages}
    for seq, payload in enumerate(payloads):
        digest, row = payload_digest(payload), existing.get(seq)
        if row is not None and row.digest == digest:
            continue
        ts = await _put(client, updater, channel, root_ts, row.ts if row else None, payload)
        if ts is not None:
            await svc.rt.db.run(repo.save_message, workspace_id, check_id, seq, ts, digest)
    for seq in sorted(set(existing) - set(range(len(payloads)))):
        await _delete(client, channel, existing[seq].ts)
        await svc.rt.db.run(repo.drop_message, workspace_id, check_id, seq)
    outcome = svc.outcome_of(state)
    if outcome is not None and check.verdict_ts is None:
        posted = await client.chat_postMessage(
            channel=channel, thread_ts=root_ts, **render_verdict.verdict_message(state, outcome)
        )
        await svc.rt.db.run(repo.set_verdict_ts, workspace_id, check_id, posted["ts"])
    root = render_verdict.root_message(state, outcome)
    digest = payload_digest(root)
    if digest != check.root_digest and await _put(client, updater, channel, None, root_ts, root):
        await svc.rt.db.run(repo.set_root_digest, workspace_id, check_id, digest)


async def _put(
    client: InstrumentedWebClient,
    updater: Updater,
    channel: str,
    thread_ts: str | None,
    ts: str | None,
    payload: dict[str, Any],
) -> str | None:
    """Update message `ts` (or post it in the thread when there is none, or it was deleted)."""
    if ts is not None:
        try:
            await updater.update(channel, ts, payload)
            return ts
        except SlackApiError as exc:
            if exc.response.get("error") == "ratelimited":
                raise
            if exc.response.get("error") != "message_not_found" or thread_ts is None:
                log.warning(
                    "could not update a checklist message", extra={"error": exc.response.get("error")}
                )
                return None
    if thread_ts is None:
        return None
    posted = await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **payload)
    return str(posted["ts"])


async def _delete(client: InstrumentedWebClient, channel: str, ts: str) -> None:
    try:
        await client.chat_delete(channel=channel, ts=ts)
    except SlackApiError as exc:
        log.info("could not delete a checklist message", extra={"error": exc.response.get("error")})


async def permalink(client: InstrumentedWebClient, channel: str, ts: str) -> str | None:
    try:
        return str((await client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"])
    except SlackApiError:
        return None
