"""The `launch:` section of the config file (top level, or per workspace under `workspaces.<id>.launch`)."""

from __future__ import annotations

from pydantic import Field, model_validator

from bot.configbase import Strict


class LaunchOffsets(Strict):
    """Days from the launch date (negative: before) on which each step comes."""

    premortem: int = Field(default=-14, le=-1, ge=-90)
    checklist: int = Field(default=-7, le=-1, ge=-90)
    gonogo: int = Field(default=-1, le=-1, ge=-30)
    retro: int = Field(default=3, ge=1, le=60)


class LaunchWatch(Strict):
    """Metric triggers that start a conversation without a launch."""

    enabled: bool = True
    every_minutes: int = Field(default=60, ge=5, le=1440)  # how often the teams' readings are evaluated
    headroom_below: float = Field(default=3.0, gt=0)  # post when a team's least headroom at 10x is under this
    breached_for_minutes: int = Field(default=60, ge=0)  # a seed trigger must stay breached this long
    quiet_days: int = Field(default=30, ge=1)  # at most one post per trigger per this many days


class LaunchConfig(Strict):
    offsets: LaunchOffsets = LaunchOffsets()
    hour: int = Field(default=10, ge=0, le=23)  # steps come at this hour, in the launch's zone
    grace_hours: float = Field(default=6, gt=0)  # a step missed while the bot was down still runs this late
    default_multiple: float = Field(default=10, gt=1, le=1000)
    watch: LaunchWatch = LaunchWatch()

    @model_validator(mode="after")
    def _ordered(self) -> LaunchConfig:
        o = self.offsets
        if not o.premortem <= o.checklist <= o.gonogo:
            raise ValueError(
                "launch.offsets: premortem must come no later than checklist, and it before gonogo"
            )
        return self
