"""Config-file model for calibration: how long a prediction waits, and which Alertmanager labels name
the workspace, the team and the component an alert is about."""

from __future__ import annotations

from pydantic import Field

from bot.calibration.rules import DEFAULT_HORIZON_DAYS
from bot.configbase import Strict


class AlertLabels(Strict):
    # The label carrying the Slack workspace id (T…); an alert without it goes to the only installed
    # workspace, and is ignored when there are several.
    workspace: str = Field(default="slack_workspace", min_length=1, max_length=100)
    # The label naming the team: its name as `/scale-check` shows it ("payments"), or its channel id.
    team: str = Field(default="team", min_length=1, max_length=100)
    # The label naming the component that broke ("database"), matched against the predictions.
    component: str = Field(default="component", min_length=1, max_length=100)


class CalibrationConfig(Strict):
    horizon_days: int = Field(default=DEFAULT_HORIZON_DAYS, ge=1, le=730)
    alert_labels: AlertLabels = AlertLabels()
