"""Local mode: the bot and an embedded Slack workspace in one process, with the console at `/console`.

With no Slack credentials `create_app` calls `install_local`, which
- mounts the local Slack's Web API (and response URLs, uploads) under `/localslack/`, and points the
  runtime's real `slack_sdk` clients at it over HTTP on loopback;
- keeps the workspace's state in the bot's own database (`storage/localslack.py`): restored at
  start-up, seeded with a few channels and people on the first run, saved shortly after every change
  and at shutdown;
- on that first run, also stores what the setup modal would (`seed_setup`): #payments and #search as
  teams led by Ana and managed by Maria, and #eng-managers as the digest's channel with Maria getting
  its DM copy, so that the console's manager can run `/scale-check setup` and `digest now` at once;
- installs the bot into that workspace (an installation row, as an OAuth install would leave);
- on that first run, once the server answers, has Ana plan a launch three weeks out in #search the way
  anyone would (`/scale-check launch`, then its modal, through the actor), so the console shows a
  launch's message with its timeline (`seed_launch`);
- on that first run, has people make Search's calibration record through the console's actor: a
  pre-mortem started, answered, voted and closed, then `/scale-check incident` (`bot/localseed.py`);
- serves the console, whose every click reaches `/slack/events` as a request signed with this
  session's signing secret by the local Slack's actor, exactly as Slack would send it;
- when the config declares no metrics sources, serves the demo metrics source (`bot/localdemo.py`) at
  `/demo-prometheus` and declares it, so #payments and #search show numbers from the first start.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import FastAPI

from bot.digest.jobs import ensure_workspace
from bot.localdemo import PREFIX as DEMO_PREFIX
from bot.localdemo import LocalDemo, keep_past_weeks, wants_demo
from bot.localseed import seed_calibration
from bot.logs import redactor
from bot.manifest import BOT_SCOPES
from bot.setup.rules import TeamSetup
from demometrics import create_router as create_demo_router
from localslack import Actor, Channel, Faults, Store, User, create_router
from localslack.console import Console
from localslack.console_routes import create_console_router
from storage import digest as digest_repo
from storage import installations
from storage import localslack as repo
from storage import teams as teams_repo

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.app import AppState
    from bot.config import AppConfig

log = logging.getLogger(__name__)

TEAM_ID = "T0LOCAL"
WORKSPACE_NAME = "Acme (local)"
PREFIX = "/localslack"
HOOKS = f"{PREFIX}/hooks/response/"
DEFAULT_URL = "http://127.0.0.1:3000"
SAVE_EVERY = 0.5  # seconds between checks for unsaved changes
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "[::1]"}

BANNER = (
    "Local mode: no Slack credentials, so scalebot runs its own workspace (stored in the database).\n"
    "  Open {url}/console and type /scale-check"
)

# (id, handle, real name, time zone, workspace admin): a tech lead, a manager, a member, an admin.
PEOPLE = (
    ("U0LEAD", "ana", "Ana Lead", "Europe/Berlin", False),
    ("U0MANAGER", "maria", "Maria Manager", "Europe/London", False),
    ("U0MEMBER", "sam", "Sam Member", "America/New_York", False),
    ("U0ADMIN", "ada", "Ada Admin", "Asia/Tokyo", True),
)
CHANNELS = (("C0PAYMENTS", "payments"), ("C0SEARCH", "search"), ("C0ENGMGRS", "eng-managers"))
DEMO_BANNER = (
    "\n  Demo data: #payments and #search read generated metrics from the local demo source"
    " (the config declares no metrics sources)"
)
DEMO_NOTE = "Demo data: generated metrics served by the local demo source"
LEAD, MANAGER, MEMBER, ADMIN = "U0LEAD", "U0MANAGER", "U0MEMBER", "U0ADMIN"
# (channel, team name) set up on the first run, and the digest's channel, day, time and zone (Maria's).
TEAMS = (("C0PAYMENTS", "Payments"), ("C0SEARCH", "Search"))
DIGEST = ("C0ENGMGRS", "monday", "09:00", "Europe/London")


def seed(store: Store) -> None:
    """The workspace a newcomer starts with: the app installed, three channels, four people."""
    ws = store.add_workspace(TEAM_ID, WORKSPACE_NAME, "acme-local")
    for user_id, handle, real_name, tz, admin in PEOPLE:
        store.add_user(
            User(
                id=user_id,
                team_id=TEAM_ID,
                name=handle,
                real_name=real_name,
                display_name=real_name.split()[0],
                tz=tz,
                is_admin=admin,
            )
        )
    members = [p[0] for p in PEOPLE] + [ws.bot_user_id]
    for channel_id, name in CHANNELS:
        store.add_channel(Channel(id=channel_id, team_id=TEAM_ID, name=name, members=list(members)))


def seed_setup(session: Session, config: AppConfig, now: datetime) -> None:
    """What an admin would save in the setup modal on day one: the two teams (Ana leads, Maria manages)
    and the weekly digest in #eng-managers with Maria's DM copy, stored as the modal stores them."""
    for channel, name in TEAMS:
        team = TeamSetup(
            channel=channel,
            name=name,
            source=None,
            service=None,
            signals=(),
            leads=(LEAD,),
            managers=(MANAGER,),
        )
        teams_repo.save_setup(session, TEAM_ID, channel, team.stored(config), ADMIN, now)
    channel, day, time, zone = DIGEST
    digest_repo.save_schedule(session, TEAM_ID, channel, day, time, zone, [MANAGER], ADMIN, now)


