"""Socket Mode runs the same listener registry as HTTP: what arrives over the websocket is dispatched
to the same Bolt app (slack_bolt's AsyncSocketModeHandler calls `app.async_dispatch` with each envelope's
payload). The fake does not speak the websocket, so the test hands the payload to the dispatcher itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from slack_bolt.async_app import AsyncBoltRequest

from bot.app import build_bolt
from bot.runtime import build_runtime
from bot.settings import Mode, Settings
from handlers import register_listeners
from localslack import FakeSlack
from tests.harness import Seeded


async def test_a_command_over_socket_mode_reaches_the_same_listeners(
    tmp_path: Path, fake: FakeSlack, seeded: Seeded
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        slack_bot_token=seeded.bot_token,
        slack_app_token="xapp-1-A0SCALEBOT-1-socketmodetoken",
        slack_api_url=fake.api_url,
        database_url=f"sqlite:///{tmp_path}/db.sqlite3",
    )
    assert settings.mode is Mode.SOCKET
    rt = build_runtime(settings)
    bolt = build_bolt(rt, None)
    router = register_listeners(bolt, rt)
    body = urlencode(
        {
            "command": "/scale-check",
            "text": "metrix",
            "team_id": seeded.team_id,
            "user_id": seeded.member,
            "channel_id": seeded.channel,
            "response_url": "",
            "trigger_id": "1.2.3",
        }
    )
    response = await bolt.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode"))
    assert response.status == 200
    answer = json.loads(response.body)
    assert answer["response_type"] == "ephemeral" and "I don't know" in json.dumps(answer["blocks"])
    assert router.help_message()["blocks"][-2:] == answer["blocks"][-2:]
    await rt.close()
