"""`FakeSlack`'s read-back half: what the tests read from the local Slack (calls, messages, ephemerals,
views, the App Home, response_url posts, files, canvases), each a deep copy taken under the store's lock,
and `wait_for` for work that happens after an ack."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import TypeVar

from localslack import payloads
from localslack.methods.views import home_of, open_modal_of
from localslack.state import JSON, Canvas, RecordedCall, ResponseUrlPost, StoredFile
from localslack.store import Store

_T = TypeVar("_T")


class FakeSlackReads:
    """Mixed into `FakeSlack` (localslack/server.py), which sets `store`."""

    store: Store

    # -- reading -----------------------------------------------------------------------------------

    def _read(self, read: Callable[[], _T]) -> _T:
        with self.store.lock:
            return copy.deepcopy(read())

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        return self._read(lambda: [c for c in self.store.calls if method is None or c.method == method])

    def messages(self, channel_id: str, thread_ts: str | None = None) -> list[JSON]:
        """The channel's top-level messages oldest first, or with `thread_ts` that thread (parent first)."""

        def read() -> list[JSON]:
            store = self.store
            if thread_ts is None:
                top = [
                    m for m in store.messages.get(channel_id, []) if m.thread_ts is None or m.reply_broadcast
                ]
                return [store.message_to_api(m) for m in top]
            parent = store.find_message(channel_id, thread_ts)
            thread = ([parent] if parent else []) + store.replies_of(channel_id, thread_ts)
            return [store.message_to_api(m) for m in thread]

        return self._read(read)

    def message(self, channel_id: str, ts: str) -> JSON | None:
        def read() -> JSON | None:
            found = self.store.find_message(channel_id, ts)
            return self.store.message_to_api(found) if found else None

        return self._read(read)

    def ephemerals(self, user_id: str, channel_id: str | None = None) -> list[JSON]:
        """Ephemeral messages shown to `user_id` (from chat.postEphemeral, response_urls, command answers)."""
        return self._read(
            lambda: [
                {
                    "type": "message",
                    "channel": e.channel,
                    "user": e.user,
                    "ts": e.ts,
                    "text": e.text,
                    "blocks": e.blocks,
                    "thread_ts": e.thread_ts,
                    "source": e.source,
                }
                for e in self.store.ephemerals
                if e.user == user_id and (channel_id is None or e.channel == channel_id)
            ]
        )

    def view(self, view_id: str) -> JSON | None:
        """The view object (with `state.values`), open or closed."""
        return self._read(lambda: payloads.view_object(v) if (v := self.store.views.get(view_id)) else None)

    def is_open(self, view_id: str) -> bool:
        return self._read(lambda: (v := self.store.views.get(view_id)) is not None and v.status == "open")

    def views_for(self, user_id: str) -> list[JSON]:
        """The user's open modal stack, bottom first (the last one is what they see)."""

        def read() -> list[JSON]:
            user = self.store.users[user_id]
            top = open_modal_of(self.store, user.team_id, user_id)
            if top is None:
                return []
            stack = [
                v
                for v in self.store.views.values()
                if v.status == "open" and v.root_view_id == top.root_view_id
            ]
            return [payloads.view_object(v) for v in stack]

        return self._read(read)

    def home(self, user_id: str) -> JSON | None:
        def read() -> JSON | None:
            user = self.store.users[user_id]
            view = home_of(self.store, user.team_id, user_id)
            return payloads.view_object(view) if view else None

        return self._read(read)

    def view_errors(self, view_id: str) -> dict[str, str] | None:
        """The errors the app's last `response_action: errors` put on the view's inputs."""
        return self._read(lambda: self.store.views[view_id].errors)

    def response_url_posts(self) -> list[ResponseUrlPost]:
        return self._read(lambda: list(self.store.response_url_posts))

    def files(self) -> list[StoredFile]:
        """Uploaded files; `.content` holds the bytes."""
        return self._read(lambda: list(self.store.files.values()))

    def canvases(self) -> list[Canvas]:
        """Every canvas, `.markdown` holding its body and `.edits` how often it was edited."""
        return self._read(lambda: list(self.store.canvases.values()))

    def snapshot(self) -> JSON:
        return self.store.snapshot()

    def wait_for(
        self, predicate: Callable[[], _T], timeout: float = 5.0, interval: float = 0.02, message: str = ""
    ) -> _T:
        """Poll `predicate` until it returns something truthy, and return that; work after an ack is async."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                recent = [f"{c.method} ok={c.ok} error={c.error}" for c in self.calls()[-10:]]
                refused = [f"{p.status} {p.error}" for p in self.response_url_posts() if not p.ok][-5:]
                detail = f": {message}" if message else ""
                raise TimeoutError(
                    f"condition not met within {timeout}s{detail}; last Web API calls: {recent}; "
                    f"refused response_url posts: {refused}"
                )
            time.sleep(interval)
