"""What PromQL expressions evaluate to in the demo engine, over a grid of evaluation times at once.

An instant vector is a list of rows, each a label set and one value per evaluation time (NaN where the
series has no sample then); a scalar is one value per evaluation time; a range vector keeps each series'
raw samples and the window every evaluation time looks back over. Evaluating a range query is then the
same as evaluating an instant query at each step, as Prometheus defines it, without a loop per step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Labels = tuple[tuple[str, str], ...]  # sorted (name, value) pairs
NAME = "__name__"


class QueryError(Exception):
    """A query Prometheus would refuse: `kind` is its errorType (bad_data, execution)."""

    def __init__(self, message: str, kind: str = "bad_data") -> None:
        super().__init__(message)
        self.kind = kind


def labels_of(mapping: Mapping[str, str]) -> Labels:
    return tuple(sorted((k, v) for k, v in mapping.items() if v != ""))


def without(labels: Labels, names: Iterable[str]) -> Labels:
    drop = set(names)
    return tuple((k, v) for k, v in labels if k not in drop)


def keep(labels: Labels, names: Iterable[str]) -> Labels:
    wanted = set(names)
    return tuple((k, v) for k, v in labels if k in wanted)


@dataclass
class Row:
    labels: Labels
    values: Floats


@dataclass
class Vector:
    rows: list[Row]


@dataclass
class Scalar:
    values: Floats


@dataclass
class Str:
    value: str


@dataclass
class Windowed:
    """One series of a range vector: raw samples and, per evaluation time, the window [lo, hi)."""

    labels: Labels
    t: Ints
    v: Floats
    lo: Ints
    hi: Ints


@dataclass
class Matrix:
    series: list[Windowed]
    range_ms: int
    ends: Ints  # per evaluation time, the end of its window (after offset)


Value = Vector | Scalar | Str | Matrix


def merged(rows: list[Row]) -> list[Row]:
    """Rows with the same labels joined into one (they may not both have a value at one time), rows
    without any value dropped: a vector may not hold two series with one label set."""
    by_labels: dict[Labels, Row] = {}
    for row in rows:
        present = ~np.isnan(row.values)
        if not present.any():
            continue
        seen = by_labels.get(row.labels)
        if seen is None:
            by_labels[row.labels] = Row(row.labels, row.values.copy())
            continue
        if (present & ~np.isnan(seen.values)).any():
            raise QueryError("vector cannot contain metrics with the same labelset", "execution")
        seen.values[present] = row.values[present]
    return list(by_labels.values())