# What, days ahead, expected multiple; in #search (a team Ana leads), leaving #payments, where the console
# opens, as it was.
LAUNCH = ("Search autocomplete", 21, "10")
SEED_WAIT = 30.0  # seconds the first run waits for its own server to answer


def seed_launch(actor: Actor, store: Store, today: date) -> None:
    """Ana plans a launch in #search through the command and its modal, as a person would."""
    channel = CHANNELS[1][0]
    with store.lock:
        before = set(store.views)
    deadline = time.monotonic() + SEED_WAIT
    while True:
        try:
            actor.slash_command(TEAM_ID, LEAD, channel, "launch")
            break
        except httpx.TransportError:  # the server is still starting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    while True:
        with store.lock:
            opened = [
                v.id
                for v in store.views.values()
                if v.id not in before and v.user_id == LEAD and v.status == "open"
            ]
        if opened:
            break
        if time.monotonic() > deadline:
            raise TimeoutError("the launch modal did not open")
        time.sleep(0.1)
    what, days, multiple = LAUNCH
    values = {
        "what": {"value": what},
        "date": {"date": (today + timedelta(days=days)).isoformat()},
        "multiple": {"multiple": multiple},
    }
    actor.submit_view(TEAM_ID, LEAD, opened[-1], values)
    while True:  # the bot plans it after the modal closes: done once its thread says so
        with store.lock:
            planned = any(
                "planned this launch" in m.text for m in store.messages.get(channel, []) if m.thread_ts
            )
        if planned or time.monotonic() > deadline:
            return
        time.sleep(0.1)


