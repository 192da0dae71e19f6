"""Tech-debt capacity in Slack, over real signed HTTP: every command form, the form, the allocation,
corrections and history, malformed input, and the nudge with its two buttons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import AppConfig, TeamConfig
from bot.debt import nudges, service
from localslack import Actor, FakeSlack
from storage import debt as repo
from storage import debt_status as status_repo
from tests.conftest import BotFactory
from tests.harness import BotServer, Seeded

NOW = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)  # a Thursday inside "Sprint 41" (2026-03-02 – 2026-03-13)


def config() -> AppConfig:
    return AppConfig(teams=[TeamConfig(name="Payments", channel="C0PAYMENTS", managers=["U0MGR1"])])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def bot(make_bot: BotFactory, clock: ManualClock) -> BotServer:
    return make_bot(config=config(), clock=clock)


def text_of(message: dict[str, Any]) -> str:
    """What a person reads: the section and context texts of a message."""
    parts = [message.get("text") or ""]
    for block in message.get("blocks") or []:
        if block.get("type") in ("section", "header"):
            parts.append((block.get("text") or {}).get("text", ""))
        elif block.get("type") == "context":
            parts += [e.get("text", "") for e in block.get("elements", [])]
    return "\n".join(parts)


def debt_command(fake: FakeSlack, s: Seeded, user: str, args: str) -> str:
    """Run `/scale-check debt args` and return what the person sees next (the ack's or the answer)."""
    seen = len(fake.ephemerals(user))
    fake.actor().slash_command(s.team_id, user, s.channel, f"debt {args}".strip())
    fresh = fake.wait_for(lambda: fake.ephemerals(user)[seen:], message=f"an answer to debt {args}")
    return text_of(fresh[-1])


def stored(bot: BotServer, s: Seeded) -> list[tuple[str, list[tuple[float, float, str, str]]]]:
    rows = bot.db(repo.sprints, s.team_id, s.channel)
    return [
        (sprint.name, [(e.debt, e.capacity, e.unit, e.author) for e in entries]) for sprint, entries in rows
    ]


def test_each_command_form_and_the_form_record_sprints_and_the_answer_shows_the_allocation(
    bot: BotServer, fake: FakeSlack, seeded: Seeded, clock: ManualClock
) -> None:
    s = seeded
    said = debt_command(fake, s, s.lead, '10 of 50 points sprint "Sprint 40" from 2026-02-16 to 2026-02-27')
    assert "Recorded 10 of 50 points (20%) for *Sprint 40*" in said
    said = debt_command(fake, s, s.member, '12/50 sprint "Sprint 41" from 2026-03-02 to 2026-03-13')
    assert "Recorded 12 of 50 points (24%) for *Sprint 41*" in said

    # No sprint named: the current sprint, the one whose dates contain today. A correction.
    clock.advance(timedelta(hours=1))
    said = debt_command(fake, s, s.lead2, "30% of 40 points")
    assert (
        "Corrected *Sprint 41*: now 12 of 40 points (30%), was 12 of 50 points (24%), typed in Slack" in said
    )

    # The form: opened by the bare command, prefilled with the current sprint, next to the allocation.
    debt_command(fake, s, s.lead, "")
    view = fake.views_for(s.lead)[-1]
    assert view["callback_id"] == "debt.record"
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["sprint"]["initial_value"] == "Sprint 41"
    assert inputs["starts"]["initial_date"] == "2026-03-02"
    answer = text_of(fake.ephemerals(s.lead)[-1])
    assert "Current sprint: Sprint 41" in answer

    submitted = fake.actor().submit_view(
        s.team_id,
        s.lead,
        view["id"],
        {
            "sprint": {"value": "Sprint 42"},
            "starts": {"value": "2026-03-16"},
            "ends": {"value": "2026-03-27"},
            "capacity": {"value": "40"},
            "debt": {"value": "10"},
            "unit": {"value": "points"},
            "note": {"value": "planned <@U0MGR1> & co"},
        },
    )
    assert submitted.response_action == "close" and submitted.view is None
    said = text_of(
        fake.wait_for(lambda: [e for e in fake.ephemerals(s.lead) if "Sprint 42" in (e["text"] or "")])[-1]
    )
    assert "Recorded 10 of 40 points (25%) for *Sprint 42*" in said
    # Sprint 42 is planned (starts after today): Sprint 41 stays current and 42 is not in the figures.
    assert "*Current sprint: Sprint 41* (2026-03-02 – 2026-03-13)" in said
    assert "*12 of 40 points = 30%* · in band" in said
    assert "Rolling figure: 24.4%* — *in band* (22 of 90 points over the last 2 sprints)" in said
    assert "“High-performing teams allocate a fixed engineering bandwidth—often 20–30%" in said
    assert "(“How to Scale a Web Application from 1K to 1M Users”, FAQ 4" in said
    assert "Trend, last 2 sprints* (rising): `▄▅`" in said
    assert f"Latest write: typed in Slack by <@{s.lead2}>" in said
    assert "Corrected 1 time" in said
    assert "Not counted until they are current: Sprint 42 (2026-03-16 – 2026-03-27)." in said

    assert stored(bot, s) == [
        ("Sprint 40", [(10.0, 50.0, "points", s.lead)]),
        ("Sprint 41", [(12.0, 50.0, "points", s.member), (12.0, 40.0, "points", s.lead2)]),
        ("Sprint 42", [(10.0, 40.0, "points", s.lead)]),
    ]

    history = debt_command(fake, s, s.manager, "history")
    assert "*Sprint 41* (2026-03-02 – 2026-03-13): *12 of 40 points = 30%*" in history
    assert f"• latest: 12 of 40 points (30%), typed in Slack by <@{s.lead2}>" in history
    assert f"• was 12 of 50 points (24%), typed in Slack by <@{s.member}>" in history
    assert "“planned &lt;@U0MGR1&gt; &amp; co”" in history  # a note cannot mention anyone


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ("twelve of fifty", "I couldn't read the figures in `twelve of fifty`."),
        ("60 of 50", "The debt part (60) can't be more than the capacity (50)."),
        ("-5 of 50", "Figures can't be negative."),
        ("5 of 0", "The capacity must be more than 0."),
        (
            '5 of 50 sprint "S" from 2026-03-13 to 2026-03-02',
            "can't end (2026-03-02) before it starts (2026-03-13)",
        ),
    ],
)
def test_malformed_input_gets_a_sentence_with_the_accepted_forms_and_records_nothing(
    bot: BotServer, fake: FakeSlack, seeded: Seeded, args: str, says: str
) -> None:
    said = debt_command(fake, seeded, seeded.lead, args)
    assert says in said
    assert "Accepted forms: `/scale-check debt 12 of 50`" in said
    assert fake.ephemerals(seeded.lead)[-1]["source"] == "command_response"  # answered in the ack
    assert stored(bot, seeded) == []


