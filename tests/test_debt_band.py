"""The tech-debt band rule of the product brief, one rule per test, with plain values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from bot.debt import band
from bot.debt.band import Status

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def sprint(
    n: int, debt: float, capacity: float, *, unit: str = "points", starts: date | None = None, days: int = 11
) -> band.Sprint:
    """Sprint n, recorded n hours after T0; with `starts`, it runs `days` days more."""
    return band.Sprint(
        id=n,
        name=f"Sprint {n}",
        capacity=Decimal(str(capacity)),
        debt=Decimal(str(debt)),
        unit=unit,
        starts=starts,
        ends=starts + timedelta(days=days) if starts else None,
        created=T0 + timedelta(hours=n),
    )


def test_share_is_the_debt_part_over_the_capacity_exactly() -> None:
    assert sprint(1, 12, 50).share == Fraction(24, 100)
    assert sprint(1, 0.1, 0.3).share == Fraction(1, 3)


def test_a_sprint_without_capacity_has_no_share() -> None:
    with pytest.raises(ValueError):
        band.share(Decimal(0), Decimal(0))


@pytest.mark.parametrize(
    ("debt", "capacity", "status"),
    [
        (10, 50, Status.IN_BAND),  # exactly 20%: the band is inclusive
        (15, 50, Status.IN_BAND),  # exactly 30%
        (12, 50, Status.IN_BAND),
        (9.99, 50, Status.UNDER),
        (15.01, 50, Status.OVER),
        (0, 50, Status.UNDER),
        (50, 50, Status.OVER),
    ],
)
def test_the_band_is_20_to_30_percent_inclusive(debt: float, capacity: float, status: Status) -> None:
    assert sprint(1, debt, capacity).status is status


def test_the_rolling_figure_is_total_debt_over_total_capacity_not_the_mean_of_shares() -> None:
    history = [sprint(1, 10, 100), sprint(2, 30, 50), sprint(3, 0, 50)]
    rolling = band.rolling(history)
    assert rolling is not None
    assert rolling.share == Fraction(40, 200)  # the mean of 10%, 60% and 0% would be 23.3%
    assert (rolling.debt, rolling.capacity, rolling.unit) == (Decimal(40), Decimal(200), "points")
    assert rolling.status is Status.IN_BAND


def test_the_rolling_figure_covers_only_the_last_three_sprints() -> None:
    history = [sprint(1, 50, 50), sprint(2, 10, 50), sprint(3, 10, 50), sprint(4, 10, 50)]
    rolling = band.rolling(history)
    assert rolling is not None and rolling.share == Fraction(20, 100)
    assert [s.id for s in rolling.sprints] == [2, 3, 4]


def test_with_fewer_than_three_sprints_the_rolling_figure_uses_those_there_are() -> None:
    rolling = band.rolling([sprint(1, 5, 50)])
    assert rolling is not None and rolling.share == Fraction(1, 10) and len(rolling.sprints) == 1
    assert band.rolling([]) is None


def test_points_and_hours_are_not_added_the_rolling_figure_averages_their_shares() -> None:
    rolling = band.rolling([sprint(1, 10, 50), sprint(2, 30, 100, unit="hours")])
    assert rolling is not None and rolling.mixed_units
    assert rolling.share == (Fraction(20, 100) + Fraction(30, 100)) / 2


def test_the_current_sprint_is_the_one_whose_dates_contain_today() -> None:
    sprints = [
        sprint(1, 10, 50, starts=date(2026, 3, 2)),
        sprint(2, 10, 50, starts=date(2026, 3, 16)),
        sprint(3, 10, 50, starts=date(2026, 3, 30)),
    ]
    assert band.current_sprint(sprints, date(2026, 3, 20)) == sprints[1]
    assert band.current_sprint(sprints, date(2026, 3, 16)) == sprints[1]  # dates are inclusive
    assert band.current_sprint(sprints, date(2026, 3, 27)) == sprints[1]


def test_without_a_sprint_containing_today_the_current_one_is_the_latest_that_started() -> None:
    sprints = [sprint(2, 10, 50, starts=date(2026, 3, 16)), sprint(1, 10, 50, starts=date(2026, 3, 2))]
    assert band.current_sprint(sprints, date(2026, 5, 1)) == sprints[0]
    undated = [sprint(1, 10, 50), sprint(2, 10, 50)]
    assert band.current_sprint(undated, date(2026, 3, 1)) == undated[1]  # latest recorded
    assert band.current_sprint([], date(2026, 3, 1)) is None


def test_between_two_sprints_the_one_just_ended_stays_current_not_the_next_planned_one() -> None:
    ended = sprint(1, 5, 50, starts=date(2026, 3, 2), days=11)  # Mon 2 – Fri 13 March
    planned = sprint(2, 40, 50, starts=date(2026, 3, 16))  # from Monday 16
    weekend = date(2026, 3, 14)
    assert band.current_sprint([ended, planned], weekend) == ended
    alloc = band.allocation([planned, ended], weekend)
    assert alloc is not None
    assert alloc.current == ended and [s.id for s in alloc.history] == [1]
    assert alloc.rolling.share == Fraction(10, 100)  # the planned 80% is not counted yet
    assert band.current_sprint([ended, planned], date(2026, 3, 16)) == planned  # its first day
    # Nothing has started yet: no current sprint, nothing counted.
    assert band.current_sprint([planned], weekend) is None
    assert band.allocation([planned], weekend) is None
    # A milestone has only its due date: it counts as started.
    milestone = band.Sprint(
        id=3, name="M", capacity=Decimal(10), debt=Decimal(2), unit="points", ends=date(2026, 3, 27)
    )
    assert band.current_sprint([ended, milestone], date(2026, 3, 20)) == milestone
    assert band.planned_starts([ended, planned, milestone], weekend) == [date(2026, 3, 16)]


def test_sprints_after_the_current_one_are_left_out_of_the_figures() -> None:
    past = sprint(1, 5, 50, starts=date(2026, 3, 2))
    now = sprint(2, 10, 50, starts=date(2026, 3, 16))
    planned = sprint(3, 40, 50, starts=date(2026, 3, 30))
    alloc = band.allocation([planned, past, now], date(2026, 3, 20))
    assert alloc is not None
    assert alloc.current == now
    assert [s.id for s in alloc.history] == [1, 2]
    assert alloc.rolling.share == Fraction(15, 100)


def test_out_of_band_counts_consecutive_sprints_in_either_direction() -> None:
    history = [sprint(1, 5, 50), sprint(2, 12, 50), sprint(3, 5, 50), sprint(4, 20, 50)]
    run = band.out_of_band_run(history)
    assert [s.id for s in run] == [3, 4]  # under then over: one run of two
    assert band.out_of_band_run([*history, sprint(5, 12, 50)]) == ()


def test_a_run_is_nudged_once_when_it_reaches_the_configured_length() -> None:
    one, two, three = sprint(1, 5, 50), sprint(2, 5, 50), sprint(3, 5, 50)
    assert not band.nudge_due([one], 2, [])
    assert band.nudge_due([one, two], 2, [])
    nudged = band.nudge_marks([one, two])
    assert nudged == ((1, "under"), (2, "under"))
    assert not band.nudge_due([one, two, three], 2, nudged)  # the same run, already nudged
    assert band.nudge_due([three], 1, nudged)  # a new run starting at sprint 3
    assert not band.nudge_due([one, two], 3, [])


def test_a_run_that_gains_an_earlier_sprint_is_still_the_run_that_was_nudged() -> None:
    two, three = sprint(2, 5, 50), sprint(3, 5, 50)
    nudged = band.nudge_marks([two, three])
    # Sprint 1 corrected (or back-filled) out of band: the run now starts one sprint earlier.
    assert not band.nudge_due([sprint(1, 40, 50), two, three], 2, nudged)
    assert not band.nudge_due([sprint(1, 5, 50), two, three, sprint(4, 45, 50)], 2, nudged)
    # Every nudged sprint corrected into the other direction: over the band is news.
    assert band.nudge_due([sprint(2, 40, 50), sprint(3, 40, 50)], 2, nudged)


def test_the_trend_is_the_last_eight_sprints_and_its_direction() -> None:
    history = [sprint(n, n * 2, 50) for n in range(1, 11)]
    assert [s.id for s in band.trend(history)] == list(range(3, 11))
    assert band.direction([Fraction(10, 100), Fraction(15, 100), Fraction(20, 100)]) == "rising"
    assert band.direction([Fraction(30, 100), Fraction(20, 100)]) == "falling"
    assert band.direction([Fraction(20, 100), Fraction(205, 1000), Fraction(20, 100)]) == "steady"
    assert band.direction([Fraction(20, 100)]) == "steady"


def test_the_sparkline_uses_a_fixed_0_to_50_percent_scale() -> None:
    assert band.sparkline([Fraction(0), Fraction(25, 100), Fraction(50, 100), Fraction(90, 100)]) == "▁▅██"
    assert len(band.sparkline([Fraction(1, 10)] * 8)) == 8


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Fraction(24, 100), "24%"),
        (Fraction(196, 1000), "19.6%"),
        (Fraction(1996, 10000), "19.96%"),  # never rounded into the band
        (Fraction(3004, 10000), "30.04%"),  # nor out of it… into it
        (Fraction(1, 3), "33.3%"),
    ],
)
def test_percentages_never_round_across_the_band_edge(value: Fraction, shown: str) -> None:
    assert band.percent(value) == shown


def test_the_next_sprint_starts_the_day_after_and_lasts_as_long() -> None:
    current = sprint(1, 5, 50, starts=date(2026, 3, 2), days=11)
    assert band.next_sprint_dates(current) == (date(2026, 3, 14), date(2026, 3, 25))
    assert band.next_sprint_dates(sprint(2, 5, 50)) is None


def test_undated_sprints_are_in_the_order_they_were_first_recorded() -> None:
    a, b = sprint(1, 5, 50), sprint(2, 5, 50)
    assert band.chronological([b, a]) == [a, b]


def test_the_allocation_status_is_the_rolling_figures() -> None:
    alloc = band.allocation([sprint(1, 15, 50), sprint(2, 15, 50), sprint(3, 5, 50)], date(2026, 3, 1))
    assert alloc is not None
    assert alloc.current.status is Status.UNDER
    assert alloc.status is Status.IN_BAND  # 35 of 150 = 23.3%
    assert band.allocation([], date(2026, 3, 1)) is None
