"""Generated history for the demo source: a few weeks of one-minute samples, deterministic and anchored to
"now", for a busy `payments` service and a healthy `search` service.

The series are the standard instrumentation the bot's default queries assume: an
`http_request_duration_seconds` histogram (with `method`) and an `http_requests_total` counter (with
`method` and `code`), `up` for three scrape targets per service, a `db_pool_utilisation` gauge, and the
gauges the documentation's examples read (`pg_stat_activity_count`, `pg_settings_max_connections`,
`pg_primary_write_utilisation`, `process_cpu_utilisation`).

The story, relative to the anchor (the minute the history was made):
- payments is busy (about 115 requests/s at its daily peak); its database pool peaks near 62% of its
  connections every day, so at 10x the load it is the first thing to break; reads (GET) have a p95 of
  about 170 ms, over the 100 ms at which the read-replica rule says to evaluate a replica;
- three days before the anchor payments had one bad day: the pool saturated, errors rose to about 6% for
  four hours, and the service was down for 45 minutes (no target up, no requests served), after which its
  counters restarted from zero;
- search is healthy: a p95 near 60 ms, errors near 0.05%, a pool under 10%;
- traffic grew about 5% a week up to the anchor, and the pools and latencies with it.

Values come from a hash of the sample's minute and the series, so the same minute always has the same
value, whatever the anchor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

STEP_MS = 60_000
DAY_MS = 86_400_000
WEEKS = 3
BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)  # and +Inf
BAD_DAY_BEFORE = 3  # days before the anchor
INCIDENT_HOURS = (9.0, 13.0)  # UTC hours of the bad day with raised errors
DOWNTIME_HOURS = (10.25, 11.0)  # UTC hours of the bad day with nothing up

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


@dataclass(frozen=True)
class Stored:
    """One series as a TSDB holds it: labels (with `__name__`), sample times in ms, values."""

    labels: Mapping[str, str]
    t: Ints
    v: Floats

    @property
    def name(self) -> str:
        return self.labels["__name__"]


@dataclass(frozen=True)
class Service:
    name: str
    reads_per_s: float  # GET at the daily peak
    writes_per_s: float  # POST at the daily peak
    error_ratio: float  # 5xx share on an ordinary day
    read_median: float  # seconds
    write_median: float
    spread: float  # lognormal sigma of request durations
    pool_base: float  # pool utilisation at no load
    pool_per_load: float  # added at the daily peak
    bad_day: bool


SERVICES = (
    Service("payments", 80, 35, 0.002, 0.040, 0.045, 0.70, 0.20, 0.42, bad_day=True),
    Service("search", 40, 2, 0.0005, 0.020, 0.030, 0.60, 0.03, 0.04, bad_day=False),
)


def _hash(k: Ints, salt: int) -> Floats:
    """Uniform [0, 1) per (minute, salt): splitmix64 over the minute number."""
    with np.errstate(over="ignore"):
        x = k.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(
            (salt * 0x632BE59BD9B4E019 + 1) % (1 << 64)
        )
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _salt(*parts: str) -> int:
    h = 1469598103934665603
    for ch in "|".join(parts).encode():
        h = ((h ^ ch) * 1099511628211) % (1 << 61)
    return h


def _load(t: Ints) -> Floats:
    """Share of the daily peak: highest at 15:00 UTC, under a third of it at night."""
    hours = (t % DAY_MS) / 3_600_000
    return 0.65 + 0.35 * np.sin(2 * math.pi * (hours - 9) / 24)


def _normal_cdf(x: Floats) -> Floats:
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return 0.5 * (1 + erf(x / math.sqrt(2)))


def _counter(increments: Floats, keep: NDArray[np.bool_], whole: bool = True) -> Floats:
    """Cumulative (whole) counts of `increments`, restarting from zero after each gap in `keep`."""
    total = np.cumsum(increments)
    if whole:
        total = np.floor(total)
    restart = np.flatnonzero(keep[1:] & ~keep[:-1]) + 1  # first sample after a gap
    for i in restart:
        total[i:] -= total[i - 1]
    return total


def _window(t: Ints, day0: int, hours: tuple[float, float]) -> NDArray[np.bool_]:
    start, end = day0 + int(hours[0] * 3_600_000), day0 + int(hours[1] * 3_600_000)
    return (t >= start) & (t < end)


def generate(
    anchor_ms: int, days: int = WEEKS * 7, ahead_ms: int = DAY_MS, step_ms: int = STEP_MS
) -> list[Stored]:
    """Every series from `days` before the anchor to `ahead_ms` after it (readers hide the future)."""
    anchor = anchor_ms - anchor_ms % step_ms
    t = np.arange(anchor - days * DAY_MS, anchor + ahead_ms + 1, step_ms, dtype=np.int64)
    k = t // 60_000
    # Traffic grew about 5% a week (and the pool and latencies with it) up to the anchor.
    growth = 1 + 0.05 * (t - anchor) / (7 * DAY_MS)
    load = _load(t) * growth
    bad_day0 = (anchor // DAY_MS - BAD_DAY_BEFORE) * DAY_MS
    out: list[Stored] = []
    for svc in SERVICES:
        incident = _window(t, bad_day0, INCIDENT_HOURS) if svc.bad_day else np.zeros(len(t), bool)
        down = _window(t, bad_day0, DOWNTIME_HOURS) if svc.bad_day else np.zeros(len(t), bool)
        serving = ~down
        base = {"service": svc.name, "job": f"{svc.name}-api"}

        for i in range(3):
            instance = f"{svc.name}-{i + 1}:8080"
            up = np.where(down, 0.0, 1.0)
            if svc.bad_day and i == 2:  # the third replica came back two hours late
                up = np.where(_window(t, bad_day0, (DOWNTIME_HOURS[0], DOWNTIME_HOURS[1] + 2)), 0.0, up)
            out.append(Stored({"__name__": "up", **base, "instance": instance}, t, up))

        jitter = _hash(k, _salt(svc.name, "pool")) - 0.5
        pool = svc.pool_base + svc.pool_per_load * load + 0.02 * jitter
        pool = np.where(incident, 0.97 + 0.03 * (jitter + 0.5) * 0.9, pool)
        pool = np.clip(pool, 0, 1)
        out.append(Stored({"__name__": "db_pool_utilisation", **base}, t, pool))
        # What the docs' examples read: PostgreSQL's connections, the primary's write load, process CPU.
        out.append(Stored({"__name__": "pg_settings_max_connections", **base}, t, np.full(len(t), 100.0)))
        out.append(Stored({"__name__": "pg_stat_activity_count", **base}, t, np.round(pool * 100)))
        writes = 0.1 + 0.25 * load * (svc.writes_per_s / 35) + 0.02 * jitter
        out.append(Stored({"__name__": "pg_primary_write_utilisation", **base}, t, np.clip(writes, 0, 1)))
        for i in range(3):
            cpu = (
                0.08
                + 0.3 * load * (svc.reads_per_s / 80)
                + 0.03 * (_hash(k, _salt(svc.name, "cpu", str(i))) - 0.5)
            )
            target = {**base, "instance": f"{svc.name}-{i + 1}:8080"}
            out.append(Stored({"__name__": "process_cpu_utilisation", **target}, t, cpu))

        for method, peak, median in (
            ("GET", svc.reads_per_s, svc.read_median),
            ("POST", svc.writes_per_s, svc.write_median),
        ):
            noise = 1 + 0.1 * (_hash(k, _salt(svc.name, method, "rate")) - 0.5)
            per_minute = peak * load * noise * 60
            errors = np.where(incident, 0.06, svc.error_ratio) * (
                1 + 0.5 * (_hash(k, _salt(svc.name, method, "err")) - 0.5)
            )
            labels = {**base, "method": method}
            for code, share in (("200", 1 - errors), ("500", errors)):
                total = _counter(per_minute * share, serving)
                out.append(
                    Stored(
                        {"__name__": "http_requests_total", **labels, "code": code},
                        t[serving],
                        total[serving],
                    )
                )
            med = median * (0.95 + 0.1 * load) * np.where(incident, 3.0, 1.0)
            for le in (*BUCKETS, math.inf):
                share = (
                    np.ones(len(t))
                    if math.isinf(le)
                    else _normal_cdf((math.log(le) - np.log(med)) / svc.spread)
                )
                counts = _counter(per_minute * share, serving)
                name = "http_request_duration_seconds_bucket"
                le_label = "+Inf" if math.isinf(le) else f"{le:g}"
                out.append(Stored({"__name__": name, **labels, "le": le_label}, t[serving], counts[serving]))
            count = _counter(per_minute, serving)
            mean = med * math.exp(svc.spread**2 / 2)
            total_seconds = _counter(per_minute * mean, serving, whole=False)
            for suffix, values in (("count", count), ("sum", total_seconds)):
                out.append(
                    Stored(
                        {"__name__": f"http_request_duration_seconds_{suffix}", **labels},
                        t[serving],
                        values[serving],
                    )
                )
    return out
