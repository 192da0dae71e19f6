"""The 10x projection rule of the product brief, as plain arithmetic."""

from __future__ import annotations

import math

import pytest

from bot.metrics.projection import (
    ASSUMPTIONS,
    Measured,
    headroom,
    latency_headroom,
    project,
    projected_latency,
)


def test_utilisation_headroom_is_the_ceiling_over_the_utilisation() -> None:
    assert headroom(0.5, 0.8) == pytest.approx(1.6)
    assert headroom(0.08) == pytest.approx(10.0)  # default ceiling 0.8
    assert headroom(0.0) == math.inf


def test_mm1_latency_grows_by_one_minus_u_over_one_minus_ku() -> None:
    # 100 ms at 5% busy; at 10x it is 50% busy: 100 × 0.95 / 0.5 = 190 ms
    assert projected_latency(0.100, 0.05, 10) == pytest.approx(0.190)
    assert projected_latency(0.100, 0.05, 1) == pytest.approx(0.100)  # k = 1 is today


def test_latency_saturates_when_k_times_u_reaches_one() -> None:
    assert projected_latency(0.100, 0.1, 10) is None  # k·u = 1
    assert projected_latency(0.100, 0.2, 10) is None


def test_latency_headroom_is_the_k_where_it_crosses_its_threshold() -> None:
    k = latency_headroom(0.100, 0.05, 0.300)
    assert projected_latency(0.100, 0.05, k) == pytest.approx(0.300)
    assert k == pytest.approx((1 - 0.1 * 0.95 / 0.3) / 0.05)


def test_latency_headroom_without_threshold_is_where_it_saturates() -> None:
    assert latency_headroom(0.1, 0.25, None) == pytest.approx(4.0)


def test_latency_already_past_its_threshold_has_no_headroom() -> None:
    assert latency_headroom(0.5, 0.5, 0.1) == 0.0


def test_breaks_first_lists_headroom_under_ten_least_first() -> None:
    readings = [
        Measured("cpu", "saturation", 0.2, ceiling=0.7),  # 3.5
        Measured("db_connections", "saturation", 0.5),  # 1.6
        Measured("primary_write_utilisation", "saturation", 0.05),  # 16
        Measured("queue", "saturation", 0.1),  # 8
        Measured("p95_latency", "latency", 0.1, threshold=1.0, driven_by="db_connections"),  # 1.9
        Measured("error_rate", "ratio", 0.02),
        Measured("availability", "ratio", 0.99),
        Measured("request_rate", "rate", 300.0),
    ]
    p = project(readings)
    assert [h.name for h in p.breaks_first] == ["db_connections", "p95_latency", "cpu", "queue"]
    assert [h.name for h in p.ranked] == [*[h.name for h in p.breaks_first], "primary_write_utilisation"]
    assert [round(h.headroom, 3) for h in p.ranked] == [1.6, 1.9, 3.5, 8.0, 16.0]


def test_error_rate_availability_and_rates_are_not_ranked() -> None:
    p = project([Measured("error_rate", "ratio", 0.5), Measured("availability", "ratio", 0.5)])
    assert p.ranked == () and p.breaks_first == ()


def test_saturation_at_ten_x_is_k_times_u_and_saturates_at_one() -> None:
    p = project([Measured("queue", "saturation", 0.1), Measured("cpu", "saturation", 0.05)])
    queue, cpu = (next(h for h in p.ranked if h.name == n) for n in ("queue", "cpu"))
    assert queue.at_k == pytest.approx(1.0) and queue.saturates
    assert cpu.at_k == pytest.approx(0.5) and not cpu.saturates


def test_a_latency_tied_to_a_saturating_resource_saturates() -> None:
    p = project([Measured("db", "saturation", 0.2), Measured("p95", "latency", 0.05, 0.5, "db")])
    latency = next(h for h in p.ranked if h.name == "p95")
    assert latency.saturates and latency.at_k is None and latency.driven_by == "db"


def test_a_latency_without_a_driver_is_reported_as_not_projected() -> None:
    p = project([Measured("p99_latency", "latency", 0.3, threshold=1.0)])
    assert p.ranked == () and p.unprojected == ("p99_latency",)


def test_signals_without_a_usable_value_are_left_out() -> None:
    p = project([Measured("db", "saturation", None), Measured("cpu", "saturation", math.nan)])
    assert p.ranked == ()


def test_a_utilisation_outside_zero_to_one_is_not_ranked() -> None:
    p = project(
        [
            Measured("cpu", "saturation", 80.0),  # a query in percent: headroom would read ×0.01
            Measured("queue", "saturation", -0.1),
            Measured("db", "saturation", 0.5),
            Measured("full", "saturation", 1.0),  # exactly at capacity is still a utilisation
            Measured("p95", "latency", 0.1, threshold=1.0, driven_by="cpu"),
        ]
    )
    assert [h.name for h in p.ranked] == ["full", "db"]
    assert p.unprojected == ("p95",)  # its driver has no usable utilisation


def test_a_lower_ceiling_means_less_headroom() -> None:
    p = project([Measured("db", "saturation", 0.4)], ceiling=0.6)
    assert p.ranked[0].headroom == pytest.approx(1.5)


def test_the_assumptions_are_one_line() -> None:
    assert "\n" not in ASSUMPTIONS
    assert "linearly" in ASSUMPTIONS and "independent" in ASSUMPTIONS
    assert project([]).assumptions == ASSUMPTIONS
