"""`POST /alertmanager/webhook`: Alertmanager's webhook receiver, whose firing alerts are outcomes.

Alertmanager sends its bearer token (`SCALEBOT_ALERTMANAGER_TOKEN`, configured as the receiver's
`http_config.authorization.credentials`); without the variable the endpoint answers 404. The config's
`calibration.alert_labels` name the labels carrying the workspace, the team and the component. An alert
is recorded once per fingerprint and start time, however often Alertmanager repeats it; a resolved
notification records nothing. A body over the limit is refused with 413, a bad token with 401, and a body
that is not Alertmanager's JSON with 400 (Alertmanager does not retry a 4xx).
"""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.calibration import service
from bot.digest.roster import workspace_teams
from bot.errors import UserError
from bot.limits import MAX_BODY_BYTES, read_limited

if TYPE_CHECKING:
    from bot.calibration.config import AlertLabels
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

PATH = "/alertmanager/webhook"
MAX_ALERTS = 1000
LABEL_MAX = 1024


class Alert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: str = Field(max_length=16)
    labels: dict[str, str] = Field(default_factory=dict, max_length=200)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=200)
    startsAt: datetime
    fingerprint: str = Field(min_length=1, max_length=64)


class Notification(BaseModel):
    """Alertmanager's webhook body (version 4); fields this receiver does not read are ignored."""

    model_config = ConfigDict(extra="ignore")

    version: str = Field(max_length=8)
    status: str = Field(max_length=16)
    alerts: list[Alert] = Field(max_length=MAX_ALERTS)


def authorized(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


async def record(rt: Runtime, notification: Notification) -> dict[str, int]:
    """Record each firing alert as an outcome; counts of recorded, repeated and ignored alerts."""
    labels: AlertLabels = rt.config.calibration.alert_labels
    counts = {"recorded": 0, "duplicates": 0, "ignored": 0}
    teams_of: dict[str, Any] = {}
    installed = await service.installed_workspaces(rt)
    fallback = installed[0] if len(installed) == 1 else ""
    for alert in notification.alerts:
        if alert.status != "firing":
            continue
        component = alert.labels.get(labels.component, "").strip()
        team_name = alert.labels.get(labels.team, "").strip()
        workspace = alert.labels.get(labels.workspace, "").strip() or fallback
        if not component or not team_name or not workspace or len(component) > LABEL_MAX:
            counts["ignored"] += 1
            log.info(
                "alert without a team or component label ignored", extra={"fingerprint": alert.fingerprint}
            )
            continue
        if workspace not in installed:
            counts["ignored"] += 1
            log.info(
                "alert for a workspace the bot is not installed in", extra={"fingerprint": alert.fingerprint}
            )
            continue
        if workspace not in teams_of:
            teams_of[workspace] = await workspace_teams(rt, workspace)
        team = service.find_team(teams_of[workspace], team_name)
        if team is None:
            counts["ignored"] += 1
            log.info("alert for an unknown team ignored", extra={"fingerprint": alert.fingerprint})
            continue
        starts = alert.startsAt if alert.startsAt.tzinfo else alert.startsAt.replace(tzinfo=UTC)
        alertname = alert.labels.get("alertname", "alert")
        outcome = service.Report(
            component=component,
            source="alertmanager",
            reporter=f"alertmanager: {alertname}",
            at=starts.astimezone(UTC),
            note=alert.annotations.get("summary", ""),
            dedup_key=f"alertmanager:{alert.fingerprint}:{starts.astimezone(UTC).isoformat()}",
        )
        try:
            stored = await service.report(rt, team, outcome)
        except UserError:
            counts["ignored"] += 1
            continue
        counts["recorded" if stored is not None else "duplicates"] += 1
    return counts


def install(app: FastAPI, rt: Runtime) -> None:
    """Mount the webhook on `app`."""

    @app.post(PATH)
    async def alertmanager_webhook(request: Request) -> Response:
        secret = rt.settings.scalebot_alertmanager_token
        if secret is None:
            return PlainTextResponse(
                "the Alertmanager webhook is off: set SCALEBOT_ALERTMANAGER_TOKEN", status_code=404
            )
        if not authorized(request.headers.get("authorization", ""), secret.get_secret_value()):
            return PlainTextResponse(
                "missing or wrong bearer token", status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        body = await read_limited(request, MAX_BODY_BYTES)
        if body is None:
            return PlainTextResponse("request body too large", status_code=413)
        try:
            notification = Notification.model_validate_json(body)
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"]) if exc.errors() else ""
            return PlainTextResponse(f"not an Alertmanager notification ({where or 'body'})", status_code=400)
        counts = await record(rt, notification)
        return JSONResponse(counts)