def test_the_form_refuses_bad_figures_under_their_inputs_and_records_nothing(
    bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    s = seeded
    fake.actor().slash_command(s.team_id, s.lead, s.channel, "debt")
    view = fake.wait_for(lambda: fake.views_for(s.lead))[-1]
    assert not fake.ephemerals(s.lead)  # no allocation before the first sprint
    result = fake.actor().submit_view(
        s.team_id,
        s.lead,
        view["id"],
        {
            "sprint": {"value": "Sprint 9"},
            "starts": {"value": "2026-03-13"},
            "ends": {"value": "2026-03-02"},
            "capacity": {"value": "0"},
            "debt": {"value": "3"},
            "unit": {"value": "hours"},
        },
    )
    assert result.response_action == "errors"
    assert result.errors == {
        "ends": "The sprint can't end before it starts.",
        "capacity": "The capacity must be a number more than 0.",
    }
    result = fake.actor().submit_view(
        s.team_id,
        s.lead,
        view["id"],
        {"ends": {"value": "2026-03-20"}, "capacity": {"value": "20"}, "debt": {"value": "25"}},
    )
    assert result.errors == {"debt": "The debt part can't be more than the capacity (20)."}
    assert stored(bot, s) == []


def test_the_first_figure_without_a_sprint_name_asks_for_one(
    bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    said = debt_command(fake, seeded, seeded.lead, "12 of 50")
    assert "There is no sprint yet to record against: name it" in said
    assert stored(bot, seeded) == []


def nudges_in(fake: FakeSlack, s: Seeded) -> list[dict[str, Any]]:
    return [m for m in fake.messages(s.channel) if "tech-debt band for" in (m.get("text") or "")]


def test_two_sprints_under_the_band_nudge_once_and_a_new_run_nudges_again(
    bot: BotServer, fake: FakeSlack, seeded: Seeded, clock: ManualClock
) -> None:
    s = seeded

    def sprint(name: str, figures: str) -> None:
        clock.advance(timedelta(minutes=5))
        debt_command(fake, s, s.lead, f'{figures} sprint "{name}"')

    sprint("S1", "5 of 50")  # 10%: under, one sprint
    assert nudges_in(fake, s) == []
    sprint("S2", "6 of 40")  # 15%: under, two in a row
    first = fake.wait_for(lambda: nudges_in(fake, s))
    assert len(first) == 1
    said = text_of(first[0])
    assert (
        "Payments has spent under the 20–30% tech-debt band for 2 sprints in a row:* S1 10% (5 of 50 points), S2 15% (6 of 40 points)"
        in said
    )
    assert "“Technical debt slows development, increases bugs, and blocks scaling”" in said
    assert "“Scalability is a strategic necessity, not a technical detail”" in said
    buttons = [e["text"]["text"] for b in first[0]["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["Plan a Fix-It sprint", "Acknowledge"]

    sprint("S3", "2 of 40")  # still under: the same run, no second nudge
    sprint("S4", "10 of 40")  # back in band
    sprint("S5", "2 of 50")  # out again: one sprint
    assert len(nudges_in(fake, s)) == 1
    # 40%: over; under then over is two out of band. It started today (a later start would be planned).
    sprint("S6", "20 of 50 from 2026-03-05 to 2026-03-16")
    fake.wait_for(lambda: len(nudges_in(fake, s)) == 2)
    second = nudges_in(fake, s)[1]
    assert (
        "spent outside the 20–30% tech-debt band for 2 sprints in a row:* S5 4% (2 of 50 points), S6 40% (20 of 50 points)"
        in text_of(second)
    )

    # Acknowledge the first: who is recorded, the message says so, the button goes.
    fake.actor().click(s.team_id, s.member, s.channel, first[0]["ts"], "debt.nudge.ack")
    updated = fake.wait_for(
        lambda: (
            "Acknowledged by" in text_of(fake.message(s.channel, first[0]["ts"]) or {})
            and fake.message(s.channel, first[0]["ts"])
        )
    )
    assert f"Acknowledged by <@{s.member}>" in text_of(updated)
    assert [
        e["text"]["text"] for b in updated["blocks"] if b["type"] == "actions" for e in b["elements"]
    ] == ["Plan a Fix-It sprint"]

    # Plan a Fix-It sprint on the second: the next sprint's dates, the manager told by DM, the answer shows it.
    fake.actor().click(s.team_id, s.lead, s.channel, second["ts"], "debt.nudge.fixit")
    dm = fake.wait_for(
        lambda: [c for c in fake.calls("chat.postMessage") if str(c.args.get("channel", "")).startswith("D")]
    )
    assert "Fix-It sprint planned for 2026-03-17 – 2026-03-28 (after S6)" in str(dm[-1].args)
    opened = [c.args.get("users") for c in fake.calls("conversations.open")]
    assert opened == [s.manager]
    answer = debt_command(fake, s, s.member, "")
    assert (
        f":hammer_and_wrench: Fix-It sprint planned for 2026-03-17 – 2026-03-28 (after S6) by <@{s.lead}>."
        in answer
    )
    assert "Out of band for 2 sprints in a row." in answer

    stored_nudges = bot.db(status_repo.nudges, s.team_id, s.channel)
    assert [(n.run_length, n.acknowledged_by, n.fixit_by) for n in stored_nudges] == [
        (2, s.member, None),
        (2, None, s.lead),
    ]


def test_a_button_pressed_twice_changes_nothing_the_second_time(
    bot: BotServer, fake: FakeSlack, seeded: Seeded, clock: ManualClock
) -> None:
    s = seeded
    for name, figures in (("S1", "5 of 50"), ("S2", "5 of 50")):
        clock.advance(timedelta(minutes=5))
        debt_command(fake, s, s.lead, f'{figures} sprint "{name}"')
    fake.wait_for(lambda: nudges_in(fake, s))
    row = fake.wait_for(
        lambda: [n for n in bot.db(status_repo.nudges, s.team_id, s.channel) if n.message_ts]
    )[0]
    nudge_id = row.id

    async def twice() -> list[bool]:
        rt = bot.rt
        team = await service.team_for(rt, s.team_id, s.channel)
        client = await rt.client_for(s.team_id)
        outcomes = []
        for user in (s.lead, s.member):
            outcomes.append((await nudges.acknowledge(rt, client, team, nudge_id, user))[1])
        for user in (s.lead, s.member):
            outcomes.append((await nudges.plan_fixit(rt, client, team, nudge_id, user))[1])
        return outcomes

    updates_before = len(fake.calls("chat.update"))
    assert bot.call(twice()) == [True, False, True, False]
    assert len(fake.calls("chat.update")) == updates_before + 2
    assert len([c for c in fake.calls("conversations.open")]) == 1  # the manager is told once
    row = bot.db(status_repo.nudges, s.team_id, s.channel)[0]
    assert (row.acknowledged_by, row.fixit_by) == (s.lead, s.lead)


def test_a_slack_user_cannot_sync_a_team_without_a_configured_import(
    bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    said = debt_command(fake, seeded, seeded.lead, "sync")
    assert "This team has no tracker import configured" in said


def test_the_help_lists_the_debt_command_with_an_example(
    bot: BotServer, fake: FakeSlack, seeded: Seeded
) -> None:
    actor: Actor = fake.actor()
    actor.slash_command(seeded.team_id, seeded.lead, seeded.channel, "help")
    assert '/scale-check debt 12 of 50 points sprint "Sprint 42"' in text_of(fake.ephemerals(seeded.lead)[-1])
