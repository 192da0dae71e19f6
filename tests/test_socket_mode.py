"""Socket Mode runs the same listener registry as HTTP: what arrives over the websocket is dispatched
to the same Bolt app (slack_bolt's AsyncSocketModeHandler calls `app.async_dispatch` with each envelope's
payload). The fake does not speak the websocket, so the tests hand the envelopes to the handler (or the
payload to the dispatcher) themselves.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import urlencode

from slack_bolt.async_app import AsyncBoltRequest
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.app import build_bolt
from bot.runtime import build_runtime
from bot.settings import Mode, Settings
from bot.socket_mode import MeasuredSocketModeHandler
from handlers import register_listeners
from localslack import FakeSlack
from tests.conftest import remember_secret
from tests.harness import Seeded

APP_TOKEN = "xapp-1-A0SCALEBOT-1-socketmodetoken"


async def test_a_command_over_socket_mode_reaches_the_same_listeners(
    tmp_path: Path, fake: FakeSlack, seeded: Seeded
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        slack_bot_token=seeded.bot_token,
        slack_app_token=APP_TOKEN,
        slack_api_url=fake.api_url,
        database_url=f"sqlite:///{tmp_path}/db.sqlite3",
    )
    assert settings.mode is Mode.SOCKET
    remember_secret(APP_TOKEN)
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


class Envelopes:
    """The websocket side of a Socket Mode client: records the acks the handler sends."""

    def __init__(self) -> None:
        self.acks: list[SocketModeResponse] = []
        self.logger = logging.getLogger("tests.socket_mode")

    async def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        self.acks.append(response)


def metric(rt: object, name: str, **labels: str) -> float:
    value = rt.telemetry.registry.get_sample_value(name, labels)  # type: ignore[attr-defined]
    return float(value or 0)


async def test_socket_mode_envelopes_are_acked_and_counted_like_http_requests(
    tmp_path: Path, fake: FakeSlack, seeded: Seeded
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        slack_bot_token=seeded.bot_token,
        slack_app_token=APP_TOKEN,
        slack_api_url=fake.api_url,
        database_url=f"sqlite:///{tmp_path}/db.sqlite3",
    )
    remember_secret(APP_TOKEN)
    rt = build_runtime(settings)
    bolt = build_bolt(rt, None)
    register_listeners(bolt, rt)
    handler = MeasuredSocketModeHandler(bolt, APP_TOKEN, rt.telemetry)
    client = Envelopes()
    command = {
        "command": "/scale-check",
        "text": "help",
        "team_id": seeded.team_id,
        "user_id": seeded.member,
        "channel_id": seeded.channel,
        "response_url": "",
        "trigger_id": "1.2.3",
    }
    event = {
        "type": "event_callback",
        "team_id": seeded.team_id,
        "api_app_id": "A0SCALEBOT",
        "event_id": "Ev0SOCKET",
        "event_time": 1,
        "event": {"type": "reaction_added", "user": seeded.member, "event_ts": "1.0"},
    }
    malformed = {"type": "view_submission", "view": 5}
    for envelope, type_, payload in (
        ("e1", "slash_commands", command),
        ("e2", "events_api", event),
        ("e3", "interactive", malformed),
    ):
        request = SocketModeRequest(type=type_, envelope_id=envelope, payload=payload)
        await handler.handle(client, request)  # type: ignore[arg-type]
    assert [a.envelope_id for a in client.acks] == ["e1", "e2", "e3"]
    assert "scale-check" in json.dumps(client.acks[0].payload)  # the help, as the ack's body
    assert metric(rt, "scalebot_slack_requests_total", kind="command", outcome="ok") == 1
    assert metric(rt, "scalebot_slack_requests_total", kind="event", outcome="unhandled") == 1
    assert metric(rt, "scalebot_slack_requests_total", kind="view", outcome="malformed") == 1
    assert metric(rt, "scalebot_ack_seconds_count", kind="command") == 1
    await handler.client.close()
    await rt.close()
