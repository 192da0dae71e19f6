"""Checks over the whole run, made when the session finishes (whatever order the tests ran in):

- no log line of the run (this process's and the subprocesses' logs) contains a secret a test configured;
- the manifest's scopes cover every Web API method the bot called on the fake, and, when every test of
  the suite ran, no scope goes unused; the slash command asks Slack to escape user text.

A failed check fails the run (exit status 1) and says which check and why. Loaded from tests/conftest.py
(`pytest_plugins`); the recording itself (CONFIGURED_SECRETS, RECORDED_METHODS, the log directory) is
done by conftest's fixtures. With pytest-xdist (`-n N`) the workers record and the controller checks, once,
over every worker's records and log directory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.manifest import BOT_SCOPES

TESTS = Path(__file__).resolve().parent
# The key under which an xdist worker hands its records to the controller.
WORKER_OUTPUT = "scalebot_run_wide"

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
    "users.profile.get": {"users.profile:read"},
    "dnd.info": {"dnd:read"},
    "dnd.teamInfo": {"dnd:read"},
}
# Needed by what the app is rather than by a Web API call: the slash command itself.
INTRINSIC_SCOPES = {"commands"}


def secret_leaks(log_dir: Path, configured: Iterable[str]) -> list[str]:
    """Each log file of the run that holds a configured secret (named by the secret's first characters)."""
    secrets = {s for s in configured if len(s) >= 8}
    if not secrets:
        return ["the run configured no secrets to look for"]
    files = sorted(p for p in log_dir.rglob("*") if p.is_file())
    if not files:
        return [f"the run wrote no log file under {log_dir}"]
    leaks = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        leaks += [
            f"{path.name} contains a secret: …{secret[:6]}…" for secret in sorted(secrets) if secret in text
        ]
    return leaks


def scope_problems(called: Iterable[str], granted: Iterable[str], *, whole_suite: bool) -> list[str]:
    """What is wrong with the manifest's scopes for the methods the run called."""
    methods = {m for m in called if m != "oauth.v2.access"}
    unknown = methods - set(METHOD_SCOPES)
    if unknown:
        return [
            f"add these methods' documented scopes to METHOD_SCOPES in tests/run_wide.py: {sorted(unknown)}"
        ]
    needed = set().union(*(METHOD_SCOPES[m] for m in methods)) | INTRINSIC_SCOPES
    problems = []
    if missing := needed - set(granted):
        problems.append(f"the manifest lacks the scopes {sorted(missing)}")
    if whole_suite and (unused := set(granted) - needed):
        problems.append(f"no call of the whole suite needs the scopes {sorted(unused)}; drop them")
    return problems


def manifest_problems() -> list[str]:
    manifest = json.loads((TESTS.parent / "bot" / "manifest.json").read_text())
    if manifest["features"]["slash_commands"][0].get("should_escape") is not True:
        return ["the slash command must set should_escape: true (user text arrives escaped)"]
    return []


class RunWide:
    """The plugin: counts what ran, then checks the whole run when the session finishes.

    Under pytest-xdist each worker records its own secrets, Web API methods and log directory and hands
    them to the controller (`workeroutput`); the controller, which sees every test's report, makes the
    checks once over all of them and fails the run. A worker makes no checks of its own.
    """

    def __init__(self) -> None:
        self.ran: set[str] = set()
        self.deselected = 0
        self.collected: set[str] = set()  # the controller's: every worker's collected test ids
        self.workers: dict[str, dict[str, Any] | None] = {}  # worker id -> what it recorded

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.ran.add(report.nodeid)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        self.collected.update(ids)
        self.workers.setdefault(node.gateway.id, None)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        self.workers[node.gateway.id] = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)

    def whole_suite_ran(self, collected: Iterable[str], deselected: int) -> bool:
        """Every test module was collected, nothing was deselected, and every collected test ran."""
        ids = set(collected)
        files = {Path(nodeid.split("::", 1)[0]).name for nodeid in ids}
        every_file = {p.name for p in TESTS.glob("test_*.py")} <= files
        return every_file and ids <= self.ran and deselected == 0

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        from tests.conftest import CONFIGURED_SECRETS, LOG_DIR_ENV, RECORDED_METHODS

        log_dir = os.environ.get(LOG_DIR_ENV)
        if hasattr(session.config, "workerinput"):  # an xdist worker: the controller checks
            session.config.workeroutput[WORKER_OUTPUT] = {  # type: ignore[attr-defined]
                "log_dir": log_dir,
                "secrets": sorted(CONFIGURED_SECRETS),
                "methods": sorted(RECORDED_METHODS),
                "deselected": self.deselected,
            }
            return
        if not self.ran or exitstatus == pytest.ExitCode.INTERRUPTED:
            return  # nothing ran (collection only, or stopped by hand): nothing to check

        failures: list[str] = []
        if session.config.pluginmanager.has_plugin("dsession"):  # the xdist controller
            secrets, methods, log_dirs, deselected = set(), set(), [], 0
            for worker, output in sorted(self.workers.items()):
                if output is None:
                    failures.append(f"worker {worker} ended without handing over what it recorded")
                    continue
                secrets.update(output["secrets"])
                methods.update(output["methods"])
                log_dirs.append(output["log_dir"])
                deselected = max(deselected, output["deselected"])  # every worker deselects the same
            collected = self.collected
        else:
            secrets, methods, log_dirs = set(CONFIGURED_SECRETS), set(RECORDED_METHODS), [log_dir]
            collected, deselected = {item.nodeid for item in session.items}, self.deselected
        for directory in log_dirs:
            if directory is None:
                failures.append(f"{LOG_DIR_ENV} is not set: the run's log capture never started")
            else:
                failures += [f"secrets in the logs: {p}" for p in secret_leaks(Path(directory), secrets)]
        whole = self.whole_suite_ran(collected, deselected)
        failures += [f"manifest scopes: {p}" for p in scope_problems(methods, BOT_SCOPES, whole_suite=whole)]
        failures += [f"manifest: {p}" for p in manifest_problems()]
        if not failures:
            return
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_sep("=", "run-wide checks FAILED (tests/run_wide.py)", red=True, bold=True)
            for failure in failures:
                reporter.write_line(f"  {failure}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(RunWide(), "scalebot-run-wide")
