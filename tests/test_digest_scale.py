"""The digest at company size: 200 teams, 10 managers. Each manager gets exactly their teams; the
parent's lists are capped and say how many more; the readiness canvas holds every team's row and is
edited in place, never recreated (the same week again, and the next week); a plan without canvases gets
the same table as a Markdown file in the thread, and the parent says why."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import matplotlib.image
import pytest

from bot.config import AppConfig
from bot.digest import service, slack_calls
from bot.digest.model import Week
from common.clock import ManualClock
from localslack import FakeSlack
from storage import digest_canvas
from tests.digest_support import add_check, add_sprints, parents, part, team_messages, text_of
from tests.harness import BotServer, Seeded

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # ISO week 48
DIGEST = "C0DIGEST"
TEAMS = 200
MANAGERS = [f"U0MGR{i:02d}" for i in range(10)]
ROW = re.compile(r"^\| Team \d{3} ")


def channel(i: int) -> str:
    return f"C{1000000 + i}"


def managers_of(i: int) -> list[str]:
    """Team i is managed by manager i % 10; team 7 also by the first manager (several managers)."""
    return [MANAGERS[i % 10], *([MANAGERS[0]] if i == 7 else [])]


@pytest.fixture(autouse=True)
def quick_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack_calls, "POST_INTERVAL", 0.005)


def config() -> AppConfig:
    return AppConfig.model_validate(
        {
            "teams": [
                {"name": f"Team {i:03d}", "channel": channel(i), "managers": managers_of(i)}
                for i in range(TEAMS)
            ],
            "digest": {"channel": DIGEST, "timezone": "UTC", "managers": ["U0MEMBER1"]},
        }
    )


@pytest.fixture
def big(make_bot: Any, fake: FakeSlack, seeded: Seeded) -> BotServer:
    for user in MANAGERS:
        fake.add_user(seeded.team_id, user, user.lower(), tz="UTC")
    fake.add_channel(seeded.team_id, DIGEST, "scale-digest", members=[*MANAGERS, seeded.member])
    bot: BotServer = make_bot(config=config(), clock=ManualClock(NOW))

    def write(session: Any) -> None:
        for i in range(TEAMS):
            # Every third team spends 10% on debt (under the band); the rest 24% (in it).
            share = 5 if i % 3 == 0 else 12
            add_sprints(session, seeded.team_id, channel(i), [(share, 50)] * 3, NOW.date(), NOW)
            if i % 2 == 0:
                add_check(
                    session,
                    seeded.team_id,
                    channel(i),
                    f"Team {i:03d}",
                    "watch",
                    "1K",
                    NOW - timedelta(days=10),
                )

    bot.db(write)
    return bot


def send(bot: BotServer, when: datetime) -> Any:
    bot.rt.clock.set(when)  # type: ignore[attr-defined]
    return bot.call(service.send_week(bot.rt, "T0001", Week.of(when, "UTC"), when, reason="now"), timeout=120)


def own_digests(fake: FakeSlack) -> dict[str, list[dict[str, Any]]]:
    """Each manager's own digests, by the user whose DM holds them."""
    out: dict[str, list[dict[str, Any]]] = {}
    for ch in {
        c.args["channel"] for c in fake.calls("chat.postMessage") if c.args.get("channel", "").startswith("D")
    }:
        for m in fake.messages(ch):
            if part(m) == "manager":
                out.setdefault(m["metadata"]["event_payload"]["key"], []).append(m)
    return out


