"""The digest's plain rules: weeks and schedules, the agenda and cross-team dependencies, per-section
failure isolation, rendering within Slack's limits, charts, and pacing posts to Slack's rate."""

from __future__ import annotations

import asyncio
import io
import itertools
import re
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import matplotlib.image
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot import blocks as bk
from bot.digest import charts, slack_calls
from bot.digest.agenda import agenda, dependencies
from bot.digest.assemble import assemble
from bot.digest.config import DigestConfig
from bot.digest.model import (
    ChecklistFacts,
    DebtFacts,
    MetricsFacts,
    Mitigation,
    NoChecklist,
    PremortemFacts,
    Section,
    SignalLine,
    TeamDigest,
    TriggerLine,
    Week,
    available,
    unavailable,
)
from bot.digest.providers.metrics import change_text
from bot.digest.render import parent_message, preview_message
from bot.digest.render_team import team_message
from bot.digest.schedule import effective
from bot.digest.sections import collect
from bot.teams import Team

AS_OF = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WEEK = Week.of(AS_OF, "Europe/Berlin")


def team(name: str, channel: str, leads: tuple[str, ...] = (), managers: tuple[str, ...] = ()) -> Team:
    return Team("T1", channel, name, "default", leads=leads, managers=managers)


def debt(rolling: float, status: str, run: int = 0) -> DebtFacts:
    text = f"{rolling * 100:g}%"
    return DebtFacts("points", "Sprint 9", rolling, text, rolling, text, status, "steady", "▃▃▃", run)


def digest_of(
    t: Team,
    *,
    checklist: Any = None,
    premortem: Any = None,
    metrics: Any = None,
    debt_facts: Any = None,
) -> TeamDigest:
    sections: dict[str, Section[Any]] = {
        "checklist": available(
            "checklist", checklist or ChecklistFacts("Watch", "10K", AS_OF - timedelta(days=10))
        ),
        "premortem": available("premortem", premortem or PremortemFacts(exists=True)),
        "metrics": metrics or Section("metrics", note="no metrics source yet"),
        "debt": available("debt", debt_facts or debt(0.25, "in band")),
    }
    return TeamDigest(t, sections)  # type: ignore[arg-type]


# --- weeks and schedules ---------------------------------------------------------------------------


def test_the_week_is_the_iso_week_in_the_workspaces_own_time_zone() -> None:
    sunday_late_utc = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # Monday 00:30 in Berlin
    assert Week.of(sunday_late_utc, "UTC").key == "2026-W48"
    assert Week.of(sunday_late_utc, "Europe/Berlin").key == "2026-W49"
    assert Week.of(datetime(2027, 1, 1, tzinfo=UTC), "UTC").key == "2026-W53"


def test_what_setup_stored_wins_over_the_file_and_both_are_known() -> None:
    file = DigestConfig(channel="C0FILE", day="monday", time="09:00", timezone="UTC", managers=["U0A"])
    assert effective(file, None).channel == "C0FILE"
    stored = {"channel": "C0MINE", "day": "friday", "time": "16:30", "timezone": "Asia/Tokyo", "managers": []}
    mine = effective(file, stored)
    assert (mine.channel, mine.day, mine.time, mine.timezone, mine.managers) == (
        "C0MINE",
        "friday",
        "16:30",
        "Asia/Tokyo",
        (),
    )
    assert mine.from_setup and mine.in_file
    assert mine.next_run(AS_OF) == datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
    default = effective(DigestConfig(), None)
    assert (default.day, default.time, default.channel, default.grace_hours) == ("monday", "09:00", None, 12)


# --- agenda and dependencies -----------------------------------------------------------------------


