"""Checks over the whole run (this module runs last): secrets in the logs, the manifest's scopes.

Named `test_zz_…` so pytest collects it after every other module.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.manifest import BOT_SCOPES
from tests.conftest import CONFIGURED_SECRETS, LOG_DIR_ENV, RECORDED_METHODS

TESTS = Path(__file__).resolve().parent

# Slack's documented scopes per Web API method (https://api.slack.com/methods). `conversations.info`
# and `.members` need channels:read for public and groups:read for private team channels.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.delete": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.getPermalink": set(),
    "conversations.info": {"channels:read", "groups:read"},
    "conversations.members": {"channels:read", "groups:read"},
    "conversations.open": {"im:write"},
    # The digest reads back a manager's DM (im:history) to find a message a killed run posted.
    "conversations.history": {"channels:history", "groups:history", "im:history"},
    "conversations.replies": {"channels:history", "groups:history"},
    "users.info": {"users:read"},
    "users.list": {"users:read"},
    "users.profile.get": {"users.profile:read"},
    "dnd.info": {"dnd:read"},
    "dnd.teamInfo": {"dnd:read"},
    "views.open": set(),
    "views.push": set(),
    "views.update": set(),
    "views.publish": set(),
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
    "oauth.v2.access": set(),
    "conversations.canvases.create": {"canvases:write"},
    "canvases.create": {"canvases:write"},
    "canvases.edit": {"canvases:write"},
}
# Needed by what the app is rather than by a Web API call: the slash command itself.
INTRINSIC_SCOPES = {"commands"}


def whole_suite_ran(session: pytest.Session) -> bool:
    ran = {Path(str(item.fspath)).name for item in session.items}
    return {p.name for p in TESTS.glob("test_*.py")} <= ran


def test_no_log_line_of_the_run_contains_a_configured_secret() -> None:
    log_dir = Path(os.environ[LOG_DIR_ENV])
    secrets = {s for s in CONFIGURED_SECRETS if len(s) >= 8}
    assert secrets, "the run configured no secrets to look for"
    files = sorted(p for p in log_dir.rglob("*") if p.is_file())
    assert files
    leaks = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        leaks += [f"{path.name}: …{secret[:6]}…" for secret in secrets if secret in text]
    assert not leaks, leaks


def test_manifest_scopes_cover_every_method_called_and_no_more(request: pytest.FixtureRequest) -> None:
    called = {m for m in RECORDED_METHODS if m != "oauth.v2.access"}
    unknown = called - set(METHOD_SCOPES)
    assert not unknown, f"add these methods' documented scopes to METHOD_SCOPES: {sorted(unknown)}"
    needed = set().union(*(METHOD_SCOPES[m] for m in called)) | INTRINSIC_SCOPES
    granted = set(BOT_SCOPES)
    assert needed <= granted, f"the manifest lacks {sorted(needed - granted)}"
    if whole_suite_ran(request.session):
        assert granted <= needed, f"no call of the suite needs {sorted(granted - needed)}"
    manifest = json.loads((TESTS.parent / "bot" / "manifest.json").read_text())
    assert manifest["features"]["slash_commands"][0]["should_escape"] is True
