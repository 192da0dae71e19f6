"""The weekly digest over real signed HTTP and the Slack fake: what a manager sees in the channel, the
thread and their DMs, and how a failing source, a failing chart upload or a crash degrade only their part."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import matplotlib.image
import pytest
from sqlmodel import select

import storage.digest
from bot.clock import ManualClock
from bot.config import AppConfig
from bot.digest import slack_calls
from localslack import Actor, FakeSlack
from storage import digest as repo
from storage.metrics import MetricsSnapshotRow
from tests.digest_support import (
    TinyPrometheus,
    add_check,
    add_p95_history,
    add_premortem,
    add_sprints,
    closed_port_url,
    parents,
    part,
    team_messages,
    text_of,
)
from tests.harness import BotServer, Seeded, wait_until

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday: ISO week 48
DIGEST = "C0DIGEST"


@pytest.fixture(autouse=True)
def quick_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fake does not enforce Slack's per-channel rate here; the rate tests and the bench do.
    monkeypatch.setattr(slack_calls, "POST_INTERVAL", 0.01)


@pytest.fixture
def prom() -> Iterator[TinyPrometheus]:
    server = TinyPrometheus()
    yield server
    server.close()


def digest_config(seeded: Seeded, prom_url: str) -> AppConfig:
    return AppConfig.model_validate(
        {
            "defaults": {"metrics": {"retries": 0, "cache_ttl_seconds": 0}},
            "sources": {
                "prom": {"kind": "prometheus", "url": prom_url},
                "legacy": {"kind": "prometheus", "url": closed_port_url(), "timeout_seconds": 0.5},
            },
            "teams": [
                {
                    "name": "Payments",
                    "channel": seeded.channel,
                    "leads": [seeded.lead],
                    "managers": [seeded.manager],
                    "metrics": {
                        "source": "prom",
                        "service": "payments",
                        "signals": {
                            "p95_read_latency": {},
                            "db_pool": {"kind": "saturation", "query": "max(db_pool_utilisation)"},
                        },
                    },
                },
                {
                    "name": "Search <&> Discovery",
                    "channel": seeded.other_channel,
                    "leads": [seeded.lead2],
                    "managers": [seeded.manager],
                    "metrics": {"source": "legacy"},
                },
            ],
            "digest": {"channel": DIGEST, "managers": [seeded.manager], "timezone": "Europe/Berlin"},
        }
    )


def seed(bot: BotServer, seeded: Seeded) -> None:
    ws = seeded.team_id

    def write(session: Any) -> None:
        add_check(
            session,
            ws,
            seeded.channel,
            "Payments",
            "watch",
            "10K",
            NOW - timedelta(days=12),
            "https://acme.example/p1",
        )
        add_check(session, ws, seeded.other_channel, "Search", "relax", "1K", NOW - timedelta(days=120))
        add_sprints(session, ws, seeded.channel, [(10, 50), (12, 50), (14, 50)], NOW.date(), NOW)
        add_sprints(session, ws, seeded.other_channel, [(5, 50), (5, 50)], NOW.date(), NOW)
        add_p95_history(session, ws, seeded.channel, "Payments", NOW, [0.08, 0.09, 0.09, 0.1, 0.1, 0.1, 0.1])
        add_premortem(
            session,
            ws,
            seeded.channel,
            "Payments",
            NOW - timedelta(days=20),
            [
                (
                    "database write throughput",
                    "shard the orders table",
                    seeded.lead2,
                    date(2026, 12, 15),
                    "in_progress",
                ),
                ("authentication service", "cache tokens", seeded.lead, date(2026, 11, 20), "open"),
            ],
        )

    bot.db(write)


@pytest.fixture
def digest_bot(make_bot: Any, fake: FakeSlack, seeded: Seeded, prom: TinyPrometheus) -> BotServer:
    members = [seeded.lead, seeded.lead2, seeded.manager, seeded.member, seeded.admin]
    fake.add_channel(seeded.team_id, DIGEST, "scale-digest", members=members)
    bot: BotServer = make_bot(config=digest_config(seeded, prom.url), clock=ManualClock(NOW))
    seed(bot, seeded)
    return bot


def send_now(actor: Actor, seeded: Seeded, fake: FakeSlack, user: str | None = None) -> dict[str, Any]:
    actor.slash_command(seeded.team_id, user or seeded.manager, seeded.channel, "digest now")
    return fake.wait_for(
        lambda: next(
            (e for e in fake.ephemerals(user or seeded.manager) if "digest" in e["text"].lower()), None
        ),
        timeout=20,
    )


def test_digest_now_posts_the_agenda_and_one_thread_message_per_team_with_the_seeded_values(
    digest_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    actor = fake.actor()
    answer = send_now(actor, seeded, fake)
    assert "Posted this week's digest" in answer["text"]

    (parent,) = parents(fake, DIGEST)
    shown = text_of(parent)
    assert "Scalability digest · week 48, 2026" in shown
    assert (
        "weekly or bi-weekly syncs" in shown
        and "(“Scalability is a strategic necessity, not a technical detail”)" in shown
    )
    assert (
        "p95 read latency 180 ms over the last 5 minutes (limit 100 ms) → evaluate a read replica (“Your System Does Not Need to Scale to a Million Users on Day One” by Eric Hanson)"
        in shown
    )
    assert (
        "*Search &lt;&amp;&gt; Discovery*: 10% of capacity on tech debt" in shown
        and "under the band" in shown
    )
    assert "last signal checklist 120 days ago" in shown
    assert (
        f"*Payments*: “authentication service” — cache tokens (<@{seeded.lead}>, due 2026-11-20, open)"
        in shown
    )
    assert "*Search &lt;&amp;&gt; Discovery*: no pre-mortem yet" in shown
    assert (
        f"*Payments*' top risk “database write throughput” is owned by <@{seeded.lead2}> "
        "of *Search &lt;&amp;&gt; Discovery*"
    ) in shown
    assert len(parent["blocks"]) <= 50
    assert "Details for both teams and the charts are in the thread." in shown

    payments, search = team_messages(fake, DIGEST, parent["ts"])
    p = text_of(payments)
    assert "*Watch* · stage 10K · 12 days ago" in p
    assert "*Pre-mortem mitigations*: 2 open mitigations (1 overdue)" in p
    assert (
        f"• “database write throughput” — shard the orders table · <@{seeded.lead2}> · due Dec 15, 2026 · in progress"
        in p
    )
    assert (
        f"• “authentication service” — cache tokens · <@{seeded.lead}> · due Nov 20, 2026 · open · :red_circle: *overdue*"
        in p
    )
    assert "p95 read latency 180 ms over the last 5 minutes (limit 100 ms) :red_circle:" in p
    assert "p95 latency 120 ms over the last 5 minutes (limit 2 s)" in p and "+20 ms since last week" in p
    assert "*Breaks first at 10x:* db pool ×1.6" in p
    assert "Sprint 3 28% · rolling 24%" in p and "*in band*" in p
    s = text_of(search)
    assert "Search &lt;&amp;&gt; Discovery" in s
    assert ":warning: unavailable: metrics unavailable from legacy: refused the connection" in s
    assert "*Relax* · stage 1K · 120 days ago" in s and "*stale*" in s
    assert "rolling 10%" in s and "*under*" in s
    assert "*Pre-mortem mitigations*: no pre-mortem yet" in s

    files = [f for f in fake.files() if f.completed]
    assert {f.filename for f in files} == {"debt-share-2026-W48.png", "p95-latency-2026-W48.png"}
    for f in files:
        image = matplotlib.image.imread(io.BytesIO(f.content), format="png")
        assert image.shape[0] > 100 and image.shape[1] > 300
        assert f.thread_ts == parent["ts"]

    dm = fake.wait_for(
        lambda: [
            m
            for c in fake.calls("chat.postMessage")
            if c.args.get("channel", "").startswith("D")
            for m in [c]
        ]
    )
    assert dm
    dm_texts = [text_of(m) for ch in {c.args["channel"] for c in dm} for m in fake.messages(ch)]
    assert any(f"/archives/{DIGEST}/p{parent['ts'].replace('.', '')}" in t for t in dm_texts)


def test_running_the_same_week_again_edits_in_place_and_posts_nothing_new(
    digest_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    actor = fake.actor()
    send_now(actor, seeded, fake)
    posted = len(fake.calls("chat.postMessage"))
    answer_count = len(fake.ephemerals(seeded.manager))
    actor.slash_command(seeded.team_id, seeded.manager, seeded.channel, "digest now")
    fake.wait_for(lambda: len(fake.ephemerals(seeded.manager)) > answer_count, timeout=20)
    assert "Updated in place" in fake.ephemerals(seeded.manager)[-1]["text"]
    assert len(parents(fake, DIGEST)) == 1
    assert len(team_messages(fake, DIGEST, parents(fake, DIGEST)[0]["ts"])) == 2
    assert len(fake.calls("chat.postMessage")) == posted  # no new message, no new DM
    assert len([f for f in fake.files() if f.completed]) == 2  # charts are not uploaded twice
    (run,) = digest_bot.db(repo.runs_of, seeded.team_id)
    assert run.week == "2026-W48" and run.status == "sent" and run.reason == "now"


def test_a_failed_chart_upload_leaves_the_digest_out_without_that_chart(
    digest_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    fake.fail_next("files.getUploadURLExternal", "internal_error")
    send_now(fake.actor(), seeded, fake)
    (parent,) = parents(fake, DIGEST)
    assert len(team_messages(fake, DIGEST, parent["ts"])) == 2
    uploaded = [f.filename for f in fake.files() if f.completed]
    assert uploaded == ["p95-latency-2026-W48.png"]
    assert "could not be uploaded (internal_error); the digest went out without it" in text_of(
        fake.message(DIGEST, parent["ts"]) or {}
    )


def test_a_run_that_died_between_posting_and_recording_finds_its_message_instead_of_posting_twice(
    digest_bot: BotServer, fake: FakeSlack, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = storage.digest.post_done
    calls = {"team": 0}

    def dies_after_the_first_team_post(session: Any, *args: Any, **kwargs: Any) -> None:
        if args[2] == "team" and kwargs.get("ts"):
            calls["team"] += 1
            if calls["team"] == 1:
                raise RuntimeError("the process died here")
        real(session, *args, **kwargs)

    monkeypatch.setattr(storage.digest, "post_done", dies_after_the_first_team_post)
    actor = fake.actor()
    actor.slash_command(seeded.team_id, seeded.manager, seeded.channel, "digest now")
    fake.wait_for(lambda: any("error id" in e["text"] for e in fake.ephemerals(seeded.manager)), timeout=20)
    (parent,) = parents(fake, DIGEST)
    assert len(team_messages(fake, DIGEST, parent["ts"])) == 1  # posted, but not recorded

    monkeypatch.setattr(storage.digest, "post_done", real)
    send_now(actor, seeded, fake)
    assert len(parents(fake, DIGEST)) == 1
    assert len(team_messages(fake, DIGEST, parent["ts"])) == 2
    assert fake.calls("conversations.replies")  # it looked before posting again


def test_preview_is_shown_only_to_the_person_and_posts_nothing(
    digest_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    fake.actor().slash_command(seeded.team_id, seeded.member, seeded.channel, "digest preview")
    preview = fake.wait_for(
        lambda: next((e for e in fake.ephemerals(seeded.member) if "Preview" in e["text"]), None), timeout=20
    )
    shown = text_of(preview)
    assert "Preview only: nothing was posted" in shown and "*Payments* · Watch" in shown
    assert "· 1 breached trigger" in shown and "1 breached triggers" not in shown
    assert len(preview["blocks"]) <= 50
    assert fake.messages(DIGEST) == []


def test_digest_now_from_someone_not_a_manager_or_admin_says_who_can_and_posts_nothing(
    digest_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    fake.actor().slash_command(seeded.team_id, seeded.member, seeded.channel, "digest now")
    answer = fake.wait_for(lambda: next((e for e in fake.ephemerals(seeded.member)), None), timeout=10)
    assert f"Only the workspace's managers (<@{seeded.manager}>) and admins" in answer["text"]
    assert "digest preview" in answer["text"]
    wait_until(lambda: True)
    assert fake.messages(DIGEST) == []


def test_an_admin_may_post_the_digest_now(digest_bot: BotServer, fake: FakeSlack, seeded: Seeded) -> None:
    answer = send_now(fake.actor(), seeded, fake, user=seeded.admin)
    assert "Posted this week's digest" in answer["text"]
    assert [part(m) for m in fake.messages(DIGEST)] == ["parent"]


def test_a_month_old_reading_is_not_called_last_week_and_its_date_is_shown(
    digest_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    def only_a_month_old_reading(session: Any) -> None:
        for row in session.exec(select(MetricsSnapshotRow)):
            session.delete(row)
        session.flush()
        # Monday Oct 26, four weeks before the digest's week: p95 then was 100 ms.
        add_p95_history(session, seeded.team_id, seeded.channel, "Payments", NOW - timedelta(weeks=3), [0.1])

    digest_bot.db(only_a_month_old_reading)
    send_now(fake.actor(), seeded, fake)
    (parent,) = parents(fake, DIGEST)
    payments = text_of(team_messages(fake, DIGEST, parent["ts"])[0])
    oct_26 = int(datetime(2026, 10, 26, 9, 0, tzinfo=UTC).timestamp())
    since = f"<!date^{oct_26}^{{date_short}}|2026-10-26 09:00 UTC>"
    assert "since last week" not in payments
    assert f"no reading last week, so changes are since {since}" in payments
    assert (
        f"p95 latency 120 ms over the last 5 minutes (limit 2 s) :white_check_mark: · +20 ms since {since}"
        in payments
    )


def test_without_any_earlier_reading_the_digest_says_there_was_none_last_week(
    digest_bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    def no_readings(session: Any) -> None:
        for row in session.exec(select(MetricsSnapshotRow)):
            session.delete(row)

    digest_bot.db(no_readings)
    send_now(fake.actor(), seeded, fake)
    (parent,) = parents(fake, DIGEST)
    payments = text_of(team_messages(fake, DIGEST, parent["ts"])[0])
    assert "no reading last week" in payments and " since " not in payments.split("*Tech-debt")[0]