def test_the_agenda_lists_what_needs_a_decision_by_kind_then_team() -> None:
    trigger = TriggerLine(
        "p95 read latency", "180 ms", "limit 100 ms", "evaluate a read replica", "004_26b48070c33732f0.txt"
    )
    metrics = available("metrics", MetricsFacts("prom", AS_OF, (), triggers=(trigger,)))
    overdue = Mitigation(
        "DB write throughput", "shard orders", "U0LEAD1", date(2026, 11, 1), "in progress", True
    )
    teams = [
        digest_of(
            team("Payments", "C1"), metrics=metrics, premortem=PremortemFacts(True, mitigations=(overdue,))
        ),
        digest_of(
            team("Search", "C2"), debt_facts=debt(0.1, "under", 3), checklist=NoChecklist(open_check=True)
        ),
        digest_of(
            team("Ads", "C3"),
            checklist=ChecklistFacts("Relax", "1K", AS_OF - timedelta(days=91)),
            premortem=PremortemFacts(exists=False),
        ),
        digest_of(team("Fresh", "C4"), checklist=ChecklistFacts("Relax", "1K", AS_OF - timedelta(days=90))),
    ]
    items = agenda(teams, AS_OF)
    assert [(i.kind, i.team) for i in items] == [
        ("trigger", "Payments"),
        ("overdue", "Payments"),
        ("out_of_band", "Search"),
        ("stale_check", "Search"),
        ("stale_check", "Ads"),
        ("no_premortem", "Ads"),
    ]
    assert (
        items[0].text
        == "*Payments*: p95 read latency 180 ms (limit 100 ms) → evaluate a read replica (“Your System Does Not Need to Scale to a Million Users on Day One” by Eric Hanson)"
    )
    assert "“DB write throughput” — shard orders (<@U0LEAD1>, due 2026-11-01, in progress)" in items[1].text
    assert (
        "10% of capacity on tech debt" in items[2].text
        and "under the band, 3 sprints running" in items[2].text
    )
    assert "no signal checklist yet (one is in progress)" in items[3].text
    assert "last signal checklist 91 days ago" in items[4].text


def test_a_top_risk_owned_by_someone_in_another_team_is_a_cross_team_dependency() -> None:
    owned_elsewhere = PremortemFacts(True, top_risk="authentication service", top_risk_owner="U0PLAT")
    owned_here = PremortemFacts(True, top_risk="database", top_risk_owner="U0PLAT")
    teams = [
        digest_of(team("Payments", "C1", leads=("U0PAY",)), premortem=owned_elsewhere),
        digest_of(team("Platform", "C2", leads=("U0PLAT",)), premortem=owned_here),
        digest_of(
            team("Search", "C3", leads=("U0SRCH",)),
            premortem=PremortemFacts(True, top_risk="x", top_risk_owner="U0SRCH"),
        ),
    ]
    (dep,) = dependencies(teams)
    assert (dep.team, dep.risk, dep.owner, dep.owner_team) == (
        "Payments",
        "authentication service",
        "U0PLAT",
        "Platform",
    )
    # Platform's top risk is owned by Payments' lead: a dependency the other way too.
    teams[1] = digest_of(
        team("Platform", "C2", leads=("U0PLAT",)),
        premortem=PremortemFacts(True, top_risk="db", top_risk_owner="U0PAY"),
    )
    assert [(d.team, d.owner_team) for d in dependencies(teams)] == [
        ("Payments", "Platform"),
        ("Platform", "Payments"),
    ]


# --- collecting: a failing section degrades only itself --------------------------------------------


async def test_a_provider_that_fails_or_stalls_marks_only_its_own_section_unavailable() -> None:
    async def fine(rt: Any, t: Team, week: Week, as_of: datetime) -> Section[Any]:
        return available("debt", debt(0.25, "in band"))

    async def broken(rt: Any, t: Team, week: Week, as_of: datetime) -> Section[Any]:
        raise RuntimeError("boom")

    async def slow(rt: Any, t: Team, week: Week, as_of: datetime) -> Section[Any]:
        await asyncio.sleep(5)
        raise AssertionError("unreachable")

    providers = {"debt": fine, "metrics": broken, "checklist": slow}
    (td,) = await collect(
        None, [team("Payments", "C1")], WEEK, AS_OF, providers=providers, section_seconds=0.2
    )  # type: ignore[arg-type]
    assert td.section("debt").ok
    assert (
        td.section("metrics").unavailable
        and "an error on my side (error id `" in td.section("metrics").unavailable
    )
    assert td.section("checklist").unavailable == "no answer within 0.2 s"
    shown = team_message(td, AS_OF)
    text = " ".join(b.get("text", {}).get("text", "") for b in shown["blocks"])
    assert ":warning: unavailable: no answer within 0.2 s" in text and "rolling 25%" in text


# --- rendering within Slack's limits ---------------------------------------------------------------


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    out = []
    for b in blocks:
        if "text" in b and isinstance(b["text"], dict):
            out.append(b["text"]["text"])
        out += [f["text"] for f in b.get("fields") or []]
        out += [e["text"] for e in b.get("elements") or [] if isinstance(e, dict) and "text" in e]
    return out


