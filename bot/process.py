"""What every long-running command applies to its process at start (`scalebot serve`, `scalebot
scheduler`, `scalebot jobs`), and the bench with them, so that it measures the process operators run.

The garbage collector's first threshold. At CPython's default (a young collection every 700 new
container objects), a weekly digest of 1,000 teams ran the collector about 930 times while collecting
its sections, 77 of them over the older generations of a heap of some 330,000 objects: 1.9 s of its
6.4 s of CPU (`bench/digest.py`, docs/performance.md). At 50,000 it ran 4 times (0.1 s) with the same
peak memory: the objects a request or a digest makes are mostly freed by reference counting, and what
survives stays to the end of the work anyway. The older generations keep CPython's ratios.
"""

from __future__ import annotations

import gc

GC_THRESHOLD = (50_000, 10, 10)


def tune_gc() -> None:
    gc.set_threshold(*GC_THRESHOLD)
