"""Every pre-mortem message and modal stays within Slack's limits and escapes what people typed, even with
the most leads, the longest answers and text made of `&`, `<` and `>`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from bot.premortem.board import Board
from bot.premortem.datasays import signal_view
from bot.premortem.grouping import group_risks
from bot.premortem.model import (
    MAX_LEADS,
    DataSays,
    Lead,
    Mitigation,
    Premortem,
    Risk,
    SignalView,
    Target,
)
from bot.premortem.render import prompt_message, reveal_messages, root_message
from bot.premortem.render_modals import WHY_MAX, answer_modal, mitigation_modal, override_modal
from bot.premortem.render_plan import data_message, owner_dm, reminder_dm, top_message
from localslack.validation import validate_blocks, validate_view

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
NASTY = "<!channel> & <@U0BOSS> " * 40


def leads() -> tuple[Lead, ...]:
    return tuple(Lead(f"U0LEAD{i:02d}", in_channel=i % 2 == 0, answered_at=T0) for i in range(MAX_LEADS))


def big_premortem(status: str = "voting") -> Premortem:
    risks = tuple(
        Risk(lead.user_id, rank, f"{NASTY[:60]} component {i} {rank}", NASTY[:WHY_MAX], "metric", NASTY[:300])
        for i, lead in enumerate(leads())
        for rank in (1, 2, 3)
    )
    groups = group_risks(risks)
    top = tuple(g.id for g in groups[:3])
    signals = tuple(
        signal_view(f"signal_{i}", f"signal {i}", "saturation", 0.05 * i, 0.8 / (0.05 * i))
        for i in range(1, 40)
    )
    mitigations = tuple(
        Mitigation(
            id=n,
            group_id=gid,
            title=groups[n].title,
            plan=NASTY[:500],
            owner="U0LEAD01",
            due=date(2026, 12, 1),
            verification="metric",
            metric="signal_1",
            target=Target("<", 0.5, "< 50%"),
            status="in_progress",
            created_by="U0MGR1",
            created_at=T0,
            updated_by="U0MGR1",
            updated_at=T0,
            override_reason=NASTY[:500],
            override_by="U0MGR1",
        )
        for n, gid in enumerate(top)
    )
    return Premortem(
        id=7,
        workspace_id="T0001",
        channel_id="C0PAYMENTS",
        team_name="Payments & <Friends>",
        status=status,  # type: ignore[arg-type]
        started_by="U0MGR1",
        started_at=T0,
        deadline=T0 + timedelta(hours=48),
        leads=leads(),
        risks=risks,
        votes={g.id: frozenset(f"U0VOTER{i:03d}" for i in range(60)) for g in groups},
        top=top if status == "planning" else (),
        mitigations=mitigations if status == "planning" else (),
        data=DataSays(
            source="prom", read_at=T0, signals=signals, unavailable=tuple(NASTY[:200] for _ in range(15))
        ),
        revealed_at=T0,
        reveal_reason="deadline",
    )


def mrkdwn(value: object) -> list[str]:
    """Every mrkdwn text in blocks (plain_text shows `<` as typed and needs no escaping)."""
    if isinstance(value, dict):
        found = [value["text"]] if value.get("type") == "mrkdwn" else []
        return found + [t for v in value.values() for t in mrkdwn(v)]
    if isinstance(value, list):
        return [t for v in value for t in mrkdwn(v)]
    return []


def assert_escaped(value: object) -> None:
    for text in mrkdwn(value):
        assert "<!channel>" not in text and "<@U0BOSS>" not in text


def assert_message_ok(message: dict) -> None:
    assert message["text"] and len(message["text"]) <= 3000
    assert validate_blocks(message["blocks"], "message") == []
    assert_escaped(message["blocks"])
    assert "<!channel>" not in message["text"]


def test_the_reveal_of_twelve_leads_with_long_answers_splits_into_valid_messages() -> None:
    board = Board.of(big_premortem())
    messages = reveal_messages(board)
    assert len(messages) > 1
    for message in messages:
        assert_message_ok(message)
    assert "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;" in str(messages[0])


def test_every_other_message_is_valid_at_its_largest() -> None:
    for status in ("collecting", "voting", "planning", "cancelled"):
        board = Board.of(big_premortem(status))
        assert_message_ok(root_message(board))
        assert_message_ok(prompt_message(board.pm))
    board = Board.of(big_premortem("planning"))
    assert_message_ok(data_message(board))
    assert_message_ok(top_message(board, datetime(2026, 12, 9, 12, 0, tzinfo=UTC)))
    assert_message_ok(owner_dm(board.pm, board.pm.mitigations[0], datetime(2026, 12, 9, 12, 0, tzinfo=UTC)))
    assert_message_ok(reminder_dm(board.pm, "halfway"))


def test_the_modals_are_valid_views() -> None:
    board = Board.of(big_premortem("planning"))
    pm = board.pm
    views = [
        answer_modal(pm.id, pm.team_name, pm.risks_of("U0LEAD00")),
        answer_modal(pm.id, pm.team_name, (), error=NASTY),
        mitigation_modal(
            pm.id, board.groups[0], [f"signal_{i}" for i in range(150)], pm.mitigations[0], date(2026, 11, 23)
        ),
        mitigation_modal(pm.id, board.groups[0], [], None, date(2026, 11, 23), error="owner left"),
        override_modal(pm.mitigations[0], NASTY),
    ]
    for view in views:
        assert validate_view(view, ("modal",)) == [], view["title"]
        assert_escaped(view["blocks"])


def test_data_says_shows_each_value_in_its_unit_with_the_window_it_covers() -> None:
    """The value reads as the metrics answer shows it; a record stored before values had windows still
    reads (a bare number "now"), and the window survives the stored JSON."""
    pm = big_premortem("planning")
    latency = signal_view(
        "p95_latency", "p95 latency", "latency", 0.33, 3.0, shown="330 ms over the last 5 minutes"
    )
    older = SignalView(**{"name": "cpu", "title": "CPU", "kind": "saturation", "current": 0.4, "headroom": 2.0,
                          "breaks_first": True})  # fmt: skip
    data = DataSays(source="prom", read_at=T0, signals=(latency, older))
    stored = DataSays.from_json(data.to_json())
    assert stored == data
    text = "\n".join(mrkdwn(data_message(Board.of(replace(pm, data=stored)))["blocks"]))
    assert "1. `p95_latency` — 330 ms over the last 5 minutes · 3.0x headroom · *breaks first at 10x*" in text
    assert "2. `cpu` — 0.4 now · 2.0x headroom" in text


def test_the_close_voting_button_counts_the_risks_it_will_plan() -> None:
    def close_button(components: list[str]) -> dict:
        risks = tuple(Risk("U0LEAD00", n, c, "why", None, None) for n, c in enumerate(components, start=1))
        pm = replace(big_premortem("voting"), risks=risks, votes={})
        blocks = [b for m in reveal_messages(Board.of(pm)) for b in m["blocks"]]
        return next(e for b in blocks if b["type"] == "actions" for e in b["elements"] if "Close" in str(e))

    two = close_button(["Database pool", "Search index"])
    assert two["text"]["text"] == "Close voting and plan the top two"
    assert "The two risks with the most votes" in two["confirm"]["text"]["text"]
    assert close_button(["Database pool"])["text"]["text"] == "Close voting and plan the top risk"
    four = close_button(["Database pool", "Search index", "Auth service", "Cache layer"])
    assert four["text"]["text"] == "Close voting and plan the top three"


def test_cancelling_asks_with_buttons_that_say_what_they_do() -> None:
    """The dialog's 'no' is not labelled "Cancel", which would read as cancelling the pre-mortem."""
    prompt = prompt_message(big_premortem("collecting"))
    cancel = next(
        e
        for b in prompt["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if "cancel" in e["action_id"]
    )
    assert (cancel["confirm"]["confirm"]["text"], cancel["confirm"]["deny"]["text"]) == (
        "Cancel pre-mortem",
        "Keep it",
    )
