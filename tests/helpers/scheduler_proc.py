"""A scheduler process for tests: `scalebot scheduler`'s loop with a file-backed clock.

Usage: python -m tests.helpers.scheduler_proc CLOCK_FILE  (DATABASE_URL / REDIS_URL from the environment)
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta
from pathlib import Path

import tests.helpers.jobkinds  # noqa: F401  (registers the test job kinds)
from bot.logs import configure_logging
from bot.runtime import build_runtime
from bot.scheduler import Scheduler
from bot.settings import load_settings
from common.clock import FileClock
from storage import migrate


async def main(clock_path: Path) -> None:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    rt = build_runtime(settings, clock=FileClock(clock_path))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, migrate.upgrade, rt.db)
    rt.scheduler = Scheduler(rt, loop, max_wait=0.05, sweep_every=0.2, lease=timedelta(seconds=30))
    rt.scheduler.start()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    await loop.run_in_executor(None, rt.scheduler.shutdown)
    await rt.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