def test_a_thousand_teams_fit_the_parent_message_and_the_preview() -> None:
    trigger = TriggerLine("error rate", "2%", "limit 1%", "find what fails", "001_9a79e61d27315dc6.txt")
    metrics = available("metrics", MetricsFacts("prom", AS_OF, (), triggers=(trigger,)))
    teams = [
        digest_of(team(f"Team {i:04d}", f"C{i:05d}"), metrics=metrics, debt_facts=debt(0.4, "over"))
        for i in range(1000)
    ]
    digest = assemble("T1", WEEK, AS_OF, teams)
    for payload in (parent_message(digest), preview_message(digest, "C0DIGEST")):
        assert len(payload["blocks"]) <= bk.MAX_MESSAGE_BLOCKS
        assert all(len(t) <= bk.MAX_SECTION_TEXT for t in _texts(payload["blocks"]))
        assert payload["text"]
    shown = "\n".join(_texts(parent_message(digest)["blocks"]))
    assert "*:rotating_light: Breached scaling triggers* (1000)" in shown and "more in the thread" in shown


def test_the_preview_at_company_size_shows_the_parent_as_posted_and_the_teams_the_thread_will_hold() -> None:
    """The preview is the parent as it would be posted (lists capped, "and N more" pointing at the
    canvas) and the most urgent teams the thread would hold, not a line for every team."""
    teams = []
    for i in range(300):
        over = i % 3 == 0  # 100 teams past the band, by a growing margin
        teams.append(
            digest_of(
                team(f"Team {i:04d}", f"C{i:05d}"),
                debt_facts=debt(0.31 + i / 1000, "over") if over else debt(0.25, "in band"),
            )
        )
    digest = assemble("T1", WEEK, AS_OF, teams)
    url = "https://acme.slack.com/docs/T1/F0CANVAS"
    payload = preview_message(digest, "C0DIGEST", agenda_cap=5, reply_cap=20, canvas_url=url)
    shown = "\n".join(_texts(payload["blocks"]))
    assert len(payload["blocks"]) <= bk.MAX_MESSAGE_BLOCKS
    assert "…and 95 more" in shown and f"<{url}|the readiness canvas>" in shown
    assert "*The 20 most urgent teams* (a message each in the thread" in shown
    assert "The thread has the charts and the 20 most urgent of the 300 teams" in shown
    listed = re.findall(r"\*(Team \d{4})\*", shown.split("most urgent teams*", 1)[1])
    urgent = [td.team.name for td in digest.reply_teams(20)]
    assert listed == urgent and len(listed) == 20
    assert urgent[0] == "Team 0297"  # furthest past the band first
    # before the first digest there is no canvas yet: the preview says where the rows will be
    first = "\n".join(_texts(preview_message(digest, "C0DIGEST", agenda_cap=5, reply_cap=20)["blocks"]))
    assert "in the readiness canvas (the digest creates it in its channel)" in first
    assert "in the thread" not in first.split("more", 1)[1].split("\n", 1)[0]
    # a workspace with no more teams than the cap keeps one message per team
    small = assemble("T1", WEEK, AS_OF, teams[:12])
    few = "\n".join(_texts(preview_message(small, "C0DIGEST", agenda_cap=5, reply_cap=20)["blocks"]))
    assert "*Teams* (one message each in the thread)" in few


def test_user_text_is_escaped_and_a_team_with_many_mitigations_stays_within_limits() -> None:
    many = tuple(
        Mitigation(f"<!channel> part {i} & co", "x" * 400, "U0LEAD1", date(2026, 12, 1), "open")
        for i in range(200)
    )
    td = digest_of(team("<!here> & <@U0X>", "C1"), premortem=PremortemFacts(True, mitigations=many))
    payload = team_message(td, AS_OF)
    assert len(payload["blocks"]) <= bk.MAX_MESSAGE_BLOCKS
    assert all(len(t) <= bk.MAX_SECTION_TEXT for t in _texts(payload["blocks"]))
    header, *rest = payload["blocks"]
    assert header["text"] == {"type": "plain_text", "text": "<!here> & <@U0X>", "emoji": True}  # never parsed
    joined = "\n".join(_texts(rest)) + payload["text"]
    assert "<!channel>" not in joined and "<!here>" not in joined and "<@U0X>" not in joined
    assert "&lt;!channel&gt; part 0 &amp; co" in joined
    assert re.search(r"…and 1\d\d more: `/scale-check premortem status`", joined)


