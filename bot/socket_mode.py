"""Socket Mode: Bolt's websocket handler, measured like the HTTP path.

slack_bolt's handler dispatches each envelope to the same Bolt app the HTTP route uses; this subclass
adds what the route adds: the request and ack-latency metrics, the ack of an event nothing listens to,
and the refusal of a payload whose fields have types Slack never sends.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.app import classify, dispatch, shape_problem
from bot.payloads import is_enterprise_install, missing_field, workspace_id
from bot.storable import clean_payload
from bot.telemetry import Telemetry

log = logging.getLogger(__name__)


class MeasuredSocketModeHandler(AsyncSocketModeHandler):
    def __init__(
        self, app: AsyncApp, app_token: str, telemetry: Telemetry, guard: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(app, app_token, **kwargs)
        self.telemetry = telemetry
        self.guard = guard

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        started = time.perf_counter()
        payload = req.payload
        kind = classify(payload) if isinstance(payload, dict) else "other"
        outcome = "ok"
        try:
            if (
                not isinstance(payload, dict)
                or not payload
                or shape_problem(payload) is not None
                or missing_field(payload) is not None
                or is_enterprise_install(payload)
                or workspace_id(payload) is None
            ):
                outcome = "malformed"
                log.info("malformed Socket Mode payload", extra={"kind": kind, "envelope_type": req.type})
                # Acked all the same: an envelope that is never acked is sent again.
                await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
                return
            clean_payload(payload)
            request = AsyncBoltRequest(mode="socket_mode", body=payload, headers=build_headers(req))
            response, outcome = await dispatch(self.app, request, kind, self.guard)
            await send_async_response(client, req, response, time.time())
        finally:
            self.telemetry.requests.labels(kind=kind, outcome=outcome).inc()
            self.telemetry.ack_seconds.labels(kind=kind).observe(time.perf_counter() - started)
