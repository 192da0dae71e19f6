"""The digest's charts, rendered server-side with matplotlib: tech-debt share per team against the shaded
20–30% band, and p95 latency per team over the last eight weeks. With many teams a line or bar per team is
unreadable, so the charts show the distribution and the worst few by name instead: the debt share of all
teams as a histogram against the band (the furthest out named), and the p95 of the ten slowest teams
against the median of all. Every chart is at most 1600×900 px, its type readable at ~360 px wide.

Rendering is CPU work, so `render_charts` runs it on a thread (matplotlib's object API, no pyplot state,
one `Figure` per chart: safe off the main thread).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import matplotlib

matplotlib.use("Agg")  # no display: render to PNG bytes only

from matplotlib.figure import Figure

from bot.digest.model import DebtFacts, MetricsFacts, TeamDigest, Week

MAX_DEBT_TEAMS = 25  # one bar per team up to this many; beyond, the distribution and the worst by name
MAX_LATENCY_TEAMS = 8  # one line per team up to this many; beyond, the ten slowest as bars
SLOWEST = 10
WORST = 5
DPI = 100
MAX_INCHES = (15.5, 8.6)  # under 1600×900 px at DPI, with the tight bounding box's margin
BAND = (0.20, 0.30)
STATUS_COLOURS = {"under": "#e9a23b", "in band": "#2a9d8f", "over": "#d62828"}


@dataclass(frozen=True)
class Chart:
    name: str  # stable per week: "debt-share", "p95-latency"
    title: str
    alt: str  # what the chart shows, for screen readers and notifications
    png: bytes  # the file's bytes (a PNG, or the readiness table's Markdown)
    extension: str = "png"

    def filename(self, week: Week) -> str:
        return f"{self.name}-{week.key}.{self.extension}"


@dataclass(frozen=True)
class DebtBar:
    team: str
    rolling: float
    current: float
    status: str


@dataclass(frozen=True)
class LatencySeries:
    team: str
    points: tuple[tuple[date, float | None], ...]  # seconds

    @property
    def latest(self) -> float | None:
        known = [v for _, v in self.points if v is not None]
        return known[-1] if known else None


def debt_bars(teams: Sequence[TeamDigest]) -> list[DebtBar]:
    bars = []
    for td in teams:
        facts = td.facts("debt", DebtFacts)
        if facts is not None:
            bars.append(DebtBar(td.team.name, facts.rolling, facts.share, facts.status))
    return bars


def latency_series(teams: Sequence[TeamDigest]) -> list[LatencySeries]:
    out = []
    for td in teams:
        facts = td.facts("metrics", MetricsFacts)
        if facts is not None and any(v is not None for _, v in facts.p95_weeks):
            out.append(LatencySeries(td.team.name, facts.p95_weeks))
    return out


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.1)
    return buffer.getvalue()


def _figure(width: float, height: float) -> Figure:
    """A figure within 1600×900 px, with type large enough to read when Slack shows it ~360 px wide."""
    fig = Figure(figsize=(min(width, MAX_INCHES[0]), min(height, MAX_INCHES[1])))
    return fig


def _worst(bars: Sequence[DebtBar]) -> list[DebtBar]:
    out = [b for b in bars if b.status != "in band"]
    return sorted(out, key=lambda b: (-abs(b.rolling - 0.25), b.team.casefold()))[:WORST]


def debt_distribution(bars: Sequence[DebtBar]) -> Chart:
    """Many teams: how their rolling shares spread against the band, and the furthest out by name."""
    fig = _figure(8, 4.5)
    ax = fig.subplots()
    ax.axvspan(BAND[0] * 100, BAND[1] * 100, color="#2a9d8f", alpha=0.15, label="target band 20–30%")
    shares = [b.rolling * 100 for b in bars]
    top = max(50.0, max(shares) + 5)
    ax.hist(shares, bins=[x * 2.5 for x in range(int(top / 2.5) + 1)], color="#1d3557", edgecolor="white")
    ax.set_xlim(0, top)
    ax.set_xlabel("rolling share of capacity on tech debt (%)", fontsize=11)
    ax.set_ylabel("teams", fontsize=11)
    under = sum(1 for b in bars if b.status == "under")
    over = sum(1 for b in bars if b.status == "over")
    title = f"Tech-debt share of all {len(bars)} teams: {under} under the band, {over} over"
    ax.set_title(title, fontsize=12)
    worst = _worst(bars)
    if worst:
        names = "\n".join(f"{b.team[:24]} {b.rolling * 100:.0f}%" for b in worst)
        ax.text(
            0.99,
            0.97,
            "Furthest out:\n" + names,
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=10,
            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "#ccc"},
        )
    ax.legend(loc="upper left", fontsize=10)
    alt = (
        f"Distribution of the tech-debt share of {len(bars)} teams against the 20–30% band: {under} under, "
        f"{over} over. Furthest out: " + "; ".join(f"{b.team} {b.rolling * 100:.0f}%" for b in worst)
    )
    return Chart("debt-share", title, alt, _png(fig))


def debt_chart(bars: Sequence[DebtBar]) -> Chart | None:
    """Rolling share per team (bars, coloured by band status) and the current sprint (dots)."""
    if not bars:
        return None
    if len(bars) > MAX_DEBT_TEAMS:
        return debt_distribution(bars)
    # Out of band first (furthest out first), then the rest by name.
    ordered = sorted(bars, key=lambda b: (b.status == "in band", -abs(b.rolling - 0.25), b.team.casefold()))
    shown = sorted(ordered[:MAX_DEBT_TEAMS], key=lambda b: b.team.casefold(), reverse=True)
    fig = _figure(8, 1.4 + 0.3 * len(shown))
    ax = fig.subplots()
    ax.axvspan(BAND[0] * 100, BAND[1] * 100, color="#2a9d8f", alpha=0.15, label="target band 20–30%")
    y = list(range(len(shown)))
    ax.barh(y, [b.rolling * 100 for b in shown], color=[STATUS_COLOURS.get(b.status, "#888") for b in shown])
    ax.scatter([b.current * 100 for b in shown], y, color="#1d3557", zorder=3, s=14, label="current sprint")
    ax.set_yticks(y, [b.team[:30] for b in shown])
    ax.set_xlim(0, max(50.0, max(max(b.rolling, b.current) * 100 for b in shown) + 5))
    ax.set_xlabel("share of sprint capacity on tech debt and scalability work (%)")
    title = "Tech-debt share per team (rolling, last 3 sprints)"
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    alt = "Tech-debt share per team against the 20–30% band: " + "; ".join(
        f"{b.team} {b.rolling * 100:.0f}% ({b.status})" for b in ordered[:MAX_DEBT_TEAMS]
    )
    return Chart("debt-share", title, alt, _png(fig))


def slowest_chart(series: Sequence[LatencySeries]) -> Chart:
    """Many teams: this week's p95 of the ten slowest, against the median of all teams."""
    known = [s for s in series if s.latest is not None]
    ordered = sorted(known, key=lambda s: (-(s.latest or 0.0), s.team.casefold()))[:SLOWEST]
    values = sorted(s.latest or 0.0 for s in known)
    median = values[len(values) // 2] * 1000 if values else 0.0
    fig = _figure(8, 4.5)
    ax = fig.subplots()
    shown = list(reversed(ordered))
    ax.barh(range(len(shown)), [(s.latest or 0.0) * 1000 for s in shown], color="#d62828")
    ax.set_yticks(range(len(shown)), [s.team[:24] for s in shown], fontsize=10)
    ax.axvline(
        median, color="#1d3557", linestyle="--", label=f"median of all {len(known)} teams: {median:.0f} ms"
    )
    ax.set_xlabel("p95 latency this week (ms)", fontsize=11)
    title = f"p95 latency: the {len(ordered)} slowest of {len(series)} teams"
    ax.set_title(title, fontsize=12)
    ax.legend(loc="lower right", fontsize=10)
    alt = (
        f"p95 latency this week, the {len(ordered)} slowest teams (median of all {median:.0f} ms): "
        + "; ".join(f"{s.team} {(s.latest or 0.0) * 1000:.0f} ms" for s in ordered)
    )
    return Chart("p95-latency", title, alt, _png(fig))


def latency_chart(series: Sequence[LatencySeries]) -> Chart | None:
    """p95 latency per team, one point a week for eight weeks; the ten slowest when there are many."""
    if not series:
        return None
    if len(series) > MAX_LATENCY_TEAMS:
        return slowest_chart(series)
    ordered = sorted(series, key=lambda s: (-(s.latest or 0.0), s.team.casefold()))
    shown = ordered[:MAX_LATENCY_TEAMS]
    fig = _figure(8, 4.5)
    ax = fig.subplots()
    weeks = sorted({d for s in shown for d, _ in s.points})
    position = {d: i for i, d in enumerate(weeks)}
    for s in shown:
        known = [(position[d], v * 1000) for d, v in s.points if v is not None]
        ax.plot([x for x, _ in known], [y for _, y in known], marker="o", markersize=3, label=s.team[:30])
    ax.set_xticks(range(len(weeks)), [f"week of {d:%b %d}" for d in weeks])
    ax.set_ylabel("p95 latency (ms)")
    ax.set_ylim(bottom=0)
    ax.tick_params(axis="x", labelsize=7, rotation=30)
    title = "p95 latency per team, last 8 weeks"
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    alt = "p95 latency per team this week: " + "; ".join(
        f"{s.team} {s.latest * 1000:.0f} ms" for s in shown if s.latest is not None
    )
    return Chart("p95-latency", title, alt, _png(fig))


def _render(bars: list[DebtBar], series: list[LatencySeries]) -> list[Chart]:
    return [c for c in (debt_chart(bars), latency_chart(series)) if c is not None]


async def render_charts(teams: Sequence[TeamDigest]) -> list[Chart]:
    """Both charts, rendered on a worker thread; a chart with no data is left out."""
    bars, series = debt_bars(teams), latency_series(teams)
    return await asyncio.get_running_loop().run_in_executor(None, _render, bars, series)
