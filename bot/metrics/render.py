"""`/scale-check metrics` as Block Kit: each signal against its threshold, the 10x projection ranked by
headroom, the breached triggers with their seeds, and when and where the data was read."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import timedelta

from bot import blocks as bk
from bot import outbound, seeds
from bot import sparkline as spark
from bot.metrics.coverage import Hint, Unchecked
from bot.metrics.projection import Headroom
from bot.metrics.service import SignalReading, TeamReading, Trigger
from bot.metrics.signals import Signal
from bot.words import plural, quoted

SOURCE_NAMES = {"prometheus": "Prometheus", "datadog": "Datadog", "newrelic": "New Relic"}
STATUS_ICONS = bk.SIGNAL_ICONS
MAX_RANKED = 10  # lines of the projection; the rest are counted


def _trim(number: float, digits: int = 3) -> str:
    return f"{number:.{digits}f}".rstrip("0").rstrip(".")


def percent(value: float) -> str:
    p = value * 100
    return f"{_trim(p, 3)}%" if abs(p) >= 99 else f"{float(f'{p:.3g}'):g}%"


def fmt_value(kind: str, value: float | None) -> str:
    """A value in its unit: latency in ms (s from 1 s), ratios and utilisation in %, rates in req/s."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if kind == "latency":
        return f"{float(f'{value * 1000:.3g}'):g} ms" if value < 1 else f"{float(f'{value:.3g}'):g} s"
    if kind in ("ratio", "saturation"):
        return percent(value)
    if kind == "rate":
        return (
            f"{float(f'{value:.3g}'):g} req/s" if value < 1000 else f"{float(f'{value / 1000:.3g}'):g}k req/s"
        )
    return f"{float(f'{value:.3g}'):g}"


def fmt_multiple(k: float) -> str:
    if math.isinf(k):
        return "×∞"
    return f"×{float(f'{k:.3g}'):g}"


def limit_text(signal: Signal) -> str:
    rule, limit = signal.rule, signal.threshold
    if rule is None or limit is None:
        return f"no threshold: the articles set none for {signal.title}; `threshold:` sets one"
    if signal.is_feature:
        return f"limit {fmt_multiple(limit)} relative growth"
    shown = fmt_value(signal.kind, limit)
    if signal.kind == "saturation":
        return f"ceiling {shown}"
    return f"at least {shown}" if rule.op == "<" else f"limit {shown}"


