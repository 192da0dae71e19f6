"""The growth stage (`002_…`, `003_…`, `004_…`): planning users → band, and the band one step ahead.

Planning users = current active users × (1 + expected growth over the next quarter). Exact fractions,
so that 999 users with 0.1% growth (999.999) stays under 1,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from bot.checklist.playbook import Band

# Lower bound of each band on planning users, in order.
BANDS: tuple[tuple[Band, int], ...] = (
    ("≈100", 0),
    ("1K", 1_000),
    ("10K", 10_000),
    ("100K", 100_000),
    ("1M", 1_000_000),
)


def planning_users(users: int | Decimal, growth_percent: int | Decimal = 0) -> Fraction:
    """Current active users × (1 + expected growth over the next quarter), exactly."""
    return Fraction(users) * (1 + Fraction(growth_percent) / 100)


def band_for(planning: Fraction | int) -> Band:
    band: Band = BANDS[0][0]
    for label, lower in BANDS:
        if planning >= lower:
            band = label
    return band


def next_band(band: Band) -> Band:
    """The band one step ahead (`004_…`); the top band is its own next step."""
    labels = [label for label, _ in BANDS]
    return labels[min(labels.index(band) + 1, len(labels) - 1)]


@dataclass(frozen=True)
class Stage:
    users: Decimal
    growth_percent: Decimal
    planning: Fraction
    band: Band
    next: Band

    @property
    def planning_whole(self) -> int:
        """Planning users rounded down, as shown (rounding up could cross a band edge on screen)."""
        return int(self.planning)


def growth_stage(users: int | Decimal, growth_percent: int | Decimal = 0) -> Stage:
    planning = planning_users(users, growth_percent)
    band = band_for(planning)
    return Stage(Decimal(users), Decimal(growth_percent), planning, band, next_band(band))
