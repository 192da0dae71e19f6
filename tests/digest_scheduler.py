"""A scheduler process for the digest's replica tests: `scalebot scheduler`'s loop with a file clock and
short leases, so a run whose process is killed is taken over within seconds rather than a minute.

Usage: python -m tests.digest_scheduler CLOCK_FILE  (DATABASE_URL, REDIS_URL, SLACK_API_URL and
SCALEBOT_CONFIG from the environment)
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta
from pathlib import Path

from bot.digest import slack_calls
from bot.logs import configure_logging
from bot.runtime import build_runtime
from bot.scheduler import Scheduler
from bot.settings import load_settings
from common.clock import FileClock
from storage import migrate

LEASE = timedelta(seconds=3)  # also the Redis lock's time to live, in real seconds


async def main(clock_path: Path) -> None:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    slack_calls.POST_INTERVAL = 0.05  # each workspace posts to its own channel; keep the test quick
    rt = build_runtime(settings, clock=FileClock(clock_path))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, migrate.upgrade, rt.db)
    rt.scheduler = Scheduler(rt, loop, max_wait=0.05, sweep_every=0.2, lease=LEASE)
    await loop.run_in_executor(None, rt.scheduler.start)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    await loop.run_in_executor(None, rt.scheduler.shutdown)
    await rt.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
