"""The console: one workspace as people in a browser see and use it.

`Console` reads what a user can see (a `Scene`) and turns what they do in the page into the actor's
actions, so every click reaches the app as the signed request Slack would send. Its methods block
(the actor is synchronous and waits for the app's answer): call them from a worker thread.
"""

from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from localslack import away_commands
from localslack.actor import Actor
from localslack.console_checks import client_error, coerce
from localslack.console_html import Scene
from localslack.elements import ActorError, find_element, is_empty, state_values
from localslack.methods.views import home_of, modal_stack, open_modal_of
from localslack.mrkdwn import text_object_plain
from localslack.state import JSON, Canvas, Channel, Ephemeral, Message, View
from localslack.store import Store

REQUIRED = "Please complete this required field."


def channel_canvases(store: Store, channel: Channel | None) -> list[Canvas]:
    """The channel's own canvas first, then the canvases tabbed into it."""
    if channel is None or channel.is_im:
        return []
    ids = ([channel.canvas_id] if channel.canvas_id else []) + channel.canvas_tabs
    return [store.canvases[i] for i in ids if i in store.canvases]


@dataclass
class Outcome:
    """What the page shows after an action: nothing (the app's answer arrives by polling) or a note."""

    ok: bool = True
    error: str | None = None
    errors: dict[str, str] | None = None
    options: list[JSON] | None = None
    since: float | None = None

    def to_json(self) -> JSON:
        out: JSON = {"ok": self.ok}
        for key in ("error", "errors", "options", "since"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


class Console:
    """A workspace of `store` seen by its people; `actor` delivers what they do to the app."""

    def __init__(
        self,
        store: Store,
        team_id: str,
        commands: tuple[str, ...] = ("/scale-check",),
        origin: str = "",
        default_user: str | None = None,
        default_channel: str | None = None,
    ) -> None:
        self.store = store
        self.team_id = team_id
        self.commands = commands
        self.origin = origin
        self.default_user, self.default_channel = default_user, default_channel
        self.actor: Actor | None = None
        self.notes: tuple[str, ...] = ()  # shown in the page's header, after "local workspace"
        # Errors Slack's own client shows in a modal before sending anything, by view id and hash.
        self._client_errors: dict[str, tuple[str, dict[str, str]]] = {}

    # -- reading ---------------------------------------------------------------------------------

    def people(self) -> list[str]:
        with self.store.lock:
            return [
                u.id
                for u in self.store.users.values()
                if u.team_id == self.team_id and not u.is_bot and not u.deleted
            ]

    def scene(self, user_id: str, channel_id: str | None, thread_ts: str | None, surface: str) -> Scene:
        """Everything `user_id` sees with that channel (or the app's Home/Messages) open."""
        store = self.store
        with store.lock:
            ws = store.workspaces[self.team_id]
            users = {u.id: u for u in store.users.values() if u.team_id == self.team_id}
            people = [u for u in users.values() if not u.is_bot and not u.deleted]
            user = users.get(user_id) or users.get(self.default_user or "")
            if user is None or user.is_bot or user.deleted:
                user = sorted(people, key=lambda u: u.id)[0] if people else None
            if user is None:
                raise LookupError("the workspace has nobody to act as")
            mine = sorted(
                (c for c in store.channels.values() if c.team_id == self.team_id and user.id in c.members),
                key=lambda c: c.name,
            )
            public = [c for c in mine if not c.is_im and not c.is_mpim]
            im = next((c for c in mine if c.is_im and c.im_user == user.id), None)
            if surface in ("home", "messages"):
                channel = im if surface == "messages" else None
            else:
                surface = "canvas" if surface == "canvas" else "channel"
                wanted = [channel_id, self.default_channel]
                channel = next(
                    (c for w in wanted for c in public if c.id == w), public[0] if public else None
                )
            messages = list(store.messages.get(channel.id, [])) if channel else []
            if thread_ts and not any(m.ts == thread_ts for m in messages):
                thread_ts = None
            ephemerals = [
                e for e in store.ephemerals if channel and e.user == user.id and e.channel == channel.id
            ]
            modal = open_modal_of(store, self.team_id, user.id)
            depth = len(modal_stack(store, modal)) if modal else 0
            home = home_of(store, self.team_id, user.id)
            file_ids = {f for m in messages for f in m.files}
            files = {f: store.files[f] for f in file_ids if f in store.files}
            errors = self._client_errors.get(modal.id) if modal else None
            scene = Scene(
                workspace=ws,
                user=user,
                users=users,
                channels=mine,
                channel=channel,
                messages=messages,
                ephemerals=ephemerals,
                thread_ts=thread_ts if surface == "channel" else None,
                modal=modal,
                modal_depth=depth,
                home=home,
                im=im,
                surface=surface,
                files=files,
                now=store.now(),
                client_errors=errors[1] if errors and modal and errors[0] == modal.hash else {},
                origin=self.origin,
                files_prefix=f"{store.public_url}/files-pri/",
                notes=self.notes,
                canvases=channel_canvases(store, channel),
            )
            return copy.deepcopy(scene)

    def file(self, file_id: str) -> tuple[str, bytes] | None:
        with self.store.lock:
            stored = self.store.files.get(file_id)
            if stored is None or stored.team_id != self.team_id or not stored.uploaded:
                return None
            return stored.filename, stored.content

    # -- acting ----------------------------------------------------------------------------------

    def _actor(self) -> Actor:
        if self.actor is None:
            raise RuntimeError("the console is not connected to the app yet")
        return self.actor

    def _slackbot(self, user_id: str, channel_id: str, text: str) -> None:
        self.store.add_ephemeral(
            Ephemeral(channel=channel_id, user=user_id, ts="", text=text, source="slackbot")
        )

    def send(self, user_id: str, channel_id: str, text: str, thread_ts: str | None = None) -> Outcome:
        """The message box: a slash command, or a plain message from the user."""
        text = text.strip()
        if not text:
            return Outcome()
        since = self.store.now()
        if text.startswith("/"):
            command, _, args = text.partition(" ")
            if command in away_commands.COMMANDS:  # Slack's own, handled by the (local) Slack
                self._slackbot(user_id, channel_id, away_commands.run(self.store, user_id, command, args))
                return Outcome(since=since)
            if command not in self.commands:
                self._slackbot(
                    user_id,
                    channel_id,
                    f"`{command}` is not a valid command. In Slack, all messages that start with the "
                    f'"/" character are interpreted as commands. Try `{self.commands[0]}`.',
                )
                return Outcome(since=since)
            try:
                response = self._actor().slash_command(
                    self.team_id, user_id, channel_id, text=args.strip(), command=command
                )
            except httpx.TimeoutException:
                self._slackbot(user_id, channel_id, f'`{command}` failed with the error "operation_timeout"')
                return Outcome(since=since)
            except ActorError as exc:
                return Outcome(ok=False, error=str(exc))
            if response.status_code != 200:
                self._slackbot(user_id, channel_id, f'`{command}` failed with the error "dispatch_failed"')
            return Outcome(since=since)
        with self.store.lock:
            channel = self._channel(user_id, channel_id)
            escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            self.store.add_message(
                Message(
                    channel=channel.id,
                    ts="",
                    text=escaped,
                    user=user_id,
                    team=self.team_id,
                    thread_ts=thread_ts,
                )
            )
        return Outcome(since=since)

    def _channel(self, user_id: str, channel_id: str) -> Channel:
        channel = self.store.channels.get(channel_id)
        if channel is None or channel.team_id != self.team_id or user_id not in channel.members:
            raise ActorError(f"{user_id} cannot post in {channel_id}")
        return channel

    def click(
        self, user_id: str, channel_id: str, ts: str, action_id: str, block_id: str, value: str | None
    ) -> Outcome:
        return self._deliver(
            lambda a: a.click(self.team_id, user_id, channel_id, ts, action_id, value, block_id or None)
        )

    def select(
        self, user_id: str, channel_id: str, ts: str, action_id: str, block_id: str, chosen: Any
    ) -> Outcome:
        def act(actor: Actor) -> httpx.Response:
            with self.store.lock:
                message = self.store.find_message(channel_id, ts)
                source = message or self.store.find_ephemeral(user_id, ts)
                blocks = source.blocks if source is not None else None
                _, element = find_element(blocks, action_id, block_id or None)
                selected = coerce(element, chosen, self._zone(user_id))
            return actor.select(self.team_id, user_id, channel_id, ts, action_id, selected, block_id or None)

        return self._deliver(act)

    def _deliver(self, act: Any) -> Outcome:
        try:
            response = act(self._actor())
        except httpx.TimeoutException:
            return Outcome(ok=False, error="The app did not answer within 3 seconds.")
        except ActorError as exc:
            return Outcome(ok=False, error=str(exc))
        finally:
            self.store.touch()
        if response is not None and response.status_code != 200:
            return Outcome(ok=False, error=f"The app answered with HTTP {response.status_code}.")
        return Outcome()

    def _zone(self, user_id: str) -> ZoneInfo:
        user = self.store.users.get(user_id)
        try:
            return ZoneInfo(user.tz if user else "UTC")
        except (KeyError, ValueError):
            return ZoneInfo("UTC")

    def _view(self, user_id: str, view_id: str) -> View:
        view = self.store.views.get(view_id)
        if view is None or view.user_id != user_id or view.team_id != self.team_id:
            raise ActorError(f"{user_id} has no view {view_id}")
        return view

    def _fill(self, user_id: str, view_id: str, values: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Type what the page holds into the view, as Slack's client keeps it; returns its complaints."""
        errors: dict[str, str] = {}
        zone = self._zone(user_id)
        for block_id, by_action in (values or {}).items():
            for action_id, raw in (by_action or {}).items():
                with self.store.lock:
                    view = self._view(user_id, view_id)
                    try:
                        _, element = find_element(view.spec.get("blocks"), action_id, block_id)
                    except ActorError:
                        continue  # the view changed under the page; the new one is on its way
                    value = coerce(element, raw, zone)
                    problem = client_error(element, value)
                if problem:
                    errors[block_id] = problem
                    continue
                try:
                    self._actor().fill(self.team_id, user_id, view_id, {block_id: {action_id: value}})
                except ActorError as exc:
                    errors[block_id] = _sentence(str(exc))
        return errors

    def view_action(
        self,
        user_id: str,
        view_id: str,
        action_id: str,
        block_id: str,
        value: str | None,
        chosen: Any,
        values: dict[str, dict[str, Any]],
        kind: str,
    ) -> Outcome:
        """A button or a choice in a modal or the Home tab (block_actions with a view container)."""
        self._fill(user_id, view_id, values)

        def act(actor: Actor) -> httpx.Response | None:
            if kind == "click":
                return actor.click_in_view(self.team_id, user_id, view_id, action_id, value, block_id or None)
            with self.store.lock:
                view = self._view(user_id, view_id)
                _, element = find_element(view.spec.get("blocks"), action_id, block_id or None)
                selected = coerce(element, chosen, self._zone(user_id))
            return actor.select_in_view(self.team_id, user_id, view_id, action_id, selected, block_id or None)

        return self._deliver(act)

    def submit(self, user_id: str, view_id: str, values: dict[str, dict[str, Any]]) -> Outcome:
        """Submit: Slack's client checks required and malformed inputs first, then the app answers."""
        errors = self._fill(user_id, view_id, values)
        with self.store.lock:
            view = self._view(user_id, view_id)
            full = state_values(view.spec.get("blocks"), view.state)
            for block in view.spec.get("blocks") or []:
                if block.get("type") != "input" or block.get("optional"):
                    continue
                block_id = str(block.get("block_id"))
                entries = full.get(block_id, {})
                if block_id not in errors and (not entries or all(is_empty(e) for e in entries.values())):
                    errors[block_id] = REQUIRED
            if errors:
                self._client_errors[view_id] = (view.hash, errors)
                self.store.touch()
                return Outcome(ok=False, errors=errors)
            self._client_errors.pop(view_id, None)
        try:
            submission = self._actor().submit_view(self.team_id, user_id, view_id)
        except httpx.TimeoutException:
            return Outcome(ok=False, error="The app did not answer within 3 seconds.")
        except ActorError as exc:
            return Outcome(ok=False, error=str(exc))
        finally:
            self.store.touch()
        if submission.response.status_code != 200:
            return Outcome(ok=False, error=f"The app answered with HTTP {submission.response.status_code}.")
        return Outcome(ok=submission.errors is None, errors=submission.errors)

    def close(self, user_id: str, view_id: str) -> Outcome:
        return self._deliver(lambda a: a.close_view(self.team_id, user_id, view_id))

    def suggest(self, user_id: str, container: JSON, action_id: str, block_id: str, query: str) -> Outcome:
        """An external select's options for what the user typed, from the app's block_suggestion answer."""
        actor = self._actor()
        try:
            if container.get("view_id"):
                options = actor.suggest(
                    self.team_id, user_id, str(container["view_id"]), action_id, block_id or None, query
                )
            else:
                options = actor.suggest_in_message(
                    self.team_id,
                    user_id,
                    str(container.get("channel")),
                    str(container.get("ts")),
                    action_id,
                    block_id or None,
                    query,
                )
        except httpx.TimeoutException:
            return Outcome(ok=False, error="The app did not answer within 3 seconds.")
        except ActorError as exc:
            return Outcome(ok=False, error=str(exc))
        shown = [{"label": text_object_plain(o.get("text")), "option": o} for o in options]
        return Outcome(options=shown)

    def open_home(self, user_id: str) -> Outcome:
        return self._deliver(lambda a: a.open_home(self.team_id, user_id))

    def dismiss(self, user_id: str, ts: str) -> Outcome:
        with self.store.lock:
            ephemeral = self.store.find_ephemeral(user_id, ts)
            if ephemeral is not None:
                self.store.remove_ephemeral(ephemeral)
        return Outcome()


_PREFIX = re.compile(r"^'[^']*' ")


def _sentence(actor_error: str) -> str:
    """An actor complaint as the short sentence Slack's client would show under the input."""
    text = _PREFIX.sub("", actor_error)
    return html.unescape(text[:1].upper() + text[1:]) if text else "This value is not accepted."