def test_a_signal_line_shows_value_limit_status_and_change() -> None:
    line = SignalLine("p95_latency", "p95 latency", "120 ms", "limit 100 ms", "breached", "+20 ms")
    td = digest_of(team("Payments", "C1"), metrics=available("metrics", MetricsFacts("prom", AS_OF, (line,))))
    shown = "\n".join(_texts(team_message(td, AS_OF)["blocks"]))
    assert "• p95 latency 120 ms (limit 100 ms) :red_circle: · +20 ms since last week" in shown


# --- charts ----------------------------------------------------------------------------------------


async def test_charts_are_real_pngs_and_many_teams_are_narrowed_to_the_ones_that_matter() -> None:
    weeks = tuple((date(2026, 10, 5) + timedelta(weeks=i), 0.1 + i / 100) for i in range(8))
    teams = []
    for i in range(300):
        facts = MetricsFacts("prom", AS_OF, (), p95_weeks=weeks)
        teams.append(
            digest_of(
                team(f"Team {i}", f"C{i}"),
                metrics=available("metrics", facts),
                debt_facts=debt(0.05 + (i % 40) / 100, "in band" if 20 <= 5 + i % 40 <= 30 else "under"),
            )
        )
    rendered = await charts.render_charts(teams)
    assert [c.name for c in rendered] == ["debt-share", "p95-latency"]
    for chart in rendered:
        assert chart.png[:8] == b"\x89PNG\r\n\x1a\n" and chart.png[12:16] == b"IHDR"
        image = matplotlib.image.imread(io.BytesIO(chart.png), format="png")
        assert image.shape[0] > 200 and image.shape[1] > 400
    assert rendered[0].title.startswith("Tech-debt share of all 300 teams: ")  # the distribution
    assert rendered[1].title == "p95 latency: the 10 slowest of 300 teams"
    assert await charts.render_charts([digest_of(team("Quiet", "C1"), debt_facts=None)]) != []
    no_data = TeamDigest(team("Empty", "C9"), {"debt": unavailable("debt", "down")})
    assert await charts.render_charts([no_data]) == []


# --- pacing and 429s -------------------------------------------------------------------------------


def _rate_limited(retry_after: str) -> SlackApiError:
    response = AsyncSlackResponse(
        client=None,
        http_verb="POST",
        api_url="http://127.0.0.1/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": "ratelimited"},
        headers={"Retry-After": retry_after},
        status_code=429,
    )
    return SlackApiError("ratelimited", response)


async def test_posts_to_one_channel_are_spaced_and_a_429_is_waited_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(slack_calls, "POST_INTERVAL", 0.1)
    monkeypatch.setattr(slack_calls, "_pacers", type(slack_calls._pacers)())
    times: list[float] = []
    failures = [_rate_limited("1")]

    async def post(**kwargs: Any) -> dict[str, Any]:
        times.append(time.monotonic())
        if kwargs["n"] == 1 and failures:
            raise failures.pop()
        return {"ok": True, "n": kwargs["n"]}

    results = [await slack_calls.paced("C1", post, n=n) for n in range(3)]
    assert [r["n"] for r in results] == [0, 1, 2]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(g >= 0.09 for g in gaps)
    assert gaps[1] >= 0.95  # the retry waited for Retry-After: 1


def test_a_trigger_says_whose_limit_it_crossed() -> None:
    def line(seed: str | None, origin: str) -> str:
        trigger = TriggerLine("DB connections", "85%", "ceiling 80%", "add a pooler", seed, origin)
        metrics = available("metrics", MetricsFacts("prom", AS_OF, (), triggers=(trigger,)))
        (item,) = agenda([digest_of(team("Payments", "C1"), metrics=metrics)], AS_OF)
        return item.text

    assert line("004_26b48070c33732f0.txt", "seed").endswith(
        "(“Your System Does Not Need to Scale to a Million Users on Day One” by Eric Hanson)"
    )
    assert line(None, "brief").endswith("(the default 80% ceiling of the product brief's 10x rule)")
    assert line(None, "defaults").endswith("(the default ceiling in the config file)")
    assert line("004_26b48070c33732f0.txt", "team").endswith(
        "(“Your System Does Not Need to Scale to a Million Users on Day One” by Eric Hanson; the team's own limit)"
    )


def test_the_change_since_last_week_says_no_change_rather_than_plus_zero() -> None:
    assert change_text("ratio", 1.0, 1.0) == "no change"
    assert change_text("rate", 12.5, 12.5) == "no change"
    assert change_text("ratio", 0.9955, 1.0) == "−0.45 points"
    assert change_text("latency", 0.171, 0.1707) == "+0.3 ms"
    assert change_text("rate", 35.5, 33.4) == "+6.3%"
