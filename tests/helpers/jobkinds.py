"""Job kinds used by the scheduler tests: each run appends `job_id run_time owner` to a file."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta
from typing import Any

from bot.scheduler import job_kind


@job_kind("test.record", grace=timedelta(hours=1), summary="append the run to a file")
async def record(rt: Any, run_time: datetime, out: str, sleep: float = 0.0, **_: Any) -> None:
    if sleep:
        await asyncio.sleep(sleep)
    line = f"{run_time.isoformat()} {rt.owner}\n"
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())  # one write(2) with O_APPEND: lines from processes never interleave
    finally:
        os.close(fd)


@job_kind("test.flaky", grace=timedelta(hours=1), summary="fail until a file exists")
async def flaky(rt: Any, run_time: datetime, out: str, gate: str, **_: Any) -> None:
    if not os.path.exists(gate):
        raise RuntimeError("the gate is closed")
    await record(rt, run_time, out)
