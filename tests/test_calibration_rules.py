"""Calibration's rules with plain values: which outcome is on which predicted component, how a prediction
resolves (happened, not observed at its horizon, open), surprises, and the team's record and line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.calibration import command
from bot.calibration.rules import (
    Outcome,
    Prediction,
    group_likelihood,
    horizon,
    line,
    record,
    resolve,
    same_component,
    surprises,
)

T0 = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def predicted(
    pid: int, component: str, place: int, likelihood: float | None = None, **kw: object
) -> Prediction:
    return Prediction(
        id=pid,
        component=component,
        place=place,
        made_at=kw.pop("made_at", T0),  # type: ignore[arg-type]
        horizon_at=kw.pop("horizon_at", horizon(T0)),  # type: ignore[arg-type]
        likelihood=likelihood,
        signal=kw.pop("signal", None),  # type: ignore[arg-type]
    )


def broke(oid: int, component: str, days: float, source: str = "incident", **kw: object) -> Outcome:
    return Outcome(
        id=oid,
        component=component,
        at=T0 + days * DAY,
        source=source,
        reporter="U0LEAD1",
        withdrawn=bool(kw.get("withdrawn", False)),
        signal=kw.get("signal"),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("outcome", "prediction", "same"),
    [
        ("database", "Database write throughput", True),
        ("DB", "database", True),
        ("database write throughput", "database", True),
        ("search index", "search API", False),
        ("database reads", "database writes", False),
        ("latency", "p95 latency", False),  # a word that only says how something is measured
    ],
)
def test_an_outcome_is_on_a_predicted_component_when_one_names_all_the_others_meaningful_words(
    outcome: str, prediction: str, same: bool
) -> None:
    assert same_component(outcome, prediction) is same


def test_a_prediction_happens_with_an_outcome_on_its_component_within_its_horizon() -> None:
    p = predicted(1, "database", 1)
    found = resolve(p, [broke(1, "auth service", 3), broke(2, "Database", 40), broke(3, "database", 50)], T0)
    assert found.resolution == "happened" and found.outcome is not None and found.outcome.id == 2


def test_outcomes_before_the_prediction_after_its_horizon_or_withdrawn_do_not_count() -> None:
    p = predicted(1, "database", 1)
    outcomes = [broke(1, "database", -1), broke(2, "database", 91), broke(3, "database", 5, withdrawn=True)]
    assert resolve(p, outcomes, T0 + 30 * DAY).resolution == "open"
    assert resolve(p, outcomes, T0 + 90 * DAY).resolution == "not_observed"


def test_a_launch_linked_prediction_resolves_at_the_launchs_t_plus_30() -> None:
    launch_plus_30 = T0 + 45 * DAY
    p = predicted(1, "database", 1, horizon_at=horizon(T0, until=launch_plus_30))
    assert resolve(p, [broke(1, "database", 50)], T0 + 46 * DAY).resolution == "not_observed"
    assert resolve(p, [broke(1, "database", 44)], T0 + 46 * DAY).resolution == "happened"


def test_a_ceiling_crossing_matches_the_predictions_watching_that_signal() -> None:
    watching = predicted(1, "connection pool", 1, signal="db_connections")
    other = predicted(2, "database", 2, signal="db_write_iops")
    crossed = broke(1, "connection pool", 2, source="ceiling", signal="db_connections")
    assert resolve(watching, [crossed], T0).resolution == "happened"
    assert resolve(other, [crossed], T0).resolution == "open"


def test_a_surprise_is_an_outcome_no_prediction_was_watching_each_component_once() -> None:
    ps = [predicted(1, "database", 1), predicted(2, "auth service", 2)]
    outcomes = [
        broke(1, "database", 3),
        broke(2, "search index", 4),
        broke(3, "Search  index", 6),
        broke(4, "payments queue", 100),  # after every horizon
        broke(5, "cdn", 5, withdrawn=True),
    ]
    assert surprises(ps, outcomes) == ("search index", "payments queue")


def test_the_record_counts_resolved_top_1_and_top_3_predictions_and_the_brier_score() -> None:
    ps = [
        predicted(1, "database", 1, 0.7),
        predicted(2, "auth service", 2, 0.4),
        predicted(3, "cache", 3),
        predicted(4, "search index", 4, 0.1),  # ranked fourth: not a top risk
        predicted(5, "database", 1, 0.1, made_at=T0 + 100 * DAY, horizon_at=horizon(T0 + 100 * DAY)),
    ]
    outcomes = [broke(1, "database", 2), broke(2, "cache", 10), broke(3, "queue", 11)]
    rec = record("Payments", ps, outcomes, T0 + 120 * DAY)
    assert rec.top1 == (1, 1)  # the second pre-mortem's top risk is still open
    assert rec.top3 == (2, 3)
    assert rec.open == 1 and rec.surprises == ("queue",)
    brier = rec.brier
    assert brier is not None
    score, over = brier
    # database 0.7 happened, auth 0.4 did not, search 0.1 did not: ((0.3)² + 0.4² + 0.1²) / 3
    assert over == 3 and score == pytest.approx((0.09 + 0.16 + 0.01) / 3)
    assert line(rec) == (
        "Payments' pre-mortems: 2 of 3 top risks happened within 90 days (the top one: 1 of 1), 1 still open; "
        "1 surprise: queue; Brier score 0.09 over 3 stated likelihoods"
    )


def test_the_line_reads_like_the_issue_and_has_no_brier_score_without_likelihoods() -> None:
    ps = [predicted(i, name, i) for i, name in enumerate(["database", "auth", "cache"], start=1)]
    ps.append(predicted(4, "queue", 1, made_at=T0 + DAY, horizon_at=horizon(T0 + DAY)))
    outcomes = [
        broke(1, "database", 1),
        broke(2, "auth", 2),
        broke(3, "queue", 3),
        broke(4, "search index", 4),
    ]
    rec = record("Payments", ps, outcomes, T0 + 200 * DAY)
    assert rec.brier is None
    assert line(rec) == (
        "Payments' pre-mortems: 3 of 4 top risks happened within 90 days (the top one: 2 of 2); "
        "1 surprise: search index"
    )


def test_a_team_without_predictions_or_outcomes_has_no_line_and_one_with_only_open_ones_says_so() -> None:
    assert line(record("Search", [], [], T0)) is None
    assert line(record("Search", [predicted(1, "index", 1)], [], T0)) == (
        "Search's pre-mortems: no top risk resolved yet, 1 still open"
    )


def test_mixed_horizons_say_within_their_horizons() -> None:
    ps = [predicted(1, "database", 1), predicted(2, "auth", 1, horizon_at=T0 + 30 * DAY)]
    rec = record("Payments", ps, [broke(1, "database", 1)], T0 + 100 * DAY)
    assert "1 of 2 top risks happened within their horizons" in str(line(rec))


def test_a_risk_several_leads_named_takes_the_mean_of_their_stated_likelihoods() -> None:
    assert group_likelihood([0.7, None, 0.1]) == pytest.approx(0.4)
    assert group_likelihood([None, None]) is None


@pytest.mark.parametrize(
    ("args", "parsed"),
    [
        ("", command.ListOutcomes()),
        ("list", command.ListOutcomes()),
        ("withdraw 12", command.Withdraw(12)),
        ("withdraw #3", command.Withdraw(3)),
        ("database", command.Incident("database")),
        (
            "database primary ran out of connections",
            command.Incident("database", "primary ran out of connections"),
        ),
        ('"search index" reindex stalled', command.Incident("search index", "reindex stalled")),
        (
            "withdraw twelve",
            "Say which outcome to withdraw by its number: `/scale-check incident withdraw 12`.",
        ),
    ],
)
def test_the_incident_command_arguments(args: str, parsed: object) -> None:
    assert command.parse(args) == parsed
