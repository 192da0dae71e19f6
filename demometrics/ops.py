"""Aggregations, binary operators and `histogram_quantile`, over vectors of rows (see `values.py`)."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from demometrics.values import NAME, Floats, Labels, QueryError, Row, Scalar, Vector, keep, merged, without

AGGREGATIONS = frozenset({"sum", "avg", "max", "min", "count"})
ARITHMETIC: dict[str, Callable[[Floats, Floats], Floats]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "%": np.fmod,
    "^": np.power,
}
COMPARISON: dict[str, Callable[[Floats, Floats], Floats]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}
SET_OPS = frozenset({"and", "or", "unless"})


def aggregate(op: str, vector: Vector, grouping: Sequence[str], is_without: bool, size: int) -> Vector:
    """`op by (grouping)` or `op without (grouping)`: one row per group; the metric name is dropped."""
    groups: dict[Labels, list[Row]] = {}
    for row in vector.rows:
        key = without(row.labels, (*grouping, NAME)) if is_without else keep(row.labels, grouping)
        groups.setdefault(key, []).append(row)
    out = []
    for key, rows in groups.items():
        stack = np.vstack([r.values for r in rows]) if rows else np.full((1, size), np.nan)
        present = ~np.isnan(stack)
        count = present.sum(axis=0).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            if op == "sum":
                values = np.nansum(stack, axis=0)
            elif op == "avg":
                values = np.nansum(stack, axis=0) / count
            elif op == "count":
                values = count
            elif op == "max":
                values = np.max(np.where(present, stack, -np.inf), axis=0)
            else:
                values = np.min(np.where(present, stack, np.inf), axis=0)
        out.append(Row(key, np.where(count > 0, values, np.nan)))
    return Vector(out)


def _bucket_quantile(q: float, bounds: Floats, counts: Floats) -> float:
    """Prometheus's `bucketQuantile` for one set of cumulative buckets sorted by upper bound."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    present = ~np.isnan(counts)
    bounds, counts = bounds[present], counts[present]
    if len(bounds) < 2 or not math.isinf(bounds[-1]):
        return math.nan
    counts = np.maximum.accumulate(counts)
    observations = counts[-1]
    if observations == 0:
        return math.nan
    rank = q * observations
    b = int(np.searchsorted(counts[:-1], rank, side="left"))
    if b == len(bounds) - 1:
        return float(bounds[-2])
    if b == 0 and bounds[0] <= 0:
        return float(bounds[0])
    start, end, count = 0.0, float(bounds[b]), float(counts[b])
    if b > 0:
        start = float(bounds[b - 1])
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return start + (end - start) * (rank / count)


def histogram_quantile(q: Floats, vector: Vector) -> Vector:
    """φ-quantile from classic histogram buckets (`le` labels), per label set without `le`."""
    groups: dict[Labels, list[tuple[float, Floats]]] = {}
    for row in vector.rows:
        le = dict(row.labels).get("le")
        if le is None:
            continue
        try:
            bound = float(le)
        except ValueError:
            continue
        groups.setdefault(without(row.labels, ("le", NAME)), []).append((bound, row.values))
    out = []
    for key, buckets in groups.items():
        buckets.sort(key=lambda b: b[0])
        bounds = np.array([b for b, _ in buckets])
        if len(set(bounds.tolist())) != len(bounds):  # the same bucket twice: add them up
            merged_counts: dict[float, Floats] = {}
            for b, v in buckets:
                merged_counts[b] = merged_counts[b] + v if b in merged_counts else v
            bounds = np.array(sorted(merged_counts))
            counts = np.vstack([merged_counts[b] for b in bounds])
        else:
            counts = np.vstack([v for _, v in buckets])
        values = np.array(
            [_bucket_quantile(float(q[i]), bounds, counts[:, i]) for i in range(counts.shape[1])]
        )
        out.append(Row(key, values))
    return Vector(out)


def _signature(labels: Labels, on: bool, names: Sequence[str]) -> Labels:
    return keep(labels, names) if on else without(labels, (*names, NAME))


def _scalar_op(op: str, lhs: Floats, rhs: Floats) -> Floats:
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if op in ARITHMETIC:
            return ARITHMETIC[op](lhs, rhs)
        return COMPARISON[op](lhs, rhs).astype(np.float64)