def span_text(window: timedelta) -> str:
    """7 days, 5 minutes, hour."""
    seconds = int(window.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return unit if n == 1 else f"{n} {unit}s"
    return f"{window.total_seconds():g} seconds"


def window_text(signal: Signal) -> str:
    """What the value covers: "over the last 7 days", "now"."""
    if signal.window is None:
        return "now"
    if signal.latest:
        return f"latest in the last {span_text(signal.window)}"
    return f"over the last {span_text(signal.window)}"


def value_text(signal: Signal, value: float | None) -> str:
    """A value in its unit with the window it covers, the same on every surface: "82% now",
    "99.0% over the last 7 days", "330 ms latest in the last 5 minutes"."""
    return f"{fmt_value(signal.kind, value)} {window_text(signal)}"


def _nice(x: float) -> float:
    """The smallest of 1, 2, 5 × 10ⁿ at or above x."""
    magnitude = 10 ** math.floor(math.log10(x))
    return next(f * magnitude for f in (1, 2, 5, 10) if x <= f * magnitude * (1 + 1e-9))


def chart_scale(signal: Signal, values: Sequence[float]) -> tuple[float, float]:
    """A scale that cannot turn noise into a cliff: from zero, or for a share that must stay high
    (availability) from 100% down to ten times the threshold's distance from 100% (99–100% for 99.9%),
    widened by whole powers of ten to show a lower value."""
    limit = signal.threshold
    if signal.kind == "ratio" and signal.rule is not None and signal.rule.op == "<" and limit is not None:
        gap = max([10 * (1 - limit)] + [10 ** math.ceil(math.log10(1 - v)) for v in values if v < 1])
        return max(0.0, 1 - gap), 1.0
    if signal.kind == "saturation":
        return 0.0, max([1.0, *values])
    top = max([v for v in values if v > 0] + ([limit] if limit else []), default=0.0)
    return 0.0, _nice(top) if top > 0 else 1.0


def sparkline(values: Sequence[float | None], low: float, high: float) -> str | None:
    """The bars on the `low`–`high` scale (`bot.sparkline`); None with fewer than two known values."""
    if sum(v is not None for v in values) < 2:
        return None
    return spark.bars(values, low, high)


def trend_text(r: SignalReading) -> str | None:
    """ "`▇▇▇▁▇▇▇` by day, scale 90–100%, was 99.9%": the 7-day trend on its stated scale."""
    known = [v for v in r.trend if v is not None]
    low, high = chart_scale(r.signal, known)
    bars = sparkline(r.trend, low, high)
    if bars is None:
        return None
    kind = r.signal.kind
    each = "by day" if r.signal.trend_query or r.signal.averaged else "7d"
    top = fmt_value(kind, high)
    bottom = "0" if low == 0 else fmt_value(kind, low).removesuffix("%")
    scale = f"{bottom}–{top}"
    return f"`{bars}` {each}, scale {scale}, was {fmt_value(kind, known[0])}"


def signal_line(r: SignalReading) -> str:
    s = r.signal
    head = f"{STATUS_ICONS[r.status]} *{bk.escape(s.title)}*"
    if r.error is not None:
        return f"{head} — {outbound.mrkdwn(r.error)}"  # a rate limit's next try as a Slack date
    if s.is_feature and r.features:
        top = r.features[0]
        growth = (
            "new" if math.isinf(top.relative) else f"grew {fmt_multiple(top.relative)} relative to the rest"
        )
        rates = ", ".join(f"{bk.escape(g.feature)} {fmt_value('rate', g.last_week)}" for g in r.features[:5])
        return f"{head} {bk.escape(top.feature)} {growth} over 7 days ({limit_text(s)}) · {rates}"
    value = value_text(s, r.value)
    if r.value is None:
        value = f"n/a ({bk.escape(r.note)})" if r.note else "n/a"
    line = f"{head} {value} ({limit_text(s)})"
    trend = trend_text(r)
    return f"{line} {trend}" if trend else line


def _quote(quote: str, seed: str | None) -> str:
    """ "“quote” — “Title”": the seed's words and the article they come from."""
    if not quote:
        return ""
    cited = f" — {bk.escape(seeds.cite(seed))}" if seed else ""
    return f"{bk.escape(quoted(quote.rstrip('.')))}{cited}"


def unchecked_line(u: Unchecked) -> str:
    quote = _quote(u.quote, u.seed)
    said = f" {quote}." if quote else ""
    return (
        f"• *{u.rule}* not checked: {u.why}.{said} To check it, add under the team's `metrics.signals`: "
        f"{bk.escape(u.add)}"
    )


def hint_line(h: Hint) -> str:
    value = value_text(h.signal, h.value)
    cited = f" ({bk.escape(seeds.cite(h.seed))})" if h.seed else ""
    return (
        f":bulb: *Hint:* the request {bk.escape(h.signal.title)} is {value}, over the "
        f"{fmt_value('latency', h.limit)} the {h.rule}{cited} sets for *read queries*. It is not a trigger "
        "(requests are not read queries): measure read latency to check the rule."
    )


def headroom_line(
    i: int, h: Headroom, k: float, titles: Mapping[str, str], windows: Mapping[str, str] | None = None
) -> str:
    """`windows`: each signal's `window_text`, so the value says what it covers as its line above does."""
    title = bk.escape(titles.get(h.name, h.name))
    when = (windows or {}).get(h.name, "now")
    if h.kind == "saturation":
        now = f"{percent(h.current)} {when}, ceiling {percent(h.limit or 0)}"
        at_k = "saturates" if h.saturates else percent(h.at_k or 0)
    else:
        driver = bk.escape(titles.get(h.driven_by or "", h.driven_by or ""))
        limit = f", limit {fmt_value('latency', h.limit)}" if h.limit is not None else ""
        now = f"{fmt_value('latency', h.current)} {when}{limit}, driven by {driver}"
        at_k = "saturates" if h.saturates or h.at_k is None else fmt_value("latency", h.at_k)
    return f"{i}. *{title}* — headroom {fmt_multiple(h.headroom)} ({now}); at {k:g}x: {at_k}"


OP_WORDS = {">": "is over", ">=": "is at or over", "<": "is under"}


def _basis(t: Trigger) -> str:
    """Where the trigger and its limit come from: the seed, and whose limit it is unless the seed's."""
    parts = [bk.escape(seeds.cite(t.seed))] if t.seed else []
    if t.origin == "team":
        parts.append("the team's ceiling" if t.kind == "saturation" else "the team's threshold")
    elif t.origin == "defaults":
        parts.append("the default ceiling, `defaults.metrics.ceiling` in the config file")
    elif t.origin == "brief":
        parts.append(f"the default ceiling, {percent(t.limit)} from the product brief's 10x rule")
    return f" ({'; '.join(parts)})" if parts else ""


def trigger_line(t: Trigger, window: str = "") -> str:
    seed = _basis(t)
    title = bk.escape(t.title)
    action = f"*{bk.escape(t.action)}*"
    if t.subject is not None:
        growth = fmt_multiple(t.value)
        return f"• *{title}*: {bk.escape(t.subject)} grew {growth} relative to the rest → {action}{seed}"
    value, limit = " ".join(filter(None, (fmt_value(t.kind, t.value), window))), fmt_value(t.kind, t.limit)
    return f"• *{title}* {value} {OP_WORDS.get(t.op, t.op)} {limit} → {action}{seed}"


def signal_windows(reading: TeamReading) -> dict[str, str]:
    """Each signal's `window_text`, for `headroom_line` and `trigger_line` wherever they are shown."""
    return {r.name: window_text(r.signal) for r in reading.signals}


def _chunks(lines: Sequence[str], limit: int = bk.MAX_SECTION_TEXT) -> list[str]:
    out: list[str] = []
    for line in lines:
        if out and len(out[-1]) + 1 + len(line) <= limit:
            out[-1] += "\n" + line
        else:
            out.append(line[:limit])
    return out


def reading_blocks(reading: TeamReading) -> list[bk.Block]:
    """The answer to `/scale-check metrics`: a handful of blocks, whatever the number of signals."""
    titles = {r.name: r.signal.title for r in reading.signals}
    windows = signal_windows(reading)
    blocks: list[bk.Block] = [bk.header(f"Live metrics · {reading.team}")]
    lines = [signal_line(r) for r in reading.signals] or ["No signals configured for this team."]
    blocks += [bk.section(chunk) for chunk in _chunks(lines)]
    blocks.append(bk.divider())
    p = reading.projection
    if p.breaks_first:
        ranked = [
            headroom_line(i, h, p.k, titles, windows) for i, h in enumerate(p.breaks_first[:MAX_RANKED], 1)
        ]
        if len(p.breaks_first) > MAX_RANKED:
            ranked.append(f"…and {len(p.breaks_first) - MAX_RANKED} more under {p.k:g}x")
        text = f"*Breaks first at {p.k:g}x* (least headroom first)\n" + "\n".join(ranked)
    elif p.ranked:
        text = f"*Breaks first at {p.k:g}x*: nothing; every projected signal holds at {p.k:g}x."
    else:
        text = (
            f"*Breaks first at {p.k:g}x*: nothing to project. Add saturation signals (`kind: saturation`) "
            "and tie latency signals to them with `driven_by`."
        )
    holds = [h for h in p.ranked if h not in p.breaks_first]
    if holds:
        shown = ", ".join(
            f"{bk.escape(titles.get(h.name, h.name))} ({fmt_multiple(h.headroom)})"
            for h in holds[:MAX_RANKED]
        )
        more = f" and {len(holds) - MAX_RANKED} more" if len(holds) > MAX_RANKED else ""
        text += f"\nHolds at {p.k:g}x: {shown}{more}"
    if p.unprojected:
        names = ", ".join(bk.escape(titles.get(n, n)) for n in p.unprojected)
        text += f"\nNot projected (no `driven_by` saturation signal): {names}"
    blocks.append(bk.section(text))
    if reading.triggers:
        blocks.append(
            bk.section(
                "*Scaling triggers*\n"
                + "\n".join(trigger_line(t, windows.get(t.signal, "")) for t in reading.triggers)
            )
        )
    else:
        blocks.append(bk.section("*Scaling triggers*: none breached."))
    checks = [hint_line(h) for h in reading.hints] + [unchecked_line(u) for u in reading.unchecked]
    if checks:
        blocks += [bk.section(chunk) for chunk in _chunks(["*Not checked*", *checks])]
    blocks.append(bk.context(_provenance(reading), p.assumptions))
    warnings = sorted({w for r in reading.signals for w in r.warnings})
    if warnings:
        blocks.append(bk.context("The source warned: " + outbound.mrkdwn("; ".join(warnings))))
    return blocks


def _provenance(reading: TeamReading) -> str:
    sources = ", ".join(
        f"{bk.escape(name)} ({SOURCE_NAMES.get(kind, kind)})"
        for name, kind in sorted(reading.source_kinds.items())
    )
    cached = f" · kept for up to {reading.cache_ttl:g} s" if reading.cache_ttl else ""
    return f"Read {bk.date(reading.read_at)} from {sources or bk.escape(reading.source)}{cached}"


def reading_text(reading: TeamReading) -> str:
    """The notification text: the team, how many triggers, and what breaks first."""
    parts = [f"{bk.escape(reading.team)} metrics"]
    parts.append(
        f"{plural(len(reading.triggers), 'trigger')} breached" if reading.triggers else "no trigger breached"
    )
    if reading.projection.breaks_first:
        titles = {r.name: r.signal.title for r in reading.signals}
        first = ", ".join(
            f"{bk.escape(titles.get(h.name, h.name))} ({fmt_multiple(h.headroom)})"
            for h in reading.projection.breaks_first[:3]
        )
        parts.append(f"breaks first at 10x: {first}")
    if reading.unchecked:
        parts.append(f"{plural(len(reading.unchecked), 'seed rule')} not checked")
    if reading.errors:
        parts.append("unavailable from " + ", ".join(bk.escape(e) for e in sorted(reading.errors)))
    return "; ".join(parts)
