"""Calibration's parts of the running app: the Alertmanager webhook, and the ceilings watched in the
bot's own readings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.calibration import service, webhook
from bot.metrics.service import on_reading

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.runtime import Runtime


def install(app: FastAPI, rt: Runtime) -> None:
    webhook.install(app, rt)
    on_reading(service.check_ceilings)
