"""Local mode end to end without a browser: the embedded workspace, the console's endpoints, restarts.

The console's page calls `/console/api/act` and `/console/api/state`; these tests call them the same
way, against `create_app` in local mode served by uvicorn, with a test-only capability
(`tests/browser/demo.py`) that uses every Block Kit element.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.local import TEAM_ID, self_url
from storage import installations
from storage import localslack as repo
from tests.browser.demo import Recorded, register_demo
from tests.browser.harness import ADMIN, LEAD, MEMBER, PAYMENTS, SEARCH, LocalBot, wait_for

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalBot]:
    bot = LocalBot(f"sqlite:///{tmp_path}/scalebot.sqlite3", setup=register_demo)
    bot.start()
    yield bot
    bot.close()


def demo(bot: LocalBot) -> Recorded:
    assert bot.app is not None
    return bot.app.state.demo


def main_html(bot: LocalBot, user: str = LEAD, **params: str) -> str:
    return str(bot.page_state(user, **params)["panes"]["main"]["html"])


def root_ts(bot: LocalBot) -> str:
    with bot.store.lock:
        return next(m.ts for m in bot.store.messages[PAYMENTS] if m.text == "Demo: every block")


def run_demo(bot: LocalBot, user: str = LEAD) -> str:
    assert bot.act("send", user, channel=PAYMENTS, text="/scale-check demo")["ok"]
    wait_for(lambda: "Only you see this" in main_html(bot, user), message="the demo did not post")
    return root_ts(bot)


def test_local_mode_seeds_a_workspace_installs_the_bot_and_serves_the_console(local: LocalBot) -> None:
    page = local.http.get("/console")
    assert page.status_code == 200
    for shown in (
        "# payments",
        "# search",
        "# eng-managers",
        "Ana Lead",
        "Maria Manager",
        "Sam Member",
        "Ada Admin",
    ):
        assert shown in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    row = local.db(installations.find_installation, TEAM_ID)
    assert row is not None and row.active and row.source == "local"
    with local.store.lock:
        assert row.bot_token == local.store.workspaces[TEAM_ID].bot_token


def test_a_slash_command_typed_in_the_console_reaches_the_bot_signed_and_its_calls_reach_the_workspace(
    local: LocalBot,
) -> None:
    run_demo(local)
    actor = local.local.actor
    assert actor is not None and actor.request_url == f"{local.url}/slack/events"
    sent = actor.last_payload
    assert sent["command"] == "/scale-check" and sent["text"] == "demo" and sent["team_id"] == TEAM_ID
    metrics = local.http.get("/metrics").text
    assert re.search(r'scalebot_slack_requests_total\{kind="command",outcome="ok"\} [1-9]', metrics), metrics
    with local.store.lock:
        methods = {c.method for c in local.store.calls if c.team_id == TEAM_ID and c.token_kind == "bot"}
    assert {"chat.postMessage", "chat.postEphemeral"} <= methods
    # Anything not signed with this session's secret is refused.
    forged = local.http.post(
        "/slack/events",
        content="command=%2Fscale-check&text=help",
        headers={"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64},
    )
    assert forged.status_code == 401


def test_ephemeral_messages_show_only_to_the_person_they_were_for(local: LocalBot) -> None:
    run_demo(local, LEAD)
    assert "Only you see this" in main_html(local, LEAD)
    assert "Only you see this" not in main_html(local, MEMBER)
    assert "Demo: every block" in main_html(local, MEMBER)


def test_an_unknown_command_gets_slackbots_answer_without_reaching_the_bot(local: LocalBot) -> None:
    local.act("send", LEAD, channel=PAYMENTS, text="/deploy now")
    html = main_html(local, LEAD)
    assert "Slackbot" in html and "is not a valid command" in html


def test_a_plain_message_is_posted_as_the_person_escaped(local: LocalBot) -> None:
    local.act("send", MEMBER, channel=PAYMENTS, text="hi <!channel> & <b>all</b>")
    html = main_html(local, LEAD)
    assert "Sam Member" in html and "hi &lt;!channel&gt; &amp; &lt;b&gt;all&lt;/b&gt;" in html


def test_a_modal_shows_the_apps_validation_error_and_slacks_own_required_field_check(local: LocalBot) -> None:
    ts = run_demo(local)
    assert local.act(
        "click", LEAD, channel=PAYMENTS, ts=ts, action_id="demo_open", block_id="open", value="form"
    )["ok"]
    view = wait_for(lambda: local.page_state(LEAD)["view"], message="no modal opened")
    required = local.act("submit", LEAD, view_id=view["id"], values={"name": {"value": ""}})
    assert required["errors"]["name"] == "Please complete this required field."
    assert demo(local).submissions == []  # Slack's client stops it: the app hears nothing
    component = local.act(
        "suggest",
        LEAD,
        container={"view_id": view["id"]},
        action_id="demo_component",
        block_id="component",
        query="ca",
    )
    assert [o["label"] for o in component["options"]] == ["cache"]
    values = {
        "name": {"value": "Checkout"},
        "rps": {"value": "lots"},
        "stage": {"value": "10K"},
        "component": {"demo_component": component["options"][0]["option"]},
        "checked": {"value": ["load"]},
    }
    bad = local.act("submit", LEAD, view_id=view["id"], values=values)
    assert bad["errors"] == {"rps": "Enter a whole number of requests per second, like 1200."}
    modal = local.page_state(LEAD)["panes"]["modal"]["html"]
    assert "Enter a whole number of requests per second" in modal and 'value="lots"' in modal
    values["rps"] = {"value": "1200"}
    assert local.act("submit", LEAD, view_id=view["id"], values=values)["ok"]
    assert local.page_state(LEAD)["view"] is None
    wait_for(
        lambda: (
            "Saved: Checkout, 1200 rps, cache" in str(local.page_state(LEAD, thread=ts)["panes"]["thread"])
        )
    )
    submitted = demo(local).submissions[0]
    assert submitted["checked"]["value"]["selected_options"][0]["value"] == "load"


def test_closing_a_modal_tells_the_app_when_it_asked(local: LocalBot) -> None:
    ts = run_demo(local)
    local.act("click", LEAD, channel=PAYMENTS, ts=ts, action_id="demo_open", block_id="open", value="form")
    view = wait_for(lambda: local.page_state(LEAD)["view"])
    assert local.act("close", LEAD, view_id=view["id"])["ok"]
    wait_for(lambda: demo(local).closed == [view["id"]])
    assert local.page_state(LEAD)["view"] is None


def test_selects_overflow_menus_and_external_selects_in_messages_send_block_actions(local: LocalBot) -> None:
    ts = run_demo(local)
    common = {"channel": PAYMENTS, "ts": ts, "block_id": "controls"}
    local.act("select", LEAD, action_id="demo_pick", selected="100K", **common)
    local.act("select", LEAD, action_id="demo_user", selected=ADMIN, **common)
    local.act("select", LEAD, action_id="demo_more", selected="archive", **common)
    found = local.act(
        "suggest",
        LEAD,
        container={"channel": PAYMENTS, "ts": ts},
        action_id="demo_find",
        block_id="controls",
        query="qu",
    )
    assert [o["label"] for o in found["options"]] == ["queue"]
    local.act("select", LEAD, action_id="demo_find", selected=found["options"][0]["option"], **common)
    local.act("click", LEAD, action_id="demo_reset", value="reset", **common)
    wait_for(lambda: len(demo(local).actions) == 5)
    chosen = [
        a.get("selected_option", {}).get("value") or a.get("selected_user") or a.get("value")
        for a in demo(local).actions
    ]
    assert chosen == ["100K", ADMIN, "archive", "queue", "reset"]
    thread = wait_for(
        lambda: (t := local.page_state(LEAD, thread=ts)["panes"]["thread"]["html"]).count("chose") == 5 and t
    )
    assert "chose 100K with demo_pick" in thread and "chose U0ADMIN with demo_user" in thread


def test_an_ephemeral_messages_button_can_replace_it(local: LocalBot) -> None:
    run_demo(local)
    with local.store.lock:
        ephemeral = next(e for e in local.store.ephemerals if e.text == "Only you see this.")
    local.act("click", LEAD, channel=PAYMENTS, ts=ephemeral.ts, action_id="demo_ok", block_id="", value="ok")
    wait_for(lambda: "Thanks, " in main_html(local, LEAD))
    assert local.act("dismiss", LEAD, ts=ephemeral.ts)["ok"]
    assert "Thanks, " not in main_html(local, LEAD)


def test_the_app_home_shows_the_published_view_and_its_buttons_work(local: LocalBot) -> None:
    assert local.act("home", LEAD)["ok"]
    assert local.local.actor is not None
    assert local.local.actor.last_payload["event"]["type"] == "app_home_opened"
    local.act("send", MEMBER, channel=PAYMENTS, text="/scale-check demo home")
    wait_for(lambda: "this is your Home tab" in main_html(local, MEMBER, surface="home"))
    home = main_html(local, MEMBER, surface="home")
    assert 'Hello <span class="mention"' in home and "@Sam" in home
    with local.store.lock:
        view_id = next(v.id for v in local.store.views.values() if v.type == "home" and v.user_id == MEMBER)
    local.act(
        "view_click", MEMBER, view_id=view_id, action_id="demo_ping", block_id="", value="ping", values={}
    )
    wait_for(lambda: "Pinged." in main_html(local, MEMBER, surface="home"))
    assert "this is your Home tab" not in main_html(local, ADMIN, surface="home")


def test_after_a_restart_threads_are_still_there_and_their_buttons_still_work(local: LocalBot) -> None:
    ts = run_demo(local)
    first_secret = local.state.signing_secret
    local.restart()
    assert local.state.signing_secret != first_secret  # a new secret each session
    assert "Demo: every block" in main_html(local, LEAD)
    assert "Replies go here." in str(local.page_state(LEAD, thread=ts)["panes"]["thread"]["html"])
    local.act(
        "click", LEAD, channel=PAYMENTS, ts=ts, action_id="demo_answer", block_id="controls", value="yes"
    )
    wait_for(
        lambda: (
            "chose yes with demo_answer" in str(local.page_state(LEAD, thread=ts)["panes"]["thread"]["html"])
        )
    )
    saved = local.db(repo.load_state, TEAM_ID)
    assert first_secret not in saved and str(local.state.signing_secret) not in saved
    assert json.loads(saved)["app"]["signing_secret"] is None


def test_the_state_endpoint_answers_unchanged_until_something_changes(local: LocalBot) -> None:
    first = local.page_state(LEAD)
    assert "main" in first["panes"] and first["panes"]["main"]["html"]
    again = local.page_state(LEAD, rev=str(first["rev"]))
    assert again == {"rev": first["rev"], "unchanged": True}
    known = ",".join(f"{name}:{pane['etag']}" for name, pane in first["panes"].items())
    local.act("send", MEMBER, channel="C0SEARCH", text="elsewhere")
    later = local.page_state(LEAD, rev=str(first["rev"]), known=known)
    assert later["rev"] != first["rev"] and "html" not in later["panes"]["main"]


def test_the_console_refuses_other_sites(local: LocalBot) -> None:
    assert local.http.post("/console/api/act", json={"kind": "send", "user": LEAD}).status_code == 400
    rebound = local.http.get("/console", headers={"Host": f"attacker.example:{local.port}"})
    assert rebound.status_code == 403
    local.local.allow_remote = True
    assert local.http.get("/console", headers={"Host": f"scalebot.lan:{local.port}"}).status_code == 200


def test_scalebot_serve_without_credentials_prints_the_console_url_and_serves_it(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SCALEBOT_CONFIG", "DATABASE_URL"))
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--no-scheduler"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    page: httpx.Response | None = None
    try:
        # A cold start (imports, migrations, the first run's workspace) takes seconds; on a machine busy
        # with parallel tests it was seen to take over 20 s, so the bound is test_cli's, for a busy machine.
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/console")
                if page.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert page is not None and page.status_code == 200, f"serve did not answer /console:\n{out[-3000:]}"
    assert "# payments" in page.text
    assert f"Open http://127.0.0.1:{port}/console and type /scale-check" in out


def test_the_access_log_skips_the_pages_polling_and_hides_response_url_ids(local: LocalBot) -> None:
    access = logging.getLogger("uvicorn.access")

    def line(path: str) -> logging.LogRecord:
        args = ("127.0.0.1:5000", "POST", path, "1.1", 200)
        return logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', args, None)

    assert not access.filter(line("/console/api/state?user=U0LEAD&rev=3"))
    hook = line("/localslack/hooks/response/s3cr3tHookId")
    assert access.filter(hook) and "s3cr3tHookId" not in hook.getMessage()
    assert access.filter(line("/slack/events"))


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:3000"),
        ("::", "http://127.0.0.1:3000"),
        ("localhost", "http://127.0.0.1:3000"),
        ("127.0.0.2", "http://127.0.0.2:3000"),
        ("::1", "http://[::1]:3000"),
    ],
)
def test_the_bot_reaches_its_own_workspace_on_loopback_when_listening_everywhere(host: str, url: str) -> None:
    assert self_url(host, 3000) == url


def test_the_first_run_plans_a_launch_through_the_command_and_the_console_shows_its_timeline(
    local: LocalBot,
) -> None:
    # Ana's `/scale-check launch` and its modal, sent by the local Slack's actor like any person's.
    html = wait_for(
        lambda: (
            "Search autocomplete" in (h := main_html(local, LEAD, channel=SEARCH)) and "Timeline" in h and h
        ),
        message="the sample launch",
    )
    for step in ("Pre-mortem", "Signal checklist", "Go/no-go summary", "Retro prompt"):
        assert step in html
    with local.store.lock:
        messages = [m.text for m in local.store.messages[SEARCH]]
        opened = [c for c in local.store.calls if c.method == "views.open"]
    assert any(t.startswith("Launch: Search autocomplete") for t in messages)
    assert opened, "the launch was planned through its modal"
