"""Delivering signed requests to the app's request URL, as Slack's servers do."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx

from localslack.elements import ActorError
from localslack.signing import signed_headers
from localslack.state import JSON, Channel, User, Workspace
from localslack.store import Store

_SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


class Transport:
    """Signs and POSTs bodies to the request URL; remembers the last payload, trigger and response_url.

    Never hold `store.lock` while a request is in flight: the app calls back into the local Slack
    (which takes the lock in the server thread) before it answers.
    """

    def __init__(self, store: Store, request_url: str, signing_secret: str, timeout: float = 3.0) -> None:
        self.store = store
        self.request_url = request_url
        self.signing_secret = signing_secret
        # Slack gives an app 3 seconds to answer a command, interaction or event.
        self._client = httpx.Client(timeout=timeout)
        self.last_payload: Any = None
        self.last_trigger_id: str | None = None
        self.last_response_url: str | None = None

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def raw(
        self,
        body: bytes | str,
        headers: dict[str, str] | None = None,
        sign: bool = True,
        timestamp: str | None = None,
    ) -> httpx.Response:
        """POST `body` as-is (for tests of bad signatures, stale timestamps, malformed payloads).

        With `sign`, Slack's signature headers are added (over `timestamp`, default now); caller
        `headers` win, so a test can also overwrite either header.
        """
        data = body.encode() if isinstance(body, str) else body
        sent: dict[str, str] = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": _SLACK_USER_AGENT,
        }
        if sign:
            sent.update(signed_headers(self.signing_secret, data, timestamp))
        elif timestamp is not None:
            sent["X-Slack-Request-Timestamp"] = timestamp
        sent.update(headers or {})
        return self._client.post(self.request_url, content=data, headers=sent)

    def _post_form(self, form: dict[str, str], headers: dict[str, str] | None = None) -> httpx.Response:
        return self.raw(urlencode(form).encode(), headers)

    def _post_interaction(self, payload: JSON) -> httpx.Response:
        self.last_payload = payload
        return self._post_form({"payload": json.dumps(payload)})

    def _post_json(self, body: JSON, headers: dict[str, str] | None = None) -> httpx.Response:
        self.last_payload = body
        return self.raw(json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})})

    def _who(self, team_id: str, user_id: str) -> tuple[Workspace, User]:
        """The workspace and an active, human user in it (callers hold the lock)."""
        ws = self.store.workspaces.get(team_id)
        if ws is None:
            raise ActorError(f"no workspace {team_id}")
        user = self.store.users.get(user_id)
        if user is None or user.team_id != team_id:
            raise ActorError(f"no user {user_id} in {team_id}")
        if user.deleted:
            raise ActorError(f"{user_id} is deactivated and cannot act")
        return ws, user

    def _check_choice(self, ws: Workspace, element: JSON, selected: Any) -> None:
        """Users and conversations selects only offer what exists in the workspace."""
        kind = str(element.get("type"))
        chosen = selected if isinstance(selected, list) else [] if selected is None else [selected]
        if kind.endswith("users_select"):
            for user_id in chosen:
                user = self.store.users.get(str(user_id))
                if user is None or user.team_id != ws.team_id or user.deleted:
                    raise ActorError(f"{element.get('action_id')!r} cannot offer user {user_id!r}")
        elif kind.endswith(("conversations_select", "channels_select")):
            for channel_id in chosen:
                channel = self.store.channels.get(str(channel_id))
                if channel is None or channel.team_id != ws.team_id:
                    raise ActorError(f"{element.get('action_id')!r} cannot offer conversation {channel_id!r}")

    def _channel_of(self, ws: Workspace, user: User, channel_id: str) -> Channel:
        channel = self.store.channels.get(channel_id)
        if channel is None or channel.team_id != ws.team_id:
            raise ActorError(f"no channel {channel_id} in {ws.team_id}")
        if user.id not in channel.members:
            raise ActorError(f"{user.id} is not a member of {channel_id} and cannot act there")
        return channel
