"""Small text charts on a stated, fixed scale: one bar per value between `low` (the lowest bar) and
`high` (the full bar), so a wobble is drawn as big as it is against the scale, never stretched to fill
the bars. Slack, the App Home, the digest and the console (which renders the same mrkdwn) all draw with
this function; each caller chooses the scale and says what it is."""

from __future__ import annotations

from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"
GAP = "·"  # a value that is not known


def bars(values: Sequence[float | None], low: float, high: float) -> str:
    """One bar per value on the `low`–`high` scale (values outside it are the lowest or the full bar)."""
    span = high - low
    top = len(BARS) - 1
    out = []
    for value in values:
        if value is None:
            out.append(GAP)
            continue
        level = (value - low) / span if span > 0 else 0.5
        out.append(BARS[round(min(max(level, 0.0), 1.0) * top)])
    return "".join(out)