def self_url(host: str, port: int) -> str:
    """Where this server reaches itself: loopback when it listens on every interface."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return f"http://127.0.0.1:{port}"  # a name such as localhost
    if address.is_unspecified:
        return f"http://127.0.0.1:{port}"
    return f"http://[{address}]:{port}" if address.version == 6 else f"http://{address}:{port}"


@dataclass(eq=False)
class LocalWorkspace:
    """The embedded workspace of one server process."""

    state: AppState
    store: Store = field(default_factory=Store)
    faults: Faults = field(default_factory=Faults)
    url: str = DEFAULT_URL
    allow_remote: bool = False
    console: Console = field(init=False)
    pool: ThreadPoolExecutor = field(init=False)
    actor: Actor | None = None
    demo: LocalDemo | None = None
    _saver: asyncio.Task[None] | None = None
    _past_weeks: asyncio.Task[None] | None = None
    seed_history: bool = True  # on the first run, Search's calibration record (bot/localseed.py)
    _history: asyncio.Future[None] | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _seeder: asyncio.Task[None] | None = None
    _first_run: bool = False
    _saved_revision: int = -1

    def __post_init__(self) -> None:
        self.console = Console(
            self.store, TEAM_ID, origin=self.url, default_user=PEOPLE[0][0], default_channel=CHANNELS[0][0]
        )
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="localslack")

    @property
    def hosts(self) -> set[str] | None:
        """Host header names the console answers (every name when serving beyond loopback)."""
        return None if self.allow_remote else LOOPBACK_NAMES

    def serve_at(self, url: str, allow_remote: bool) -> None:
        self.url, self.allow_remote = url.rstrip("/"), allow_remote
        self.console.origin = self.url
        self._point_clients()

    def _point_clients(self) -> None:
        api = f"{self.url}{PREFIX}/api/"
        self.state.rt.slack.base_url = api
        self.state.bolt.client.base_url = api
        self.store.public_url = f"{self.url}{PREFIX}"
        if self.demo is not None:  # before start-up, so every reader sees one config
            self.state.rt.config = self.demo.config_for(self.url)

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self, app: FastAPI) -> None:
        rt = self.state.rt
        loop = asyncio.get_running_loop()
        saved = await rt.db.run(repo.load_state, TEAM_ID)
        self._first_run = saved is None
        if saved is None:
            await loop.run_in_executor(self.pool, seed, self.store)
            await rt.db.run(seed_setup, rt.config, rt.clock.now())
            log.info("local workspace created", extra={"workspace": TEAM_ID})
            if self.demo is not None:
                self._past_weeks = asyncio.create_task(
                    keep_past_weeks(rt, f"{self.url}/healthz", TEAM_ID), name="demo-past-weeks"
                )
        else:
            await loop.run_in_executor(self.pool, self._restore, saved)
            log.info("local workspace restored", extra={"workspace": TEAM_ID})
        secret = self.state.signing_secret or ""
        with self.store.lock:
            self.store.app.request_url = f"{self.url}/slack/events"
            self.store.app.signing_secret = secret
            ws = self.store.workspaces[TEAM_ID]
            bot_token, bot_id, bot_user_id = ws.bot_token, ws.bot_id, ws.bot_user_id
        self._point_clients()
        redactor.add(bot_token, secret)
        row = installations.InstallationRow(
            workspace_id=TEAM_ID,
            workspace_name=WORKSPACE_NAME,
            app_id=self.store.app.app_id,
            bot_token=bot_token,
            bot_id=bot_id,
            bot_user_id=bot_user_id,
            bot_scopes=",".join(BOT_SCOPES),
            source="local",
            installed_at=rt.clock.now(),
        )
        await rt.db.run(installations.save_installation, row)
        if self.demo is not None:  # a few weeks of history, made before the first question needs it
            await loop.run_in_executor(self.demo.source.pool, self.demo.source.engine)
        self.actor = Actor(self.store, f"{self.url}/slack/events", secret, timeout=3.0)
        self.console.actor = self.actor
        await self.save()
        self._saver = asyncio.create_task(self._save_often(), name="localslack-save")
        await ensure_workspace(rt, TEAM_ID)  # the digest's job, now that the workspace is installed
        if saved is None and self.seed_history:  # people acting in #search: a pre-mortem, what broke
            self._history = asyncio.get_running_loop().run_in_executor(
                self.pool,
                seed_calibration,
                self.store,
                # its own actor, patient with a busy machine (the console's gives up after 3 s)
                Actor(self.store, f"{self.url}/slack/events", secret, timeout=30.0),
                self._stopping,
                f"{self.url}/healthz",
                TEAM_ID,
                ADMIN,
                MANAGER,
                MEMBER,
            )
        if self._first_run:
            self._seeder = asyncio.create_task(self._seed_launch(), name="localslack-seed-launch")

    async def _seed_launch(self) -> None:
        assert self.actor is not None
        # An actor of its own: the console's keeps what its person last sent.
        actor = Actor(self.store, self.actor.request_url, self.state.signing_secret or "", timeout=10.0)
        try:
            today = self.state.rt.clock.now().date()
            await asyncio.get_running_loop().run_in_executor(self.pool, seed_launch, actor, self.store, today)
        except Exception:
            log.warning("could not plan the local workspace's sample launch", exc_info=True)
        finally:
            actor.close()

    @property
    def sample_launch_planned(self) -> bool:
        """Whether the first run's sample launch is done being planned (or there is none to plan)."""
        return self._seeder is None or self._seeder.done()

    def _restore(self, saved: str) -> None:
        self.store.restore(json.loads(saved))

    async def stop(self, app: FastAPI) -> None:
        self._stopping.set()
        for task in (self._seeder, self._saver, self._past_weeks):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.save()
        if self.actor is not None:
            self.actor.close()
        self.console.actor = None
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.demo is not None:
            self.demo.source.pool.shutdown(wait=False, cancel_futures=True)

    async def _save_often(self) -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY)
            try:
                await self.save()
            except Exception:  # a locked database now and then: the next round saves it
                log.warning("could not save the local workspace", exc_info=True)

    async def save(self) -> None:
        """Write the workspace to the database if it changed since the last save."""
        revision = self.store.revision
        if revision == self._saved_revision:
            return
        data = await asyncio.get_running_loop().run_in_executor(self.pool, self._dump)
        await self.state.rt.db.run(repo.save_state, TEAM_ID, data, self.state.rt.clock.now())
        self._saved_revision = revision

    def _dump(self) -> str:
        store = self.store
        with store.lock:
            # Logs of calls are for tests; the console keeps only recent ones and saves none.
            del store.calls[:-500]
            del store.response_url_posts[:-100]
            snapshot: dict[str, Any] = store.snapshot()
        snapshot["calls"], snapshot["response_url_posts"] = [], []
        snapshot["app"]["signing_secret"] = None  # a new one each session
        return json.dumps(snapshot, separators=(",", ":"))


