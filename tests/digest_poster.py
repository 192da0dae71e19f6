"""One `send_week` in its own process, for the kill -9 tests: the digest's poster killed midway.

Usage: python -m tests.digest_poster NOW_ISO  (DATABASE_URL, SLACK_API_URL, SLACK_BOT_TOKEN,
SLACK_SIGNING_SECRET and SCALEBOT_CONFIG from the environment)
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from bot.digest import service, slack_calls
from bot.digest.model import Week
from bot.logs import configure_logging
from bot.runtime import build_runtime
from bot.settings import load_settings


async def main(now: datetime) -> None:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    slack_calls.POST_INTERVAL = 0.01
    rt = build_runtime(settings)
    print("ready", flush=True)
    await service.send_week(rt, "T0001", Week.of(now, "UTC"), now, reason="now")
    await rt.close()
    print("sent", flush=True)


if __name__ == "__main__":
    asyncio.run(main(datetime.fromisoformat(sys.argv[1])))
