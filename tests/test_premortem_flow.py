"""A pre-mortem end to end over real signed HTTP: three leads answer silently through the modal, the
reveal merges what names the same component, votes pick the top three, mitigations get owners (who are
DMed), statuses change, and the export returns the Markdown."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import AppConfig, TeamConfig
from bot.premortem.config import TeamPremortemConfig
from bot.premortem.grouping import component_key, group_id
from bot.premortem.refs import StatusRef
from bot.premortem.render import ACTION_CLOSE, ACTION_UNVOTE, ACTION_VOTE
from bot.premortem.render_plan import ACTION_MITIGATE, ACTION_STATUS
from localslack import FakeSlack
from storage import premortem as repo
from storage import premortem_mitigations as mitigations_repo
from tests.harness import Seeded
from tests.premortem_driver import Driver, all_text, pace_quickly

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
COMPONENTS = ["Database write throughput", "Authentication service", "Caching layer"]
PAYMENTS = AppConfig(
    teams=[
        TeamConfig(
            name="Payments",
            channel="C0PAYMENTS",
            managers=["U0MGR1"],
            premortem=TeamPremortemConfig(components=COMPONENTS),
        )
    ]
)


@pytest.fixture(autouse=True)
def _quick_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    pace_quickly(monkeypatch)


@pytest.fixture(params=["sqlite", "postgres+redis"])
def driver(request: pytest.FixtureRequest, make_bot: Any, fake: FakeSlack, seeded: Seeded) -> Driver:
    stack: dict[str, Any] = {}
    if request.param == "postgres+redis":
        stack = {
            "database_url": request.getfixturevalue("pg_url"),
            "redis_url": request.getfixturevalue("redis_url"),
        }
    return Driver(fake, seeded, make_bot(config=PAYMENTS, clock=ManualClock(T0), **stack), fake.actor())


def gid(name: str) -> str:
    return group_id(component_key(name))


def group_message(d: Driver, name: str) -> dict[str, Any]:
    return d.find(f'"block_id": "group:{gid(name)}"')


def vote(d: Driver, user: str, name: str, action: str = ACTION_VOTE) -> None:
    d.click(user, group_message(d, name), action, block_id=f"vote:{gid(name)}")


def group_text(d: Driver, name: str) -> str:
    block_id = f"group:{gid(name)}"
    block = next(b for b in group_message(d, name)["blocks"] if b.get("block_id") == block_id)
    return str(block["text"]["text"])


def votes_shown(d: Driver, name: str, n: int) -> str:
    label = "1 vote" if n == 1 else f"{n} votes"
    return d.fake.wait_for(
        lambda: (t := group_text(d, name)).startswith(f"*{name}* · {label}") and t,
        message=f"{name} showing {label}",
    )


def test_a_full_pre_mortem_from_the_command_to_the_export(driver: Driver, fake: FakeSlack) -> None:
    d, s = driver, driver.seeded
    d.start(s.manager, s.lead, s.lead2, s.lead3)
    root = d.root()
    assert root["text"] == f"Pre-mortem for Payments, started by <@{s.manager}>: what breaks first at 10x?"
    prompt = all_text(d.prompt())
    assert (
        f"<@{s.lead}>, <@{s.lead2}>, <@{s.lead3}>: *If our active users or request rate suddenly grew 10x"
        in prompt
    )
    assert (
        "*Deadline:* <!date^" in prompt
        and "“The database write throughput, the authentication service" in prompt
    )

    # Ana names two new components and one the bot suggests.
    view = d.open_answer(s.lead)
    suggested = d.suggest(s.lead, view, 3, "datab")
    assert [o["value"] for o in suggested] == ["Database write throughput"]
    assert (
        d.answer(
            s.lead,
            [
                {
                    "other": "DB write throughput",
                    "why": "one primary takes every write",
                    "kind": "metric",
                    "evidence": "WAL 70%",
                },
                {"other": "Auth service", "why": "token checks hit the DB", "kind": "hunch"},
                {"other": "database reads", "why": "no read replica"},
            ],
            view,
        ).response_action
        == "close"
    )
    # Bo names new components only, written differently.
    d.answer(
        s.lead2,
        [
            {"other": "database write-throughput", "why": "batch jobs and checkout write together"},
            {
                "other": "authentication  service!",
                "why": "single instance",
                "kind": "incident",
                "evidence": "INC-42",
            },
            {"other": "payment service", "why": "synchronous calls to the PSP"},
        ],
    )
    # Until the last lead answers, the thread shows who has answered and nothing of what.
    fake.wait_for(lambda: f"✅ <@{s.lead2}>" in all_text(d.prompt()), message="bo marked as answered")
    shown = d.everything_visible()
    assert f"✅ <@{s.lead}>" in shown and f"⏳ <@{s.lead3}>" in shown
    for secret in ("DB write throughput", "one primary takes every write", "payment service", "INC-42"):
        assert secret not in shown
    assert "2 of 3 leads answered" in all_text(d.root())

    # Chen picks a suggested component, then the answers are revealed. The suggestions are the
    # team's configured components only: nothing Alex or Bo wrote shows before the reveal.
    view = d.open_answer(s.lead3)
    offered = " ".join(o["value"] for o in d.suggest(s.lead3, view, 1, ""))
    for secret in ("DB write", "write-throughput", "Auth service", "payment service"):
        assert secret not in offered
    (caching,) = d.suggest(s.lead3, view, 1, "cach")
    d.answer(
        s.lead3,
        [
            {
                "pick": caching,
                "why": "evictions at 10x the keys",
                "kind": "load_test",
                "evidence": "k6 at 5x",
            },
            {"other": "database writes", "why": "hot rows"},
            {"other": "auth service", "why": "rate limits"},
        ],
        view,
    )
    reveal = d.find("The answers: 9 risks, 6 components")
    text = all_text(reveal)
    merged = {
        "DB write throughput": "also written “database write-throughput”",
        "Auth service": "also written “authentication service!”",
    }
    for title, also in merged.items():
        assert also in all_text(group_message(d, title))
    assert f"Raised by <@{s.lead}> (#2), <@{s.lead2}> (#2), <@{s.lead3}> (#3)" in all_text(
        group_message(d, "Auth service")
    )
    for apart in ("database reads", "database writes", "payment service", "Caching layer"):
        assert f"*{apart}* · 0 votes" in text
    assert "_a metric: WAL 70%_" in text and "_an incident: INC-42_" in text
    assert "What the data says" in all_text(d.find("What the data says"))
    assert "no metrics source yet" in all_text(d.find("What the data says"))
    assert f"✅ <@{s.lead3}>" in all_text(d.prompt()) and "every lead answered" in all_text(d.prompt())

    # Votes: one per person per risk; "vote" sets, "remove vote" clears.
    for user in (s.manager, s.member, s.lead):
        vote(d, user, "Caching layer")
    vote(d, s.manager, "Caching layer")  # again: counted once
    assert "already voted for *Caching layer*" in d.wait_ephemeral(s.manager, "already voted")
    for user, name in ((s.manager, "database writes"), (s.lead2, "database writes")):
        vote(d, user, name)
    for user in (s.member, s.lead3):
        vote(d, user, "payment service")
    vote(d, s.admin, "DB write throughput")
    votes_shown(d, "DB write throughput", 1)
    vote(d, s.lead3, "DB write throughput")
    votes_shown(d, "DB write throughput", 2)
    vote(d, s.lead3, "DB write throughput", ACTION_UNVOTE)
    votes_shown(d, "DB write throughput", 1)
    votes_shown(d, "Caching layer", 3)
    votes_shown(d, "database writes", 2)
    votes_shown(d, "payment service", 2)
    assert fake.calls("chat.update") and len(d.roots()) == 1  # updated in place, nothing re-posted

    # Close voting: ties on 2 votes go to the best rank a lead gave (database writes #2 > payment service #3).
    d.click(s.manager, d.find("Close voting"), ACTION_CLOSE)
    top = d.find("Top three risks and their mitigations")
    order = [
        b["text"]["text"].split("*")[1] for b in top["blocks"] if b.get("block_id", "").startswith("top:")
    ]
    assert order == ["1. Caching layer", "2. database writes", "3. payment service"]
    assert "Vote" not in all_text(d.find("The answers:"))

    # Before any mitigation the status is no all-clear: it counts the top risks that have none.
    d.actor.slash_command(d.team, s.manager, d.channel, "premortem status")
    said = d.wait_ephemeral(s.manager, "have no mitigation yet")
    assert said == "No open mitigations for Payments; 3 top risks have no mitigation yet", said

    # Mitigations with owners, DMed to each.
    owners = {"Caching layer": s.lead3, "database writes": s.lead2, "payment service": s.lead}
    for name, owner in owners.items():
        view = d.open_modal(
            s.manager,
            lambda n=name: d.click(
                s.manager, d.find("Top three risks"), ACTION_MITIGATE, block_id=f"plan:{gid(n)}"
            ),
        )
        done = fake.actor().submit_view(
            s.team_id,
            s.manager,
            view,
            {
                "plan": {"value": f"Plan for {name}"},
                "owner": {"value": owner},
                "due": {"value": "2026-12-01"},
                "verify": {"value": "load_test"},
            },
        )
        assert done.response_action == "update"
        fake.wait_for(lambda v=view: "got it by DM" in all_text(fake.view(v)), message="the saved note")
    for name, owner in owners.items():
        dm = fake.wait_for(lambda o=owner: d.dms(o), message="the owner's DM")
        assert f"You own a mitigation from the Payments pre-mortem: {name}" in dm[-1]["text"]
    top = d.find("*Plan:* Plan for payment service")
    assert f"*Owner:* <@{s.lead2}> · due 2026-12-01" in all_text(top)
    assert "*3. payment service*: <@U0LEAD1> · due 2026-12-01 · Open" in all_text(d.root())

    # Statuses: the owner from the DM, a manager in the thread; others are told who can.
    caching_dm = d.dms(s.lead3)[-1]
    mid = StatusRef.parse(
        next(e["value"] for b in caching_dm["blocks"] if b["type"] == "actions" for e in b["elements"])
    ).m
    im = d.dm_channel(s.lead3)
    assert im is not None
    fake.actor().click(s.team_id, s.lead3, im, caching_dm["ts"], f"{ACTION_STATUS}:in_progress")
    fake.wait_for(lambda: "*Status:* In progress (<@U0LEAD3>" in all_text(d.find("Top three risks")))
    d.click(
        s.member, d.find("Top three risks"), f"{ACTION_STATUS}:done", block_id=f"plan:{gid('Caching layer')}"
    )
    assert "Only the owner (<@U0LEAD3>), the team's managers or an admin" in d.wait_ephemeral(
        s.member, "Only the owner"
    )
    d.click(
        s.manager, d.find("Top three risks"), f"{ACTION_STATUS}:done", block_id=f"plan:{gid('Caching layer')}"
    )
    fake.wait_for(lambda: "*Status:* Done (<@U0MGR1>" in all_text(d.find("Top three risks")))
    events = d.bot.db(mitigations_repo.events, s.team_id, mid)
    assert [(e.status, e.by) for e in events] == [
        ("open", s.manager),
        ("in_progress", s.lead3),
        ("done", s.manager),
    ]

    # The status command lists what is still open; the export returns the Markdown.
    d.actor.slash_command(s.team_id, s.member, s.channel, "premortem status")
    listing = d.wait_ephemeral(s.member, "open mitigations for Payments")
    assert listing == "2 open mitigations for Payments"
    d.actor.slash_command(s.team_id, s.member, s.channel, "premortem export")
    d.wait_ephemeral(s.member, "as Markdown")
    exported = all_text(fake.ephemerals(s.member)[-1])
    assert "# Pre-mortem: Payments" in exported
    assert "### 1. Caching layer (3 votes)" in exported
    assert (
        "| 1 | Caching layer | Plan for Caching layer | @chen | 2026-12-01 | load test at 10x passes | Done |"
        in exported
    )

    # Everything is stored with who and when.
    pm = d.bot.db(repo.load, s.team_id, 1)
    assert pm.premortem.status == "planning" and pm.premortem.reveal_reason == "all_answered"
    assert len(pm.risks) == 9 and {r.lead for r in pm.risks} == {s.lead, s.lead2, s.lead3}
    assert len(pm.votes) == 8 and all(v.voted_at for v in pm.votes)