def binary(
    op: str,
    lhs: Vector | Scalar,
    rhs: Vector | Scalar,
    *,
    return_bool: bool,
    on: bool | None,
    names: Sequence[str],
) -> Vector | Scalar:
    """`lhs op rhs` for arithmetic, comparison and set operators with one-to-one matching (`on` None:
    neither `on` nor `ignoring` was given)."""
    if isinstance(lhs, Scalar) and isinstance(rhs, Scalar):
        return Scalar(_scalar_op(op, lhs.values, rhs.values))
    comparison = op in COMPARISON
    drop_name = op in ARITHMETIC or return_bool
    if isinstance(lhs, Scalar) or isinstance(rhs, Scalar):
        vector, scalar = (rhs, lhs) if isinstance(lhs, Scalar) else (lhs, rhs)
        assert isinstance(vector, Vector) and isinstance(scalar, Scalar)
        rows = []
        for row in vector.rows:
            a, b = (scalar.values, row.values) if isinstance(lhs, Scalar) else (row.values, scalar.values)
            result = _scalar_op(op, a, b)
            if comparison and not return_bool:
                result = np.where(result == 1, row.values, np.nan)
            elif comparison:
                result = np.where(np.isnan(row.values), np.nan, result)
            labels = without(row.labels, (NAME,)) if drop_name else row.labels
            rows.append(Row(labels, result))
        return Vector(merged(rows))
    if op in SET_OPS:
        return _set_op(op, lhs, rhs, bool(on), names)
    return _one_to_one(op, lhs, rhs, return_bool, on, names)


def _one_to_one(
    op: str, lhs: Vector, rhs: Vector, return_bool: bool, on: bool | None, names: Sequence[str]
) -> Vector:
    by_sig: dict[Labels, list[Row]] = {}
    for row in rhs.rows:
        by_sig.setdefault(_signature(row.labels, bool(on), names), []).append(row)
    matched: dict[Labels, Floats] = {}
    for sig, rows in by_sig.items():
        stack = np.vstack([r.values for r in rows])
        if (np.sum(~np.isnan(stack), axis=0) > 1).any():
            raise QueryError(
                "found duplicate series for the match group on the right hand-side of the operation: "
                "many-to-many matching not allowed: matching labels must be unique on one side",
                "execution",
            )
        matched[sig] = np.nanmax(np.where(np.isnan(stack), -np.inf, stack), axis=0)
        matched[sig][np.all(np.isnan(stack), axis=0)] = np.nan
    seen: dict[Labels, NDArray[np.bool_]] = {}
    rows = []
    for row in lhs.rows:
        sig = _signature(row.labels, bool(on), names)
        other = matched.get(sig)
        if other is None:
            continue
        both = ~np.isnan(row.values) & ~np.isnan(other)
        if sig in seen and (seen[sig] & both).any():
            raise QueryError(
                "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                "execution",
            )
        seen[sig] = seen.get(sig, np.zeros(len(both), bool)) | both
        result = _scalar_op(op, row.values, other)
        if op in COMPARISON and not return_bool:
            result = np.where(result == 1, row.values, np.nan)
        result = np.where(both, result, np.nan)
        labels = row.labels
        if op in ARITHMETIC or return_bool:
            labels = without(labels, (NAME,))
        if on:
            labels = keep(labels, names)
        elif on is not None:
            labels = without(labels, names)
        rows.append(Row(labels, result))
    return Vector(merged(rows))


def _set_op(op: str, lhs: Vector, rhs: Vector, on: bool, names: Sequence[str]) -> Vector:
    size = len(lhs.rows[0].values) if lhs.rows else len(rhs.rows[0].values) if rhs.rows else 0

    def presence(vector: Vector) -> dict[Labels, np.ndarray]:
        out: dict[Labels, np.ndarray] = {}
        for row in vector.rows:
            sig = _signature(row.labels, on, names)
            out[sig] = out.get(sig, np.zeros(size, bool)) | ~np.isnan(row.values)
        return out

    if op == "or":
        left = presence(lhs)
        rows = [Row(r.labels, r.values) for r in lhs.rows]
        for row in rhs.rows:
            taken = left.get(_signature(row.labels, on, names))
            rows.append(Row(row.labels, row.values if taken is None else np.where(taken, np.nan, row.values)))
        return Vector(merged(rows))
    right = presence(rhs)
    rows = []
    for row in lhs.rows:
        there = right.get(_signature(row.labels, on, names), np.zeros(size, bool))
        wanted = there if op == "and" else ~there
        rows.append(Row(row.labels, np.where(wanted, row.values, np.nan)))
    return Vector(merged(rows))
