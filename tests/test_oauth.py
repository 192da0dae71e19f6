"""Installing into many workspaces over OAuth, and uninstalling or revoking, in either order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from apscheduler.triggers.interval import IntervalTrigger

import tests.helpers.jobkinds  # noqa: F401
from localslack import FakeSlack
from storage import installations
from tests.conftest import remember_secret
from tests.harness import SIGNING_SECRET, BotServer, Seeded, wait_until

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret-0123456789"


@pytest.fixture
def oauth_bot(fake: FakeSlack, seeded: Seeded, make_bot: Any) -> BotServer:
    remember_secret(CLIENT_SECRET)
    bot: BotServer = make_bot(
        slack_bot_token=None, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET
    )
    fake.configure_app(
        request_url=bot.events_url,
        signing_secret=SIGNING_SECRET,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=f"{bot.url}/slack/oauth_redirect",
    )
    return bot


class Browser(httpx.Client):
    """A browser on the bot's HTTPS origin: it sends back the `Secure` state cookie Bolt sets, which
    httpx would withhold from these plain-HTTP test URLs."""

    def __init__(self) -> None:
        super().__init__(follow_redirects=False, timeout=5)
        self.jar: dict[str, str] = {}

    def get(self, url: str, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        headers = dict(kwargs.pop("headers", {}))
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        response = super().get(url, headers=headers, **kwargs)
        for cookie in response.headers.get_list("set-cookie"):
            name, _, rest = cookie.partition("=")
            self.jar[name.strip()] = rest.split(";", 1)[0]
        return response


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser() as client:
        yield client


def start_install(bot: BotServer, browser: Browser, team_id: str) -> str:
    """Click "Add to Slack" and approve for `team_id`; returns the callback URL Slack redirects to."""
    page = browser.get(f"{bot.url}/slack/install")
    assert page.status_code == 200
    authorize = re.search(r'href="([^"]+oauth/v2/authorize[^"]+)"', page.text)
    assert authorize is not None, page.text
    approved = browser.get(authorize.group(1).replace("&amp;", "&") + f"&team={team_id}")
    assert approved.status_code == 302
    callback = approved.headers["location"]
    remember_secret(parse_qs(urlparse(callback).query).get("code", [""])[0])
    return callback


def install(bot: BotServer, browser: Browser, team_id: str) -> httpx.Response:
    return browser.get(start_install(bot, browser, team_id))


def token_of(fake: FakeSlack, team_id: str) -> str:
    return fake.workspace(team_id).bot_token


def test_install_stores_the_installation_and_the_bot_acts_with_its_token(
    oauth_bot: BotServer, fake: FakeSlack, seeded: Seeded, browser: Browser
) -> None:
    response = install(oauth_bot, browser, "T0002")
    assert response.status_code == 200, response.text
    row = oauth_bot.db(installations.find_installation, "T0002")
    assert row is not None and row.bot_token == token_of(fake, "T0002")
    remember_secret(row.bot_token)
    fake.add_user("T0002", "U2MEMBER", "wen")
    fake.add_channel("T0002", "C2GENERAL", "general", members=["U2MEMBER"])

    answer = fake.actor().slash_command("T0002", "U2MEMBER", "C2GENERAL", "help")
    assert answer.status_code == 200 and "scale-check" in answer.text
    # Bolt authorized with the stored installation: its auth.test ran with the new workspace's token.
    assert any(c.team_id == "T0002" for c in fake.calls("auth.test"))


def test_two_workspaces_never_see_each_others_installation(
    oauth_bot: BotServer, fake: FakeSlack, seeded: Seeded, browser: Browser
) -> None:
    install(oauth_bot, browser, "T0001")
    install(oauth_bot, Browser(), "T0002")

    async def tokens() -> tuple[str | None, str | None]:
        one = await oauth_bot.rt.client_for("T0001")
        two = await oauth_bot.rt.client_for("T0002")
        return one.token, two.token

    one, two = oauth_bot.call(tokens())
    assert one == token_of(fake, "T0001") and two == token_of(fake, "T0002") and one != two
    assert {r.workspace_id for r in oauth_bot.db(installations.active_workspaces)} == {"T0001", "T0002"}


def test_state_is_bound_to_the_browser_single_use_and_expiring(
    oauth_bot: BotServer, fake: FakeSlack, seeded: Seeded, browser: Browser
) -> None:
    callback = start_install(oauth_bot, browser, "T0003")
    # Another browser (no state cookie) cannot finish someone else's install.
    assert httpx.get(callback).status_code >= 400
    assert oauth_bot.db(installations.find_installation, "T0003") is None
    # A replayed callback is refused once the state was used.
    assert browser.get(callback).status_code == 200
    assert browser.get(callback).status_code >= 400
    # An expired state is refused.
    callback = start_install(oauth_bot, browser, "T0004")
    state_store = oauth_bot.state.bolt.oauth_flow.settings.state_store  # type: ignore[union-attr]
    state_store.clock = _Later(minutes=11)  # the person came back eleven minutes later
    assert browser.get(callback).status_code >= 400
    assert oauth_bot.db(installations.find_installation, "T0004") is None


class _Later:
    def __init__(self, **delta: float) -> None:
        self.delta = timedelta(**delta)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.delta


@pytest.mark.parametrize(
    "order", [("tokens_revoked", "app_uninstalled"), ("app_uninstalled", "tokens_revoked")]
)
def test_revoke_and_uninstall_in_either_order_leave_it_inactive_with_jobs_stopped(
    oauth_bot: BotServer,
    fake: FakeSlack,
    seeded: Seeded,
    browser: Browser,
    order: tuple[str, str],
    tmp_path: Any,
) -> None:
    install(oauth_bot, browser, "T0002")
    install(oauth_bot, Browser(), "T0001")
    scheduler = oauth_bot.rt.scheduler
    assert scheduler is not None
    trigger = IntervalTrigger(hours=1, timezone=UTC)
    scheduler.schedule("test.record", "a", trigger, workspace_id="T0002", out=str(tmp_path / "a"))
    scheduler.schedule("test.record", "b", trigger, workspace_id="T0001", out=str(tmp_path / "b"))

    actor = fake.actor()
    events = {
        "tokens_revoked": {
            "type": "tokens_revoked",
            "tokens": {"oauth": [], "bot": [fake.workspace("T0002").bot_user_id]},
        },
        "app_uninstalled": {"type": "app_uninstalled"},
    }
    for i, name in enumerate(order):
        assert actor.event("T0002", events[name], event_id=f"Ev{i}{name}").status_code == 200
        wait_until(lambda: oauth_bot.db(installations.find_installation, "T0002") is None)
    # Both again (a retried delivery, a second uninstall): nothing changes, nothing fails.
    for i, name in enumerate(order):
        assert actor.event("T0002", events[name], event_id=f"Ev9{i}{name}").status_code == 200

    row = oauth_bot.db(installations.find_installation, "T0002", active_only=False)
    assert row is not None and not row.active and row.deactivated_reason == order[0]
    # Besides the deletion of the uninstalled workspace's data after the grace period.
    assert [j.workspace_id for j in scheduler.jobs() if j.kind != "uninstall.delete"] == ["T0001"]
    assert oauth_bot.db(installations.find_installation, "T0001") is not None
