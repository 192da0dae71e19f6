"""The actor: users of the local workspace acting, each action sent to the app as Slack would send it.

Synchronous (httpx.Client), so plain pytest functions can drive it. Every action is checked against
what the user could really do: they can only click what the app rendered in a message they can see.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from localslack import payloads
from localslack.actor_views import Submission, ViewActions
from localslack.elements import STATEFUL, ActorError, action_item, find_element, state_entry
from localslack.hooks import apply_response
from localslack.methods.views import home_of
from localslack.state import JSON, Ephemeral, Message

__all__ = ["Actor", "ActorError", "Submission"]


class Actor(ViewActions):
    """Users acting: slash commands, clicks and selects in messages, modals, events."""

    def _hook_url(self, hook_id: str) -> str:
        url = f"{self.store.public_url}/hooks/response/{hook_id}"
        self.last_response_url = url
        return url

    def slash_command(
        self,
        team_id: str,
        user_id: str,
        channel_id: str,
        text: str = "",
        command: str = "/scale-check",
        retry_num: int | None = None,
    ) -> httpx.Response:
        """Run `command text` in a channel; a body in the app's answer is shown like Slack shows it."""
        with self.store.lock:
            ws, user = self._who(team_id, user_id)
            channel = self._channel_of(ws, user, channel_id)
            hook = self.store.mint_response_url(team_id=team_id, user_id=user_id, channel_id=channel.id)
            trigger = self.store.mint_trigger(team_id, user_id)
            self.last_trigger_id = trigger.id
            form = payloads.slash_command(
                self.store, ws, user, channel, command, text, self._hook_url(hook.id), trigger.id
            )
        self.last_payload = form
        headers = (
            {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
            if retry_num is not None
            else {}
        )
        response = self._post_form(form, headers)
        if response.status_code == 200 and response.content.strip():
            body = _command_answer(response)
            status, error = apply_response(self.store, hook, body, source="command_response")
            if error is not None:
                raise ActorError(f"Slack refuses the command's answer ({status} {error}): {body!r}")
        return response

    def click(
        self,
        team_id: str,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        block_id: str | None = None,
    ) -> httpx.Response:
        """Click a button the app rendered in a message (or in the user's own ephemeral message).

        `value` and `block_id` pick one button among several sharing an action_id; the payload carries
        what the app rendered, never a value the test made up.
        """
        return self._act_on_message(
            team_id, user_id, channel_id, message_ts, action_id, block_id, value, None
        )

    def select(
        self,
        team_id: str,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        selected: Any,
        block_id: str | None = None,
    ) -> httpx.Response:
        """Choose in a message's static/external/users/conversations select, overflow, checkboxes, etc.

        `selected` is an option value (or a list for multi-selects and checkboxes), a user id for users
        selects, a date "YYYY-MM-DD" for date pickers.
        """
        return self._act_on_message(
            team_id, user_id, channel_id, message_ts, action_id, block_id, None, selected
        )

    def _act_on_message(
        self,
        team_id: str,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        block_id: str | None,
        button_value: str | None,
        selected: Any,
    ) -> httpx.Response:
        clicking = selected is None
        with self.store.lock:
            ws, user = self._who(team_id, user_id)
            message: Message | None = self.store.find_message(channel_id, message_ts)
            ephemeral: Ephemeral | None = None
            if message is None:
                ephemeral = self.store.find_ephemeral(user_id, message_ts)
                if ephemeral is None or ephemeral.channel != channel_id:
                    raise ActorError(f"no message {message_ts} in {channel_id} that {user_id} can see")
                channel = self.store.channels[channel_id]
            else:
                channel = self._channel_of(ws, user, channel_id)
            blocks = message.blocks if message is not None else ephemeral.blocks if ephemeral else None
            where = f"message {message_ts} in {channel_id}"
            block, element = find_element(
                blocks, action_id, block_id, where, button_value if clicking else None
            )
            kind = element.get("type")
            if clicking and kind not in ("button", "workflow_button"):
                raise ActorError(f"{action_id!r} is a {kind}; use select()")
            if not clicking and kind not in STATEFUL:
                raise ActorError(f"{action_id!r} is a {kind}; use click()")
            if not clicking:
                self._check_choice(ws, element, selected)
            entered: dict[str, dict[str, JSON]] = {}
            if not clicking and kind != "overflow":
                entered = {str(block["block_id"]): {action_id: state_entry(element, selected)}}
            # An answer to a click in a thread is shown in that thread.
            in_thread = (
                message.thread_ts if message is not None else ephemeral.thread_ts if ephemeral else None
            )
            hook = self.store.mint_response_url(
                team_id=team_id,
                user_id=user_id,
                channel_id=channel_id,
                source_ts=message_ts,
                source_ephemeral=message is None,
                thread_ts=in_thread,
            )
            trigger = self.store.mint_trigger(team_id, user_id)
            self.last_trigger_id = trigger.id
            action = action_item(block, element, selected, self.store.next_ts())
            payload = payloads.message_actions(
                self.store,
                ws,
                user,
                channel,
                message,
                ephemeral.blocks if ephemeral else None,
                message_ts,
                action,
                entered,
                trigger.id,
                self._hook_url(hook.id),
            )
        return self._post_interaction(payload)

    def suggest_in_message(
        self,
        team_id: str,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        block_id: str | None,
        value: str,
    ) -> list[JSON]:
        """Type `value` into an external select in a message: block_suggestion, the options answered."""
        with self.store.lock:
            ws, user = self._who(team_id, user_id)
            message = self.store.find_message(channel_id, message_ts)
            blocks = message.blocks if message is not None else None
            if message is None:
                ephemeral = self.store.find_ephemeral(user_id, message_ts)
                if ephemeral is None or ephemeral.channel != channel_id:
                    raise ActorError(f"no message {message_ts} in {channel_id} that {user_id} can see")
                blocks = ephemeral.blocks
                channel = self.store.channels[channel_id]
            else:
                channel = self._channel_of(ws, user, channel_id)
            block, element = find_element(blocks, action_id, block_id, f"message {message_ts}")
            if element.get("type") not in ("external_select", "multi_external_select"):
                raise ActorError(f"{action_id!r} is a {element.get('type')}, not an external select")
            least = int(element.get("min_query_length", 3))
            if len(value) < least:
                raise ActorError(f"Slack sends no block_suggestion before {least} characters are typed")
            payload = payloads.message_suggestion(
                self.store, ws, user, channel, message, message_ts, action_id, str(block["block_id"]), value
            )
        return self._options_answer(self._post_interaction(payload))

    def event(
        self,
        team_id: str,
        event: JSON,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> httpx.Response:
        """Deliver an Events API `event_callback`; resend with the same `event_id` and a `retry_num`."""
        with self.store.lock:
            ws = self.store.workspaces.get(team_id)
            if ws is None:
                raise ActorError(f"no workspace {team_id}")
            body = dict(event)
            body.setdefault("event_ts", self.store.next_ts())
            envelope = payloads.event_callback(self.store, ws, body, event_id or self.store.new_id("Ev"))
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self._post_json(envelope, headers)

    def open_home(self, team_id: str, user_id: str) -> httpx.Response:
        """The user opens the app's Home tab: sends `app_home_opened` (with the published view, if any)."""
        with self.store.lock:
            _, user = self._who(team_id, user_id)
            im, _ = self.store.open_im(team_id, user.id)
            event: JSON = {"type": "app_home_opened", "user": user.id, "channel": im.id, "tab": "home"}
            home = home_of(self.store, team_id, user.id)
            if home is not None:
                event["view"] = payloads.view_object(home)
        return self.event(team_id, event)

    def url_verification(self, challenge: str = "localslack-challenge") -> httpx.Response:
        """The handshake Slack makes when the request URL is saved."""
        body = {
            "token": self.store.app.verification_token,
            "challenge": challenge,
            "type": "url_verification",
        }
        return self._post_json(body)


def _command_answer(response: httpx.Response) -> JSON:
    """An app's immediate answer to a command: JSON message fields, or plain text."""
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            body = response.json()
        except json.JSONDecodeError:
            raise ActorError(
                f"the app answered the command with broken JSON {response.text[:200]!r}"
            ) from None
        if not isinstance(body, dict):
            raise ActorError(f"the app answered the command with {body!r}")
        return body
    return {"text": response.text}
