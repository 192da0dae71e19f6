"""`FakeSlack`: a local Slack running on 127.0.0.1 in a background thread, and the test-facing API.

Typical use: `with FakeSlack() as fake:`, then `ws = fake.add_workspace()` and
`WebClient(base_url=fake.api_url, token=ws.bot_token)`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from localslack.actor import Actor
from localslack.api import create_app
from localslack.background import BackgroundServer
from localslack.fake_reads import FakeSlackReads
from localslack.faults import Faults, RateLimit
from localslack.state import (
    AppConfig,
    Canvas,
    Channel,
    User,
    Workspace,
)
from localslack.store import Store


class FakeSlack(FakeSlackReads):
    """Seeds, runs and inspects a local Slack; everything is safe to call from the test thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, store: Store | None = None) -> None:
        self.store = store or Store()
        self.faults = Faults()
        self._host, self._port = host, port
        self._server: BackgroundServer | None = None
        self._actors: list[Actor] = []
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> FakeSlack:
        self._server = BackgroundServer(self._host, self._port)
        self.url = self._server.url
        self._server.start(create_app(self.store, self.faults, public_url=self.url), timeout)
        return self

    def stop(self) -> None:
        for actor in self._actors:
            actor.close()
        if self._server is not None:
            self._server.stop()
        self._server = None

    def reset(self) -> None:
        """Back to an empty Slack (no workspaces, app config, calls or faults), server still running.

        Lets a test session share one server: start it once, reset it before each test.
        """
        for actor in self._actors:
            actor.close()
        self._actors.clear()
        self.faults.clear()
        self.store.reset()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        """The Web API base URL (what SLACK_API_URL is set to; slack_sdk appends the method name)."""
        return f"{self.url}/api/"

    @property
    def authorize_url(self) -> str:
        """Where an OAuth install starts (bolt's OAuthSettings(authorization_url=...))."""
        return f"{self.url}/oauth/v2/authorize"

    # -- the app -----------------------------------------------------------------------------------

    def configure_app(
        self,
        request_url: str | None = None,
        signing_secret: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        app_id: str = "A0SCALEBOT",
        redirect_uri: str | None = None,
    ) -> AppConfig:
        with self.store.lock:
            app = self.store.app
            app.request_url, app.signing_secret = request_url, signing_secret
            app.client_id, app.client_secret = client_id, client_secret
            app.app_id, app.redirect_uri = app_id, redirect_uri
            return copy.deepcopy(app)

    def actor(
        self, request_url: str | None = None, signing_secret: str | None = None, timeout: float = 3.0
    ) -> Actor:
        """Users acting against the app's request URL (defaults: the configured app's)."""
        with self.store.lock:
            app = self.store.app
            app.request_url = app.request_url or request_url
            app.signing_secret = app.signing_secret or signing_secret
            url, secret = request_url or app.request_url, signing_secret or app.signing_secret
        if not url or not secret:
            raise ValueError("the actor needs a request_url and signing_secret (or configure_app first)")
        actor = Actor(self.store, url, secret, timeout=timeout)
        self._actors.append(actor)
        return actor

    # -- seeding -----------------------------------------------------------------------------------

    def add_workspace(self, team_id: str = "T0001", name: str = "Acme", domain: str = "acme") -> Workspace:
        """A workspace with the app installed: bot user `U…`, bot id `B…`, `workspace.bot_token`."""
        return copy.deepcopy(self.store.add_workspace(team_id, name, domain))

    def workspace(self, team_id: str) -> Workspace:
        return self._read(lambda: self.store.workspaces[team_id])

    def add_user(
        self,
        team_id: str,
        user_id: str,
        name: str,
        real_name: str | None = None,
        tz: str = "Europe/Berlin",
        is_admin: bool = False,
        is_owner: bool = False,
        display_name: str | None = None,
        email: str | None = None,
    ) -> User:
        ZoneInfo(tz)  # refuse unknown zones now rather than inside users.info
        user = User(
            id=user_id,
            team_id=team_id,
            name=name,
            real_name=real_name if real_name is not None else name,
            display_name=display_name if display_name is not None else name,
            tz=tz,
            email=email,
            is_admin=is_admin,
            is_owner=is_owner,
        )
        return copy.deepcopy(self.store.add_user(user))

    def add_channel(
        self,
        team_id: str,
        channel_id: str,
        name: str,
        members: Iterable[str] = (),
        bot_member: bool = True,
        is_private: bool = False,
    ) -> Channel:
        with self.store.lock:
            member_ids = list(dict.fromkeys(members))
            if bot_member:
                member_ids.append(self.store.workspaces[team_id].bot_user_id)
            for user_id in member_ids:
                if user_id not in self.store.users:
                    raise ValueError(f"unknown user {user_id}")
            channel = Channel(
                id=channel_id, team_id=team_id, name=name, members=member_ids, is_private=is_private
            )
            return copy.deepcopy(self.store.add_channel(channel))

    def join(self, channel_id: str, user_id: str) -> None:
        self.store.join(channel_id, user_id)

    def leave(self, channel_id: str, user_id: str) -> None:
        self.store.leave(channel_id, user_id)

    def add_bot_to(self, channel_id: str) -> None:
        with self.store.lock:
            team_id = self.store.channels[channel_id].team_id
            self.store.join(channel_id, self.store.workspaces[team_id].bot_user_id)

    def remove_bot_from(self, channel_id: str) -> None:
        with self.store.lock:
            team_id = self.store.channels[channel_id].team_id
            self.store.leave(channel_id, self.store.workspaces[team_id].bot_user_id)

    def revoke_tokens(self, team_id: str) -> None:
        """Uninstall: every token of the workspace answers `token_revoked`."""
        self.store.revoke_tokens(team_id)

    def deactivate_workspace(self, team_id: str) -> None:
        """Every call with the workspace's tokens answers `account_inactive`."""
        self.store.set_workspace_active(team_id, False)

    def set_status(self, user_id: str, text: str = "", emoji: str = "", expiration: float = 0) -> None:
        """The person's Slack status (as users.profile.get shows it); expiration 0: none. Empty clears."""
        with self.store.lock:
            user = self.store.users[user_id]
            user.status_text, user.status_emoji, user.status_expiration = text, emoji, int(expiration)

    def set_dnd(self, user_id: str, start: float = 0, end: float = 0, snooze_until: float = 0) -> None:
        """Do Not Disturb from `start` to `end` (epoch seconds; 0/0 turns it off), and a snooze that only
        the person themselves can see."""
        with self.store.lock:
            user = self.store.users[user_id]
            user.dnd_start, user.dnd_end, user.snooze_end = int(start), int(end), int(snooze_until)

    def deactivate_user(self, user_id: str) -> None:
        """The user is `deleted`, leaves every member list and their tokens stop working."""
        self.store.deactivate_user(user_id)

    def new_trigger_id(self, team_id: str, user_id: str) -> str:
        """A fresh trigger_id, as if `user_id` had just clicked or run a command (valid 3 s, once)."""
        return self.store.mint_trigger(team_id, user_id).id

    def new_response_url(
        self, team_id: str, user_id: str, channel_id: str, message_ts: str | None = None
    ) -> str:
        """A fresh response_url, as if `user_id` had just acted in `channel_id` (on `message_ts`)."""
        hook = self.store.mint_response_url(
            team_id=team_id, user_id=user_id, channel_id=channel_id, source_ts=message_ts
        )
        return f"{self.url}/hooks/response/{hook.id}"

    # -- faults and time ---------------------------------------------------------------------------

    def fail_next(self, method: str, error: str = "invalid_auth", times: int = 1) -> None:
        """The next `times` calls of `method` ("*" for any) answer `{"ok": false, "error": error}`."""
        self.faults.fail_next(method, error, times)

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls answer HTTP 429 with `Retry-After` and error `ratelimited`."""
        self.faults.rate_limit_next(method, retry_after, times)

    def stall_next(self, method: str, seconds: float, times: int = 1, after: int = 0) -> None:
        """The next `times` calls (after letting `after` through) wait `seconds` before being handled."""
        self.faults.stall_next(method, seconds, times, after)

    def stalls_left(self, method: str) -> int:
        """How many calls `stall_next` is still waiting for on `method` (0: the stalled ones arrived)."""
        return self.faults.left(method, "stall")

    def set_message_rate(self, per_channel_per_second: float | None) -> None:
        """Limit chat.postMessage per channel (Slack allows about 1 per second); None turns it off."""
        self.faults.set_message_rate(per_channel_per_second)

    def set_update_limit(self, limit: RateLimit | None) -> None:
        """Limit chat.update per workspace: a token bucket, by default `UPDATE_LIMIT` (a burst of 20,
        then 50 a minute, as Slack's Tier 3); beyond it 429 `ratelimited` with Retry-After. None turns
        it off; `reset()` and `clear_faults()` restore the default."""
        self.faults.set_update_limit(limit)

    def set_tier_limit(self, method: str, limit: RateLimit | None) -> None:
        """Limit a tiered method (users.profile.get, dnd.info, dnd.teamInfo) per workspace; None: none."""
        self.faults.set_tier_limit(method, limit)

    def clear_faults(self) -> None:
        self.faults.clear()

    def advance_time(self, seconds: float) -> None:
        """Age triggers, response_urls and OAuth codes without sleeping."""
        self.store.advance(seconds)

    def set_canvas_plan(self, team_id: str, plan: str) -> None:
        """ "paid" (every canvas), "free" (no channel canvases) or "disabled" (canvases turned off)."""
        with self.store.lock:
            self.store.workspaces[team_id].canvas_plan = plan
            self.store.touch()

    def add_person_canvas(self, channel_id: str, user_id: str, markdown: str) -> str:
        """A channel canvas a person made (the bot must never overwrite it); returns its id."""
        with self.store.lock:
            channel = self.store.channels[channel_id]
            now = int(self.store.now())
            canvas = Canvas(
                self.store.new_id("F"),
                channel.team_id,
                user_id,
                "Channel canvas",
                markdown,
                now,
                now,
                channel_id=channel_id,
                is_channel_canvas=True,
            )
            self.store.canvases[canvas.id] = canvas
            channel.canvas_id = canvas.id
            self.store.touch()
            return canvas.id
