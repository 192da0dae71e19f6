"""The pre-mortem's rules as plain functions: grouping, ranking and tie-breaks, the reveal rule, reminder
timing in working hours, targets, "data says" marks, forms and the Markdown export."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.config import AppConfig, TeamConfig
from bot.metrics.config import PrometheusSource, SignalConfig, TeamMetricsConfig
from bot.premortem.board import Board
from bot.premortem.checks import check
from bot.premortem.config import TeamPremortemConfig
from bot.premortem.datasays import compare, signal_view
from bot.premortem.export import to_markdown
from bot.premortem.forms import FormErrors, parse_answer, parse_mitigation
from bot.premortem.grouping import component_key, group_risks, normalise, split_parts
from bot.premortem.mitigation import check_done, is_overdue, parse_target
from bot.premortem.model import DataSays, Lead, Mitigation, OpenMitigation, Premortem, Risk, Target
from bot.premortem.ranking import rank_groups, top_risks
from bot.premortem.render_plan import status_message
from bot.premortem.reports import CHUNK, chunked
from bot.premortem.timing import reminder_plan, reminder_time, reveal_reason, snoozed_reminder, working_time

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # a Monday: 08:00 in Berlin, 02:00 in New York, 16:00 in Tokyo


def risk(lead: str, rank: int, component: str) -> Risk:
    return Risk(lead, rank, component, f"why {component}")


# --- grouping ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [("DB write throughput", "database write-throughput"), ("Auth service", "authentication  service!")],
)
def test_names_of_the_same_component_merge(a: str, b: str) -> None:
    groups = group_risks([risk("U1", 1, a), risk("U2", 2, b)])
    assert len(groups) == 1 and groups[0].merged
    assert groups[0].title == a and groups[0].spellings == (a, " ".join(b.split()))


@pytest.mark.parametrize(
    ("a", "b"), [("database reads", "database writes"), ("auth service", "payment service")]
)
def test_names_of_different_components_stay_apart(a: str, b: str) -> None:
    assert len(group_risks([risk("U1", 1, a), risk("U2", 1, b)])) == 2


def test_normalising_expands_abbreviations_and_drops_case_punctuation_and_spacing() -> None:
    assert normalise("  K8s  cluster / DB svc!! ") == "kubernetes cluster database service"
    assert component_key("Service, Auth") == component_key("auth svc") == "authentication service"


def test_not_the_same_splits_a_merge_by_spelling_and_keeps_identical_spellings_together() -> None:
    risks = [risk("U1", 1, "DB writes"), risk("U2", 2, "database writes"), risk("U3", 1, "db  WRITES")]
    (merged,) = group_risks(risks)
    parts = split_parts(merged)
    assert sorted(p.title for p in parts) == ["DB writes", "database writes"]
    assert {p.parent_key for p in parts} == {merged.key}
    assert next(p for p in parts if p.title == "DB writes").leads == ("U1", "U3")
    assert group_risks(risks, {merged.key}) == parts


def test_groups_read_best_rank_first_then_most_leads() -> None:
    groups = group_risks(
        [risk("U1", 2, "cache"), risk("U2", 2, "queue"), risk("U3", 2, "queue"), risk("U1", 1, "db")]
    )
    assert [g.title for g in groups] == ["db", "queue", "cache"]


# --- ranking and tie-breaks ----------------------------------------------------------------------------


def test_the_top_three_go_by_votes_then_best_rank_then_how_many_leads_raised_it() -> None:
    groups = group_risks(
        [
            risk("U1", 3, "payments"),  # 2 votes, best rank 3
            risk("U2", 2, "search"),  # 2 votes, best rank 2
            risk("U1", 1, "cache"),  # 1 vote, best rank 1, one lead
            risk("U2", 1, "queue"),  # 1 vote, best rank 1, two leads
            risk("U3", 1, "queue"),
            risk("U3", 2, "cdn"),  # 0 votes
        ]
    )
    ids = {g.title: g.id for g in groups}
    votes = {
        ids["payments"]: {"A", "B"},
        ids["search"]: {"A", "C"},
        ids["cache"]: {"A"},
        ids["queue"]: {"B"},
    }
    ranked = rank_groups(groups, votes)
    assert [(r.group.title, r.votes, r.place) for r in ranked] == [
        ("search", 2, 1),
        ("payments", 2, 2),
        ("queue", 1, 3),
        ("cache", 1, 4),
        ("cdn", 0, 5),
    ]
    assert [r.group.title for r in top_risks(groups, votes)] == ["search", "payments", "queue"]


def test_a_full_tie_is_broken_by_title_so_the_order_never_wobbles() -> None:
    groups = group_risks([risk("U1", 1, "beta"), risk("U2", 1, "alpha")])
    assert [r.group.title for r in rank_groups(groups, {})] == ["alpha", "beta"]


# --- the reveal rule -----------------------------------------------------------------------------------


def test_answers_are_revealed_when_every_lead_answered_or_the_deadline_passed() -> None:
    deadline = T0 + timedelta(hours=48)
    leads = ["A", "B", "C"]
    assert reveal_reason(leads, ["A", "B"], deadline, T0) is None
    assert reveal_reason(leads, ["A", "B", "C"], deadline, T0) == "all_answered"
    assert reveal_reason(leads, ["A"], deadline, deadline - timedelta(seconds=1)) is None
    assert reveal_reason(leads, ["A"], deadline, deadline) == "deadline"
    assert reveal_reason(leads, [], deadline, deadline + timedelta(days=1)) == "deadline"
    assert reveal_reason([], [], deadline, T0) is None


# --- reminders in working hours ------------------------------------------------------------------------


def test_a_reminder_outside_working_hours_waits_for_the_next_morning_in_the_leads_zone() -> None:
    evening = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)  # 20:30 in Berlin
    assert working_time(evening, "Europe/Berlin") == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    early = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    assert working_time(early, "Europe/Berlin") == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert working_time(evening, "America/New_York") == evening  # 14:30 there
    assert working_time(evening, "Not/AZone") == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # as UTC


def test_a_reminder_that_falls_on_a_weekend_in_the_leads_zone_waits_for_monday_morning() -> None:
    friday_evening = datetime(2026, 11, 27, 19, 30, tzinfo=UTC)  # 20:30 on Friday in Berlin
    monday_9_berlin = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert working_time(friday_evening, "Europe/Berlin") == monday_9_berlin
    assert working_time(datetime(2026, 11, 28, 11, 0, tzinfo=UTC), "Europe/Berlin") == monday_9_berlin
    assert working_time(datetime(2026, 11, 29, 7, 0, tzinfo=UTC), "Europe/Berlin") == monday_9_berlin
    # Friday 14:30 in New York is a working hour there, while it is already Saturday in Tokyo.
    assert working_time(friday_evening, "America/New_York") == friday_evening
    assert working_time(friday_evening, "Asia/Tokyo") == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    # A deadline on Sunday comes before Monday morning: no reminder.
    sunday_noon = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)
    assert reminder_time(friday_evening, "Europe/Berlin", sunday_noon) is None


def test_a_reminder_that_would_wait_past_the_deadline_is_not_sent() -> None:
    deadline = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 08:00 in Berlin, before the working day
    assert reminder_time(datetime(2026, 11, 23, 21, 0, tzinfo=UTC), "Europe/Berlin", deadline) is None


def test_each_lead_gets_halfway_and_final_reminders_in_their_own_working_hours() -> None:
    deadline = T0 + timedelta(hours=48)  # Wednesday 07:00 UTC
    assert reminder_plan(T0, deadline, "Asia/Tokyo") == [
        ("halfway", datetime(2026, 11, 24, 7, 0, tzinfo=UTC)),  # 16:00 in Tokyo
        ("final", datetime(2026, 11, 25, 5, 0, tzinfo=UTC)),  # 14:00 in Tokyo
    ]
    # Berlin: halfway at 08:00 waits for 09:00; the final one (06:00) would wait past the deadline.
    assert reminder_plan(T0, deadline, "Europe/Berlin") == [
        ("halfway", datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    ]
    assert reminder_plan(T0, deadline, "America/New_York") == [
        ("halfway", datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    ]


def test_two_reminders_pushed_to_the_same_morning_become_one() -> None:
    start = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # 21:00 in Berlin
    deadline = start + timedelta(hours=14)  # 11:00 in Berlin next day: halfway 04:00, final 09:00 local
    assert reminder_plan(start, deadline, "Europe/Berlin") == [
        ("final", datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    ]


def test_a_short_deadline_gets_only_the_halfway_reminder() -> None:
    assert [s for s, _ in reminder_plan(T0, T0 + timedelta(hours=3), "Asia/Tokyo")] == ["halfway"]


def test_snoozing_holds_reminders_for_a_day_unless_the_deadline_comes_first() -> None:
    clicked = datetime(2026, 11, 24, 8, 5, tzinfo=UTC)
    until, at = snoozed_reminder(clicked, "Europe/Berlin", clicked + timedelta(days=3))
    assert until == clicked + timedelta(days=1) and at == until
    assert snoozed_reminder(clicked, "Europe/Berlin", clicked + timedelta(hours=20))[1] is None


# --- mitigations ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("< 0.6", "<", 0.6),
        ("<=250ms", "<=", 0.25),
        (">= 99.9%", ">=", 0.999),
        ("0.7", "<=", 0.7),
        ("≤ 5", "<=", 5),
    ],
)
def test_targets_parse_with_units(text: str, op: str, value: float) -> None:
    target = parse_target(text)
    assert (target.op, target.value) == (op, pytest.approx(value))


def mitigation(**kw: object) -> Mitigation:
    values: dict = dict(
        id=1,
        group_id="g",
        title="database writes",
        plan="shard",
        owner="U1",
        due=date(2026, 12, 1),
        verification="metric",
        metric="db",
        target=Target("<", 0.6, "0.6"),
        status="open",
        created_by="U9",
        created_at=T0,
        updated_by="U9",
        updated_at=T0,
    )
    values.update(kw)
    return Mitigation(**values)


def test_done_needs_the_metric_to_meet_its_target_and_says_why_when_it_cannot_be_read() -> None:
    m = mitigation()
    assert check_done(m, 0.5, None).allowed
    missed = check_done(m, 0.7, None)
    assert not missed.allowed and missed.value == 0.7
    down = check_done(m, None, "metrics unavailable from prom: refused")
    assert not down.allowed and down.unavailable == "metrics unavailable from prom: refused"
    assert check_done(mitigation(verification="load_test", target=None, metric=None), None, None).allowed


def test_an_open_mitigation_past_its_due_date_is_overdue_and_a_done_one_is_not() -> None:
    assert is_overdue(mitigation(), datetime(2026, 12, 2, 0, 0, tzinfo=UTC))
    assert not is_overdue(mitigation(), datetime(2026, 12, 1, 23, 59, tzinfo=UTC))
    assert not is_overdue(mitigation(status="done"), datetime(2027, 1, 1, tzinfo=UTC))


def test_overdue_follows_the_owners_calendar() -> None:
    due_dec_1 = mitigation()  # due 2026-12-01
    late_evening = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)  # still Dec 1, 21:00, in Los Angeles
    assert is_overdue(due_dec_1, late_evening)  # no zone known: UTC's calendar
    assert not is_overdue(replace(due_dec_1, owner_tz="America/Los_Angeles"), late_evening)
    assert is_overdue(
        replace(due_dec_1, owner_tz="America/Los_Angeles"), datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    )
    early = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # already Dec 2, 01:00, in Tokyo
    assert is_overdue(replace(due_dec_1, owner_tz="Asia/Tokyo"), early)
    assert not is_overdue(due_dec_1, early)


def test_the_mitigation_form_refuses_a_due_date_in_the_past_and_a_metric_without_a_target() -> None:
    raw = {
        "plan": "shard",
        "owner": "U1",
        "due": "2026-11-20",
        "verify": "metric",
        "metric": "db",
        "target": "",
    }
    with pytest.raises(FormErrors) as caught:
        parse_mitigation(raw, ["db"], date(2026, 11, 23))
    assert caught.value.errors == {
        "due": "The due date 2026-11-20 is in the past; pick today or later.",
        "target": "Say what the metric must reach, like < 0.6.",
    }
    ok = parse_mitigation(dict(raw, due="2026-11-23", target="< 60%"), ["db"], date(2026, 11, 23))
    assert ok.target == Target("<", 0.6, "60%")


def test_the_answer_form_needs_a_first_risk_with_a_reason_and_no_repeats() -> None:
    def values(**fields: str) -> dict:
        return {name: {"value": {"value": v}} for name, v in fields.items()}

    with pytest.raises(FormErrors) as caught:
        parse_answer("U1", values(risk1_why="slow"))
    assert "risk1_component" in caught.value.errors
    with pytest.raises(FormErrors) as caught:
        parse_answer("U1", values(risk1_other="DB", risk1_why="a", risk2_other="database", risk2_why="b"))
    assert caught.value.errors == {
        "risk2_other": "You named this component twice; name three different ones."
    }
    risks = parse_answer("U1", values(risk1_other="Queue", risk1_why="x", risk3_other="CDN", risk3_why="y"))
    assert [(r.rank, r.component) for r in risks] == [(1, "Queue"), (2, "CDN")]


# --- data says -----------------------------------------------------------------------------------------


def test_data_says_marks_agreement_and_disagreement_with_the_leads() -> None:
    groups = group_risks([risk("U1", 1, "Database connection pool"), risk("U2", 1, "Search index")])
    data = DataSays(
        signals=(
            signal_view("db_connections", "db connections", "saturation", 0.4, 2.0),
            signal_view("cpu", "cpu", "saturation", 0.2, 4.0),
            signal_view("search_queue", "search queue", "saturation", 0.05, 16.0),
        )
    )
    marks = compare(data, groups, {})
    assert [(m.signal.name, m.verdict, [g.title for g in m.groups]) for m in marks] == [
        ("db_connections", "agree", ["Database connection pool"]),
        ("cpu", "data_only", []),
        ("search_queue", "leads_only", ["Search index"]),
    ]
    # The config can say what a signal measures when the names share no word.
    mapped = compare(data, groups, {"cpu": "search index"})
    assert mapped[1].verdict == "agree"


# --- export --------------------------------------------------------------------------------------------


def test_the_export_is_markdown_with_risks_data_and_mitigations() -> None:
    pm = Premortem(
        id=1,
        workspace_id="T1",
        channel_id="C1",
        team_name="Payments",
        status="planning",
        started_by="U9",
        started_at=T0,
        deadline=T0 + timedelta(hours=48),
        leads=(Lead("U1", answered_at=T0), Lead("U2", answered_at=T0)),
        risks=(risk("U1", 1, "DB | writes"), risk("U2", 1, "database writes")),
        reveal_reason="all_answered",
        revealed_at=T0,
        data=DataSays(
            source="prom",
            read_at=T0,
            signals=(signal_view("db", "db", "saturation", 0.4, 2.0, shown="40% now"),),
        ),
    )
    gid = group_risks(pm.risks)[0].id
    pm = Premortem(**{**pm.__dict__, "votes": {gid: frozenset({"U9"})}, "top": (gid,),
                      "mitigations": (mitigation(group_id=gid, title="DB | writes"),)})  # fmt: skip
    md = to_markdown(Board.of(pm), {"U1": "ana", "U2": "bo", "U9": "maria"}, T0)
    assert md.startswith("# Pre-mortem: Payments\n\n> If our active users or request rate suddenly grew 10x")
    assert (
        "### 1. DB | writes (1 vote)" in md
        and "- @bo, rank 1 (as “database writes”): why database writes" in md
    )
    assert "| 1 | db | 40% now | 2.0x headroom (breaks first) | agree |" in md
    assert "| 1 | DB \\| writes | shard | @ana | 2026-12-01 | db < 0.6 | Open |" in md


def test_a_long_export_is_cut_into_code_blocks_without_splitting_an_escape() -> None:
    text = ("&amp;" * 700 + "\n") * 3
    chunks = chunked(text)
    assert "".join(chunks) == text
    assert all(len(c) <= CHUNK and not c.rstrip("\n").endswith(("&", "&a", "&am", "&amp")) for c in chunks)


# --- config checks and the status listing -----------------------------------------------------------


def test_the_config_check_names_a_signal_mapping_that_can_never_apply() -> None:
    metrics = TeamMetricsConfig(
        source="prom", default_signals=False, signals={"db": SignalConfig(query="q", kind="saturation")}
    )
    config = AppConfig(
        sources={"prom": PrometheusSource(kind="prometheus", url="http://127.0.0.1:9090")},  # type: ignore[arg-type]
        teams=[
            TeamConfig(name="A", channel="C0A", metrics=metrics,
                       premortem=TeamPremortemConfig(signal_components={"db": "database", "cpu": "api"})),
            TeamConfig(name="B", channel="C0B", premortem=TeamPremortemConfig(signal_components={"db": "x"})),
        ],
    )  # fmt: skip
    assert check(config) == [
        "(no config file): teams[0].premortem.signal_components.cpu: not one of the team's signals (db)",
        "(no config file): teams[1].premortem.signal_components: the team has no metrics source, so no signal "
        "can be mapped; remove it",
    ]


def test_the_status_listing_shows_owner_due_date_age_and_overdue_marks() -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    item = OpenMitigation(1, 1, "DB <writes>", "shard", "U1", date(2026, 12, 1), "in_progress", "In progress",
                          True, 11, "https://x.slack.com/archives/C1/p1")  # fmt: skip
    message = status_message("Payments", [item], now, True, deactivated={"U1"})
    line = message["blocks"][1]["text"]["text"]
    assert line == (
        "• *DB &lt;writes&gt;* — <@U1> :warning: _deactivated: pick a new owner with “Edit mitigation”_ · due "
        "2026-12-01 :warning: *overdue by 3 days* · open 11 days · In progress · <https://x.slack.com/archives/C1/p1|thread>"
    )
    assert message["text"] == "1 open mitigation for Payments, 1 overdue"
    empty = status_message("Payments", [], now, False)
    assert (
        "No pre-mortem yet: start one with `/scale-check premortem @lead …`."
        in empty["blocks"][1]["text"]["text"]
    )