class _AccessLog(logging.Filter):
    """The console's page polls its state a few times a second, and the bot reads the demo metrics source
    for every answer: the access log need not say so. And a response URL's path is a credential for 30
    minutes: the log shows it without its id."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not (isinstance(args, tuple) and len(args) > 2):
            return True
        path = str(args[2])
        if path.startswith("/console/api/state") or path.startswith(DEMO_PREFIX):
            return False  # the page's polling, and the bot's own reads of the demo metrics source
        if path.startswith(HOOKS):
            record.args = (*args[:2], HOOKS + "[redacted]", *args[3:])
        return True


_QUIET = _AccessLog()


def install_local(app: FastAPI, state: AppState) -> LocalWorkspace:
    """Mount the embedded workspace and the console on the bot's app (see the module docstring)."""
    access = logging.getLogger("uvicorn.access")
    if _QUIET not in access.filters:
        access.addFilter(_QUIET)
    local = LocalWorkspace(state)
    if wants_demo(state.rt.config):
        local.demo = LocalDemo(state.rt.config, state.rt.clock)
        local.console.notes = (DEMO_NOTE,)
        app.include_router(create_demo_router(local.demo.source), prefix=DEMO_PREFIX)
    app.include_router(create_router(local.store, local.faults), prefix=PREFIX)
    app.include_router(create_console_router(local.console, local.pool, lambda: local.hosts))
    app.state.startup_hooks.append(local.start)
    app.state.shutdown_hooks.append(local.stop)
    state.extras["local"] = local
    state.extras["local_banner"] = BANNER + (DEMO_BANNER if local.demo is not None else "")
    local.serve_at(DEFAULT_URL, allow_remote=False)
    return local


def serve_at(app: FastAPI, host: str, port: int, *, allow_remote: bool = False) -> str:
    """Tell local mode where the server listens, before it starts; returns the console's base URL."""
    local: LocalWorkspace = app.state.scalebot.extras["local"]
    local.serve_at(self_url(host, port), allow_remote)
    return local.url
