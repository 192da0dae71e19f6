"""localslack: a local Slack (Web API fake + users acting) for tests and the local console.

- `FakeSlack` runs it on 127.0.0.1 in a background thread: seed workspaces, users and channels, point
  slack_sdk clients at `fake.api_url`, inject failures, read back what the app did.
- `fake.actor()` returns an `Actor`: users running slash commands, clicking, choosing, submitting
  modals and triggering events, each sent signed to the app's request URL as Slack sends it.
- `create_app` / `create_router` serve the same thing from any ASGI app (mounted under a prefix);
  `Store` holds the state as JSON-serialisable dataclasses; `BackgroundServer` serves any ASGI app
  (the bot, in tests) on a loopback port.
"""

from localslack.actor import Actor, ActorError, Submission
from localslack.api import create_app, create_router
from localslack.background import BackgroundServer
from localslack.faults import UPDATE_LIMIT, Faults, RateLimit
from localslack.server import FakeSlack
from localslack.signing import signature, signed_headers
from localslack.state import (
    AppConfig,
    Channel,
    Ephemeral,
    Message,
    RecordedCall,
    ResponseUrlPost,
    StoredFile,
    User,
    View,
    Workspace,
)
from localslack.store import Store

__all__ = [
    "UPDATE_LIMIT",
    "Actor",
    "ActorError",
    "AppConfig",
    "BackgroundServer",
    "Channel",
    "Ephemeral",
    "FakeSlack",
    "Faults",
    "Message",
    "RateLimit",
    "RecordedCall",
    "ResponseUrlPost",
    "Store",
    "StoredFile",
    "Submission",
    "User",
    "View",
    "Workspace",
    "create_app",
    "create_router",
    "signature",
    "signed_headers",
]
