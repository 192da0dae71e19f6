"""The local workspace's first-run history for calibration, made the way a real workspace makes it: people
acting through the console's actor (signed requests to `/slack/events`), never rows written directly.

In #search, Maria (the team's manager) starts a pre-mortem with Ada as its lead; Ada answers in the modal
(the index first, "high" likelihood), Sam, Maria and Ada vote, Maria closes the vote, so the ranked risks
become predictions. Then Ada (an admin) reports what broke with `/scale-check incident`: the search index
(predicted: it happened) and the payments queue (nobody predicted it: a surprise). The console's App Home,
`/scale-check history` and the digest then show Search's calibration line from the first start. Ada acts,
not Ana: the console opens as Ana, and a newcomer should not see her answer modal flash by.

Runs in a worker thread (the actor's HTTP calls reach this same server); a step that does not show up in
time stops the seeding with a warning and leaves the workspace usable.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from bot.premortem.render import ACTION_ANSWER, ACTION_CLOSE, ACTION_VOTE
from localslack import Actor, Store
from localslack.methods.views import open_modal_of
from localslack.state import Message

log = logging.getLogger(__name__)

T = TypeVar("T")

CHANNEL = "C0SEARCH"
STEP_SECONDS = 60.0
ANSWER = {
    "risk1_other": {"value": "search index"},
    "risk1_why": {"value": "one reindex job rebuilds the whole index; at 10x documents it cannot keep up"},
    "risk1_likelihood": {"value": "high"},
    "risk2_other": {"value": "query API"},
    "risk2_why": {"value": "no cache in front of the hot queries"},
    "risk2_likelihood": {"value": "medium"},
    "risk3_other": {"value": "autocomplete"},
    "risk3_why": {"value": "one node holds the suggester"},
}
INCIDENTS = (
    '"search index" reindex fell 6 hours behind during the catalogue import',
    '"payments queue" backed up when search retried its writes',
)


class SeedStopped(Exception):
    pass


class Waiter:
    """Waits for a step to show up in the local Slack, giving up after `STEP_SECONDS` or at shutdown."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop

    def __call__(self, what: str, find: Callable[[], T | None]) -> T:
        deadline = time.monotonic() + STEP_SECONDS
        while not self.stop.is_set():
            found = find()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise SeedStopped(f"{what} did not show up")
            self.stop.wait(0.1)
        raise SeedStopped(f"the server stopped while waiting for {what}")


def _with_action(store: Store, action_id: str, block_id: str | None = None) -> Message | None:
    """The newest message in the channel (threads included) with a button `action_id`."""
    with store.lock:
        for message in reversed(store.messages.get(CHANNEL, [])):
            for block in message.blocks or []:
                if block_id is not None and block.get("block_id") != block_id:
                    continue
                if any(e.get("action_id") == action_id for e in block.get("elements") or []):
                    return message
    return None


def _with_text(store: Store, needle: str) -> Message | None:
    with store.lock:
        return next((m for m in store.messages.get(CHANNEL, []) if needle in str(m.blocks)), None)


def _vote_blocks(message: Message) -> list[str]:
    return [
        str(b["block_id"]) for b in message.blocks or [] if str(b.get("block_id", "")).startswith("vote:")
    ]


def _answers(url: str) -> bool | None:
    try:
        return httpx.get(url, timeout=2.0).status_code == 200 or None
    except httpx.HTTPError:
        return None


def seed_calibration(
    store: Store,
    actor: Actor,
    stop: threading.Event,
    health_url: str,
    team_id: str,
    lead: str,
    manager: str,
    member: str,
) -> None:
    """`lead` leads the pre-mortem and reports what broke (the team's lead or an admin may). Starts once
    the server answers `health_url` (start-up hooks run before it listens)."""
    wait = Waiter(stop)
    try:
        wait("the server", lambda: _answers(health_url))
        _seed(store, actor, wait, team_id, lead, manager, member)
    except SeedStopped as stopped:
        log.warning("the local calibration history was not seeded", extra={"step": str(stopped)})
    except Exception:
        log.warning("the local calibration history was not seeded", exc_info=True)
    finally:
        actor.close()


def _seed(
    store: Store,
    actor: Actor,
    _wait: Waiter,
    team_id: str,
    lead: str,
    manager: str,
    member: str,
) -> None:
    actor.slash_command(team_id, manager, CHANNEL, f"premortem <@{lead}>")
    prompt = _wait("the pre-mortem's prompt", lambda: _with_action(store, ACTION_ANSWER))
    actor.click(team_id, lead, CHANNEL, prompt.ts, ACTION_ANSWER)
    view = _wait("the answer modal", lambda: open_modal_of(store, team_id, lead))
    actor.submit_view(team_id, lead, view.id, ANSWER)
    reveal = _wait("the reveal", lambda: _with_action(store, ACTION_VOTE))
    first = _vote_blocks(reveal)[0]  # the search index: ranked first by its only lead
    for user in (member, manager, lead):
        actor.click(team_id, user, CHANNEL, reveal.ts, ACTION_VOTE, block_id=first)
    closing = _wait("the close button", lambda: _with_action(store, ACTION_CLOSE))
    actor.click(team_id, manager, CHANNEL, closing.ts, ACTION_CLOSE)
    # Predictions are stored before the thread shows the top three: wait for it, so the incidents come after.
    _wait("the top three", lambda: _with_text(store, "Top three risks"))
    for text in INCIDENTS:
        actor.slash_command(team_id, lead, CHANNEL, f"incident {text}")
    log.info("local calibration history seeded", extra={"channel": CHANNEL})
