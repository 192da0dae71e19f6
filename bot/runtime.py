"""The process's services in one place: settings, config, database, cache, clock, Slack clients."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from bot import http_pool
from bot.config import AppConfig, load_and_check
from bot.settings import Mode, Settings
from bot.slack_api import InstrumentedWebClient, SlackClients, WorkspaceInactiveError
from bot.telemetry import Telemetry
from common.clock import Clock, SystemClock
from common.redact import redactor
from storage import installations
from storage.cache import Cache, make_cache
from storage.db import Database

if TYPE_CHECKING:
    from bot.scheduler import Scheduler

log = logging.getLogger(__name__)

STOPPED_RECHECK = 5.0  # seconds between re-reads of the one workspace's state (other replicas' events)
RECOVERY_TOKEN = "set SLACK_BOT_TOKEN to a new bot token (reinstall the app to get one) and restart"  # noqa: S105
RECOVERY_OAUTH = "the workspace's admin reinstalls the app from /slack/install"


@dataclass(eq=False)
class Runtime:
    """Built once per process and handed to listeners and jobs; never mutated after start-up."""

    settings: Settings
    config: AppConfig
    db: Database
    cache: Cache
    clock: Clock
    telemetry: Telemetry
    slack: SlackClients = field(init=False)
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    scheduler: Scheduler | None = None
    # Single-workspace modes: the workspace the configured token belongs to, and why it stopped.
    token_workspace: str | None = None
    stopped_reason: str | None = None
    _stopped_checked: float = 0.0

    def __post_init__(self) -> None:
        self.slack = SlackClients(
            self.settings.slack_api_url, self.telemetry, on_dead_token=self.on_dead_token
        )

    def __deepcopy__(self, memo: dict[int, object]) -> Runtime:
        return self  # shared services; Bolt deep-copies context for lazy listeners

    @property
    def mode(self) -> Mode:
        return self.settings.mode

    async def client_for(self, workspace_id: str) -> InstrumentedWebClient:
        """A Web API client acting as the bot in this workspace; refuses inactive workspaces."""
        if self.single_workspace and self.settings.slack_bot_token is not None:
            if (reason := await self.stopped()) is not None:
                raise WorkspaceInactiveError(workspace_id, reason)
            return self.slack.client(self.settings.slack_bot_token.get_secret_value(), workspace_id)
        row = await self.db.run(installations.find_installation, workspace_id)
        if row is None:
            raise WorkspaceInactiveError(workspace_id, "not installed or inactive")
        redactor.add(row.bot_token)
        return self.slack.client(row.bot_token, workspace_id)

    @property
    def single_workspace(self) -> bool:
        return self.mode in (Mode.HTTP, Mode.SOCKET)

    async def on_dead_token(self, workspace_id: str | None, error: str) -> None:
        """Slack says the token no longer works: stop acting for that workspace until it reinstalls."""
        workspace_id = workspace_id or (self.token_workspace if self.single_workspace else None)
        if workspace_id is None:
            log.error("Slack refused the bot token", extra={"error": error, "recovery": RECOVERY_TOKEN})
            self.stopped_reason = error
            return
        await self.deactivate_workspace(workspace_id, error)

    async def deactivate_workspace(self, workspace_id: str, reason: str) -> bool:
        if self.single_workspace:
            self.stopped_reason = reason  # the one token: nothing more is sent with it, at once
        changed = await self.db.run(installations.deactivate, workspace_id, reason, self.clock.now())
        await self.db.run(installations.forget_token, workspace_id)  # tokens at once
        if self.scheduler is not None:
            await self.scheduler.remove_workspace_jobs(workspace_id)
        if changed and reason == "app_uninstalled":
            from bot.uninstall.jobs import schedule_deletion

            await schedule_deletion(self, workspace_id)
        if changed:
            log.warning(
                "workspace deactivated: nothing more is sent there",
                extra={
                    "workspace": workspace_id,
                    "reason": reason,
                    "recovery": RECOVERY_TOKEN if self.single_workspace else RECOVERY_OAUTH,
                },
            )
        return changed

    async def stopped(self) -> str | None:
        """Single-workspace modes: why the one workspace is inactive (its row, re-read every few
        seconds so that every replica stops), or None while it is active."""
        if not self.single_workspace:
            return None
        now = time.monotonic()
        if self.token_workspace is not None and now - self._stopped_checked >= STOPPED_RECHECK:
            self._stopped_checked = now
            row = await self.db.run(installations.find_installation, self.token_workspace, active_only=False)
            if row is not None and not row.active:
                self.stopped_reason = row.deactivated_reason or "inactive"
        return self.stopped_reason

    async def close(self) -> None:
        await http_pool.close_all()
        await self.slack.close()
        await self.cache.close()
        self.db.close()


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    config: AppConfig | None = None,
    cache: Cache | None = None,
) -> Runtime:
    """Read the config file and open the database and cache the settings name."""
    redactor.add(*settings.secret_values())
    return Runtime(
        settings=settings,
        config=config if config is not None else load_and_check(settings.scalebot_config),
        db=Database(settings.database_url),
        cache=cache if cache is not None else make_cache(settings.redis),
        clock=clock or SystemClock(),
        telemetry=Telemetry(),
    )


S = TypeVar("S")


def one_per_runtime(make: Callable[[Runtime], S]) -> Callable[[Runtime], S]:
    """`service_for(rt)`: one service (and so one redraw engine) per running app, made on first use."""
    made: weakref.WeakKeyDictionary[Runtime, S] = weakref.WeakKeyDictionary()

    def service_for(rt: Runtime) -> S:
        found = made.get(rt)
        if found is None:
            found = made[rt] = make(rt)
        return found

    return service_for