def test_each_manager_gets_exactly_their_teams_and_the_parent_and_thread_are_capped(
    big: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    outcome = send(big, NOW)

    digests = own_digests(fake)
    assert sorted(digests) == MANAGERS
    for user in MANAGERS:
        (message,) = digests[user]
        shown = text_of(message)
        mine = {i for i in range(TEAMS) if user in managers_of(i)}
        named = {i for i in range(TEAMS) if f"*Team {i:03d}* <#{channel(i)}>" in shown}
        assert named == mine, user
        assert len(message["blocks"]) <= 50
    assert "*Team 007*" in text_of(digests[MANAGERS[7]][0]) and "*Team 007*" in text_of(
        digests[MANAGERS[0]][0]
    )
    # The digest recipient who manages no team gets the org-wide copy.
    assert outcome.dms == 1 and outcome.managers == 10

    (parent,) = parents(fake, DIGEST)
    shown = text_of(parent)
    assert "Signal checks stale (over 90 days) or never run* (100)" in shown
    assert "…and 95 more in <" in shown and "|the readiness canvas>" in shown
    assert "Tech debt out of the 20–30% band* (67)" in shown and "…and 62 more in" in shown
    assert "nothing to compare with yet" in shown
    replies = team_messages(fake, DIGEST, parent["ts"])
    assert len(replies) == 20  # the cap, most urgent first
    assert "The thread has the charts and the 20 most urgent of the 200 teams" in shown

    (canvas,) = fake.canvases()
    rows = [line for line in canvas.markdown.splitlines() if ROW.match(line)]
    assert len(rows) == TEAMS
    assert canvas.is_channel_canvas and canvas.channel_id == DIGEST
    assert "| Team 003 ![](#C1000003) | no checklist yet | never | 10% under |" in canvas.markdown
    assert big.db(digest_canvas.get_canvas, "T0001").canvas_id == canvas.id


def test_the_preview_at_company_size_is_the_capped_parent_with_the_canvas_link_and_posts_nothing(
    big: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    send(big, NOW)
    (canvas,) = fake.canvases()
    posted = len(fake.calls("chat.postMessage"))
    fake.actor().slash_command(seeded.team_id, seeded.member, seeded.channel, "digest preview")
    preview = fake.wait_for(
        lambda: next((e for e in fake.ephemerals(seeded.member) if "Preview" in e["text"]), None), timeout=60
    )
    shown = text_of(preview)
    assert f"/docs/T0001/{canvas.id}|the readiness canvas>" in shown
    assert "…and 95 more in <" in shown  # the parent's lists, capped as posted
    assert "*The 20 most urgent teams* (a message each in the thread" in shown
    listed = shown.split("most urgent teams*", 1)[1]
    assert len(re.findall(r"^• \*Team \d{3}\* ·", listed, flags=re.M)) == 20
    assert len(preview["blocks"]) <= 50
    assert len(fake.calls("chat.postMessage")) == posted and len(fake.canvases()) == 1


def test_the_canvas_is_edited_not_recreated_the_same_week_and_the_next(
    big: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    send(big, NOW)
    (first,) = fake.canvases()
    assert first.edits == 0  # created with its content

    def newly_out_of_band(session: Any) -> None:
        add_sprints(session, seeded.team_id, channel(1), [(12, 50), (12, 50), (40, 50)], NOW.date(), NOW)

    big.db(newly_out_of_band)
    send(big, NOW + timedelta(hours=1))
    (again,) = fake.canvases()
    assert again.id == first.id and again.edits == 1
    assert len(parents(fake, DIGEST)) == 1

    send(big, NOW + timedelta(days=7))
    (next_week,) = fake.canvases()
    assert next_week.id == first.id and next_week.edits == 2
    assert "week 49" in next_week.markdown
    assert len(fake.calls("conversations.canvases.create")) == 1
    week_49 = parents(fake, DIGEST)[-1]
    assert "What changed since the digest of 2026-W48" in text_of(week_49)
    assert Counter(part(m) for m in parents(fake, DIGEST)) == Counter({"parent": 2})


def test_a_plan_without_canvases_gets_the_table_as_a_file_in_the_thread(
    big: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    fake.set_canvas_plan(seeded.team_id, "free")
    send(big, NOW)
    assert fake.canvases() == []
    (parent,) = parents(fake, DIGEST)
    assert "No readiness canvas (this Slack plan cannot create channel canvases)" in text_of(parent)
    assert "…and 95 more in the readiness table in the thread" in text_of(parent)
    (table,) = [f for f in fake.files() if f.filename == "scale-readiness-2026-W48.md"]
    assert table.thread_ts == parent["ts"] and table.completed
    assert sum(1 for line in table.content.decode().splitlines() if ROW.match(line)) == TEAMS


def test_a_channel_canvas_a_person_made_is_left_alone_and_ours_is_a_tab_beside_it(
    big: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    theirs = fake.add_person_canvas(DIGEST, seeded.member, "# Our channel's notes")
    send(big, NOW)
    send(big, NOW + timedelta(days=7))
    person, ours = sorted(fake.canvases(), key=lambda c: c.id != theirs)
    assert person.id == theirs and person.markdown == "# Our channel's notes" and person.edits == 0
    assert not ours.is_channel_canvas and ours.channel_id == DIGEST and ours.edits == 1
    assert len(fake.calls("canvases.create")) == 1


def test_charts_of_many_teams_show_the_distribution_and_the_worst_by_name_within_1600_by_900() -> None:
    from datetime import date

    from bot.digest.charts import DebtBar, LatencySeries, debt_chart, latency_chart

    bars = [DebtBar(f"Team {i:03d}", 0.05 + (i % 40) / 100, 0.2, "in band") for i in range(1000)]
    bars = [
        DebtBar(
            b.team,
            b.rolling,
            b.current,
            "under" if b.rolling < 0.2 else "over" if b.rolling > 0.3 else "in band",
        )
        for b in bars
    ]
    weeks = tuple(date(2026, 10, 5) + timedelta(weeks=k) for k in range(8))
    series = [
        LatencySeries(f"Team {i:03d}", tuple((w, 0.05 + i / 10000) for w in weeks)) for i in range(1000)
    ]
    debt, latency = debt_chart(bars), latency_chart(series)
    assert debt is not None and latency is not None
    assert (
        "Distribution of the tech-debt share of 1000 teams" in debt.alt and "Furthest out: Team" in debt.alt
    )
    assert latency.title == "p95 latency: the 10 slowest of 1000 teams"
    assert latency.alt.count(" ms") == 11 and "Team 999 150 ms" in latency.alt
    for chart in (debt, latency):
        image = matplotlib.image.imread(io.BytesIO(chart.png), format="png")
        height, width = image.shape[:2]
        assert width <= 1600 and height <= 900 and width >= 600
