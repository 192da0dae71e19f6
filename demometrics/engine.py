"""The demo source's PromQL engine: queries parsed by `promql-parser`, evaluated over stored series.

It evaluates the subset the bot's default queries and the documented examples use (see docs/metrics.md):
instant and range selectors with the four matcher kinds and `offset`, subqueries, the range functions in
`ranges.py`, `sum`/`avg`/`max`/`min`/`count` with `by`/`without`, `histogram_quantile`, `vector`,
`scalar`, `clamp_min`, `clamp_max`, `abs`, `time`, set operators and arithmetic and comparison operators
with one-to-one matching. Anything else is refused with `bad_data`, as Prometheus refuses a query it
cannot run. Semantics follow Prometheus 2.x: a 5-minute lookback and closed windows.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import promql_parser as pp

from demometrics import ops, ranges
from demometrics.history import Stored
from demometrics.values import (
    Ints,
    Matrix,
    QueryError,
    Row,
    Scalar,
    Str,
    Value,
    Vector,
    Windowed,
    labels_of,
    merged,
    without,
)

LOOKBACK_MS = 5 * 60_000
DEFAULT_SUBQUERY_STEP_MS = 60_000  # Prometheus's default evaluation interval
VECTOR_FUNCTIONS = frozenset({"abs", "clamp_min", "clamp_max"})


def _ms(delta: timedelta | None) -> int:
    return 0 if delta is None else round(delta.total_seconds() * 1000)


def parse(query: str) -> pp.Expr:
    try:
        return pp.parse(query)
    except ValueError as exc:
        raise QueryError(f"1:1: parse error: {exc}") from None


class Engine:
    """Stored series (shown up to `until_ms`, the wall clock) and the evaluator over them."""

    def __init__(self, series: Sequence[Stored], default_step_ms: int = DEFAULT_SUBQUERY_STEP_MS) -> None:
        self.by_name: dict[str, list[Stored]] = {}
        for s in series:
            self.by_name.setdefault(s.name, []).append(s)
        self.first_ms = min((int(s.t[0]) for s in series if len(s.t)), default=0)
        self.default_step_ms = default_step_ms
        self.until_ms: int | None = None

    def evaluate(self, expr: pp.Expr, times: Ints, until_ms: int | None = None) -> Value:
        """`expr` at every time in `times` (ms), seeing only samples up to `until_ms`. Safe to call from
        several threads: each call evaluates on its own shallow copy (the series are shared, read-only)."""
        run = copy.copy(self)
        run.until_ms = until_ms
        return run._eval(expr, times)

    # -- selectors ---------------------------------------------------------------------------------

    def _select(self, vs: pp.VectorSelector) -> list[Stored]:
        if vs.at is not None:
            raise QueryError("the @ modifier is not supported by the demo source")
        matchers: list[tuple[str, str, str]] = [(m.name, str(m.op), m.value) for m in vs.matchers.matchers]
        if vs.matchers.or_matchers:
            raise QueryError("'or' inside label matchers is not supported by the demo source")
        if vs.name:
            matchers.append(("__name__", "MatchOp.Equal", vs.name))
        names = [v for n, op, v in matchers if n == "__name__" and op == "MatchOp.Equal"]
        candidates = (
            self.by_name.get(names[0], []) if names else [s for v in self.by_name.values() for s in v]
        )
        checks = [
            (name, op, value, re.compile(value, re.DOTALL) if "Re" in op else None)
            for name, op, value in matchers
        ]
        return [
            s
            for s in candidates
            if all(
                _matches(op, value, pattern, s.labels.get(name, "")) for name, op, value, pattern in checks
            )
        ]

    def _visible(self, s: Stored) -> tuple[Ints, np.ndarray]:
        if self.until_ms is None:
            return s.t, s.v
        end = int(np.searchsorted(s.t, self.until_ms, side="right"))
        return s.t[:end], s.v[:end]

    def _instant(self, vs: pp.VectorSelector, times: Ints) -> Vector:
        at = times - _ms(vs.offset)
        rows = []
        for s in self._select(vs):
            t, v = self._visible(s)
            idx = np.searchsorted(t, at, side="right") - 1
            safe = np.clip(idx, 0, max(len(t) - 1, 0))
            ok = (idx >= 0) & (len(t) > 0)
            if len(t):
                ok &= t[safe] >= at - LOOKBACK_MS
            values = np.where(ok, v[safe] if len(v) else np.nan, np.nan)
            rows.append(Row(labels_of(s.labels), values))
        return Vector([r for r in rows if not np.isnan(r.values).all()])

    def _matrix(self, ms: pp.MatrixSelector, times: Ints) -> Matrix:
        vs = ms.vector_selector
        range_ms = _ms(ms.range)
        ends = times - _ms(vs.offset)
        series = []
        for s in self._select(vs):
            t, v = self._visible(s)
            lo = np.searchsorted(t, ends - range_ms, side="left")
            hi = np.searchsorted(t, ends, side="right")
            series.append(Windowed(labels_of(s.labels), t, v, lo, hi))
        return Matrix(series, range_ms, ends)

    def _subquery(self, sq: pp.SubqueryExpr, times: Ints) -> Matrix:
        if sq.at is not None:
            raise QueryError("the @ modifier is not supported by the demo source")
        step = _ms(sq.step) or self.default_step_ms
        range_ms, offset = _ms(sq.range), _ms(sq.offset)
        first = int(times.min()) - offset - range_ms
        start = (first // step) * step
        if start < first:
            start += step
        grid = np.arange(start, int(times.max()) - offset + 1, step, dtype=np.int64)
        inner = self._eval(sq.expr, grid)
        if not isinstance(inner, Vector):
            raise QueryError("subquery is only allowed on instant vector")
        ends = times - offset
        series = []
        for row in inner.rows:
            present = ~np.isnan(row.values)
            t, v = grid[present], row.values[present]
            lo = np.searchsorted(t, ends - range_ms, side="left")
            hi = np.searchsorted(t, ends, side="right")
            series.append(Windowed(row.labels, t, v, lo, hi))
        return Matrix(series, range_ms, ends)

    # -- expressions -------------------------------------------------------------------------------

    def _eval(self, e: pp.Expr, times: Ints) -> Value:
        if isinstance(e, pp.NumberLiteral):
            return Scalar(np.full(len(times), float(e.val)))
        if isinstance(e, pp.StringLiteral):
            return Str(e.val)
        if isinstance(e, pp.ParenExpr):
            return self._eval(e.expr, times)
        if isinstance(e, pp.UnaryExpr):
            inner = self._eval(e.expr, times)
            if isinstance(inner, Scalar):
                return Scalar(-inner.values)
            if isinstance(inner, Vector):
                return Vector([Row(without(r.labels, ("__name__",)), -r.values) for r in inner.rows])
            raise QueryError("unary expression only allowed on expressions of type scalar or instant vector")
        if isinstance(e, pp.VectorSelector):
            return self._instant(e, times)
        if isinstance(e, pp.MatrixSelector):
            return self._matrix(e, times)
        if isinstance(e, pp.SubqueryExpr):
            return self._subquery(e, times)
        if isinstance(e, pp.AggregateExpr):
            return self._aggregate(e, times)
        if isinstance(e, pp.BinaryExpr):
            return self._binary(e, times)
        if isinstance(e, pp.Call):
            return self._call(e, times)
        raise QueryError(f"expression {type(e).__name__} is not supported by the demo source")

    def _vector(self, e: pp.Expr, times: Ints, what: str) -> Vector:
        value = self._eval(e, times)
        if not isinstance(value, Vector):
            raise QueryError(f"expected type instant vector in {what}, got {_type_name(value)}")
        return value

    def _scalar(self, e: pp.Expr, times: Ints, what: str) -> np.ndarray:
        value = self._eval(e, times)
        if not isinstance(value, Scalar):
            raise QueryError(f"expected type scalar in {what}, got {_type_name(value)}")
        return value.values

    def _aggregate(self, e: pp.AggregateExpr, times: Ints) -> Vector:
        op = str(e.op)
        if op not in ops.AGGREGATIONS:
            raise QueryError(f"aggregation {op!r} is not supported by the demo source")
        vector = self._vector(e.expr, times, "aggregation expression")
        modifier = e.modifier
        labels: list[str] = list(modifier.labels) if modifier is not None else []
        is_without = modifier is not None and str(modifier.type).endswith("Without")
        return ops.aggregate(op, vector, labels, is_without, len(times))

    def _binary(self, e: pp.BinaryExpr, times: Ints) -> Value:
        op = str(e.op)
        if op not in ops.ARITHMETIC and op not in ops.COMPARISON and op not in ops.SET_OPS:
            raise QueryError(f"operator {op!r} is not supported by the demo source")
        modifier = e.modifier
        on: bool | None = None
        names: list[str] = []
        return_bool = False
        if modifier is not None:
            return_bool = bool(modifier.return_bool)
            card = str(modifier.card)
            if card.endswith("ManyToOne") or card.endswith("OneToMany"):
                raise QueryError("group_left and group_right are not supported by the demo source")
            if modifier.matching is not None:
                kind, names = modifier.matching.type, list(modifier.matching.labels)
                on = str(kind).endswith("Include")
        lhs, rhs = self._eval(e.lhs, times), self._eval(e.rhs, times)
        if not isinstance(lhs, Vector | Scalar) or not isinstance(rhs, Vector | Scalar):
            raise QueryError("binary expression must contain only scalar and instant vector types")
        return ops.binary(op, lhs, rhs, return_bool=return_bool, on=on, names=names)

    def _call(self, e: pp.Call, times: Ints) -> Value:
        name = e.func.name
        args = list(e.args)
        if name in ranges.RANGE_FUNCTIONS:
            param = None
            if name == "quantile_over_time":
                param, args = self._scalar(args[0], times, 'call to function "quantile_over_time"'), args[1:]
            matrix = self._eval(args[0], times)
            if not isinstance(matrix, Matrix):
                raise QueryError(f'expected type range vector in call to function "{name}"')
            return Vector(merged(ranges.apply(name, matrix, param).rows))
        if name == "histogram_quantile":
            q = self._scalar(args[0], times, 'call to function "histogram_quantile"')
            vector = self._vector(args[1], times, 'call to function "histogram_quantile"')
            return Vector(merged(ops.histogram_quantile(q, vector).rows))
        if name == "vector":
            return Vector([Row((), self._scalar(args[0], times, 'call to function "vector"'))])
        if name == "scalar":
            vector = self._vector(args[0], times, 'call to function "scalar"')
            if not vector.rows:
                return Scalar(np.full(len(times), np.nan))
            stack = np.vstack([r.values for r in vector.rows])
            single = np.sum(~np.isnan(stack), axis=0) == 1
            return Scalar(
                np.where(single, np.nanmax(np.where(np.isnan(stack), -np.inf, stack), axis=0), np.nan)
            )
        if name == "time":
            return Scalar(times / 1000)
        if name in VECTOR_FUNCTIONS:
            vector = self._vector(args[0], times, f'call to function "{name}"')
            bound = self._scalar(args[1], times, f'call to function "{name}"') if len(args) > 1 else None
            rows = []
            for r in vector.rows:
                if name == "abs":
                    values = np.abs(r.values)
                elif name == "clamp_min":
                    assert bound is not None
                    values = np.fmax(r.values, bound)
                    values[np.isnan(r.values)] = np.nan
                else:
                    assert bound is not None
                    values = np.fmin(r.values, bound)
                    values[np.isnan(r.values)] = np.nan
                rows.append(Row(without(r.labels, ("__name__",)), values))
            return Vector(merged(rows))
        raise QueryError(f'function "{name}" is not supported by the demo source')


def _matches(op: str, value: str, pattern: re.Pattern[str] | None, got: str) -> bool:
    if pattern is not None:
        return (pattern.fullmatch(got) is None) == (op == "MatchOp.NotRe")
    return (got == value) == (op == "MatchOp.Equal")


def _type_name(value: Value) -> str:
    return {Vector: "instant vector", Scalar: "scalar", Str: "string", Matrix: "range vector"}[type(value)]


def format_value(value: float) -> str:
    """A sample value as Prometheus writes it (shortest form, no exponent; NaN, +Inf, -Inf)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return np.format_float_positional(value, trim="-")
