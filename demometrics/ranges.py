"""Functions over range vectors, as Prometheus (2.x) computes them: windows are closed, [end - range,
end]; `rate`, `increase` and `delta` extrapolate towards the window's edges exactly as
`extrapolatedRate` does; counter resets are added back for `rate`, `increase` and `irate`."""

from __future__ import annotations

import math

import numpy as np

from demometrics.values import NAME, Floats, Ints, Matrix, QueryError, Row, Vector, without

RANGE_FUNCTIONS = frozenset(
    {
        "rate", "increase", "irate", "delta", "avg_over_time", "max_over_time", "min_over_time",
        "sum_over_time", "count_over_time", "quantile_over_time",
    }
)  # fmt: skip


def _extrapolated(
    m: Matrix, lo: Ints, hi: Ints, t: Ints, v: Floats, counter: bool, per_second: bool
) -> Floats:
    n = hi - lo
    ok = n >= 2
    out = np.full(len(lo), np.nan)
    if not ok.any():
        return out
    first_i, last_i = lo[ok], hi[ok] - 1
    first, last = v[first_i], v[last_i]
    result = last - first
    if counter:
        drops = np.zeros(len(v))
        drops[1:] = np.where(v[1:] < v[:-1], v[:-1], 0.0)
        added = np.cumsum(drops)
        result = result + added[last_i] - added[first_i]
    ends = m.ends[ok]
    start_s = (ends - m.range_ms) / 1000
    end_s = ends / 1000
    first_t, last_t = t[first_i] / 1000, t[last_i] / 1000
    to_start, to_end = first_t - start_s, end_s - last_t
    sampled = last_t - first_t
    average = sampled / (n[ok] - 1)
    if counter:
        with np.errstate(divide="ignore", invalid="ignore"):
            to_zero = sampled * (first / result)
        shorter = (result > 0) & (first >= 0) & (to_zero < to_start)
        to_start = np.where(shorter, to_zero, to_start)
    threshold = average * 1.1
    interval = sampled + np.where(to_start < threshold, to_start, average / 2)
    interval = interval + np.where(to_end < threshold, to_end, average / 2)
    factor = interval / sampled
    if per_second:
        factor = factor / (m.range_ms / 1000)
    out[ok] = result * factor
    return out


def _irate(lo: Ints, hi: Ints, t: Ints, v: Floats) -> Floats:
    out = np.full(len(lo), np.nan)
    ok = (hi - lo) >= 2
    last_i = hi[ok] - 1
    last, prev = v[last_i], v[last_i - 1]
    rise = np.where(last < prev, last, last - prev)
    dt = (t[last_i] - t[last_i - 1]) / 1000
    with np.errstate(divide="ignore", invalid="ignore"):
        out[ok] = np.where(dt > 0, rise / dt, np.nan)
    return out


def _extreme(lo: Ints, hi: Ints, v: Floats, pick: np.ufunc) -> Floats:
    """Max or min of v[lo:hi] for every window, with a sparse table (O(1) per window)."""
    out = np.full(len(lo), np.nan)
    ok = hi > lo
    if not ok.any() or len(v) == 0:
        return out
    table = [v]
    width = 1
    while width * 2 <= len(v):
        prev = table[-1]
        table.append(pick(prev[:-width], prev[width:]))
        width *= 2
    length = hi[ok] - lo[ok]
    level = np.floor(np.log2(length)).astype(np.int64)
    result = np.empty(len(length))
    for lvl in np.unique(level):
        sel = level == lvl
        span = 1 << int(lvl)
        row = table[int(lvl)]
        a, b = lo[ok][sel], hi[ok][sel] - span
        result[sel] = pick(row[a], row[b])
    out[ok] = result
    return out


def _quantile(q: Floats, lo: Ints, hi: Ints, v: Floats) -> Floats:
    out = np.full(len(lo), np.nan)
    for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
        if b <= a or math.isnan(q[i]):
            continue
        if q[i] < 0:
            out[i] = -math.inf
        elif q[i] > 1:
            out[i] = math.inf
        else:
            out[i] = float(np.quantile(v[a:b], q[i]))
    return out


def apply(name: str, m: Matrix, param: Floats | None = None) -> Vector:
    """`name(range vector)` at every evaluation time; the result drops the metric name."""
    rows = []
    for s in m.series:
        lo, hi, t, v = s.lo, s.hi, s.t, s.v
        n = (hi - lo).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            if name in ("rate", "increase", "delta"):
                values = _extrapolated(m, lo, hi, t, v, counter=name != "delta", per_second=name == "rate")
            elif name == "irate":
                values = _irate(lo, hi, t, v)
            elif name in ("sum_over_time", "avg_over_time"):
                sums = np.concatenate(([0.0], np.cumsum(v)))
                total = sums[hi] - sums[lo]
                values = total if name == "sum_over_time" else total / n
                values = np.where(n > 0, values, np.nan)
            elif name == "count_over_time":
                values = np.where(n > 0, n, np.nan)
            elif name == "max_over_time":
                values = _extreme(lo, hi, v, np.maximum)
            elif name == "min_over_time":
                values = _extreme(lo, hi, v, np.minimum)
            elif name == "quantile_over_time":
                assert param is not None
                values = _quantile(param, lo, hi, v)
            else:  # pragma: no cover - the caller checks RANGE_FUNCTIONS
                raise QueryError(f"function {name!r} is not supported by the demo source")
        rows.append(Row(without(s.labels, (NAME,)), values))
    return Vector(rows)
