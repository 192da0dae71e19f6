"""Launches behind the listeners: plan, move, cancel and list them, and keep each step's scheduler job.

The launch's steps are rows (storage/launches.py) and one scheduler job each (`launch.step`, keyed by
launch and step, at the step's time). Moving rewrites the pending steps' times and replaces their jobs;
cancelling marks them cancelled and removes the jobs. The job itself acts only when its run time is the
step's current time and the step is still pending (`bot/launch/steps.py`), so a job left behind by a
move or a cancel does nothing, and one run among all replicas starts the step.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.date import DateTrigger
from slack_sdk.errors import SlackApiError

from bot import blocks as bk
from bot.errors import PermissionDenied, UserError
from bot.launch import horizon, render, rules
from bot.launch.model import Launch, Step
from bot.runtime import Runtime
from bot.setup.service import team_of_channel
from bot.slack_api import InstrumentedWebClient, is_slack_admin
from bot.teams import Team
from storage import launches as repo

log = logging.getLogger(__name__)

STEP_KIND = "launch.step"
UPCOMING_DAYS = 30
MAX_LEADS = 8
WHO_MAY = "the team's leads and managers, and workspace admins"
UNKNOWN = "I can't find that launch; `/scale-check launches` lists them."


def launch_of(row: repo.LaunchRow, steps: list[repo.LaunchStepRow]) -> Launch:
    assert row.id is not None
    return Launch(
        id=row.id,
        workspace_id=row.workspace_id,
        channel_id=row.channel_id,
        team_name=row.team_name,
        title=row.title,
        day=row.launch_date,
        zone=row.zone,
        multiple=row.multiple,
        leads=tuple(row.leads),
        status=row.status,
        created_by=row.created_by,
        root_ts=row.root_ts,
        permalink=row.permalink,
        steps=tuple(
            Step(s.step, datetime.fromtimestamp(s.due_ts, UTC), s.late, s.status, s.note) for s in steps
        ),
    )


def step_job_key(launch_id: int, step: str) -> str:
    return f"{launch_id}:{step}"


class LaunchService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    # --- reading ----------------------------------------------------------------------------------

    async def load(self, workspace_id: str, launch_id: int) -> Launch:
        row = await self.rt.db.run(repo.get, workspace_id, launch_id)
        if row is None:
            raise UserError(UNKNOWN)
        return launch_of(row, await self.rt.db.run(repo.steps, workspace_id, launch_id))

    async def upcoming(
        self, workspace_id: str, days: int = UPCOMING_DAYS, channel_id: str | None = None
    ) -> list[Launch]:
        """Active launches from yesterday (anywhere in the world it may still be today) to `days` ahead."""
        today = self.rt.clock.now().date()
        found = await self.rt.db.run(
            repo.upcoming_with_steps,
            workspace_id,
            today - timedelta(days=1),
            today + timedelta(days=days),
            channel_id,
        )
        return [launch_of(row, steps) for row, steps in found if row.id]

    # --- people -----------------------------------------------------------------------------------

    async def user(self, client: InstrumentedWebClient, user_id: str) -> dict[str, Any]:
        try:
            return dict((await client.users_info(user=user_id))["user"])
        except SlackApiError:
            return {"id": user_id}

    async def require(self, client: InstrumentedWebClient, team: Team, user_id: str) -> dict[str, Any]:
        """Let the team's leads and managers and workspace admins through; returns `users.info`."""
        info = await self.user(client, user_id)
        allowed = user_id in team.leads or user_id in team.managers
        allowed = allowed or user_id in self.rt.config.admins_for(team.workspace_id) or is_slack_admin(info)
        if not allowed:
            raise PermissionDenied(f"Only {WHO_MAY} of {team.name} can plan, move or cancel its launches.")
        return info

    async def team(self, client: InstrumentedWebClient, workspace_id: str, channel_id: str) -> Team:
        return await team_of_channel(self.rt, client, workspace_id, channel_id)

    # --- changes ----------------------------------------------------------------------------------

    async def check_plan(
        self, client: InstrumentedWebClient, workspace_id: str, channel_id: str, user_id: str, day: date
    ) -> None:
        """Raise `PermissionDenied` (who may) or `UserError` (the date) before a launch is planned."""
        team = await self.team(client, workspace_id, channel_id)
        info = await self.require(client, team, user_id)
        problem = rules.launch_day_problem(day, _zone(info.get("tz")), self.rt.clock.now())
        if problem:
            raise UserError(problem)

    async def create(
        self,
        client: InstrumentedWebClient,
        workspace_id: str,
        channel_id: str,
        title: str,
        day: date,
        multiple: float,
        leads: list[str],
        user_id: str,
    ) -> Launch:
        """Plan a launch: its message in the team's channel, the change in its thread, and its steps."""
        team = await self.team(client, workspace_id, channel_id)
        info = await self.require(client, team, user_id)
        zone = _zone(info.get("tz"))
        now = self.rt.clock.now()
        problem = rules.launch_day_problem(day, zone, now)
        if problem:
            raise UserError(problem)
        config = self.rt.config.launch_for(workspace_id)
        planned = rules.plan(day, zone, config, now)
        row = repo.LaunchRow(
            workspace_id=workspace_id,
            channel_id=channel_id,
            team_name=team.name,
            title=title.strip()[:200],
            launch_date=day,
            zone=zone,
            multiple=multiple,
            leads_json=json.dumps(list(dict.fromkeys(leads))[:MAX_LEADS]),
            created_by=user_id,
            created_at=now,
            updated_by=user_id,
            updated_at=now,
        )
        row = await self.rt.db.run(
            repo.create, row, [(p.step, int(p.at.timestamp()), p.late) for p in planned]
        )
        assert row.id is not None
        launch = await self.load(workspace_id, row.id)
        try:
            posted = await client.chat_postMessage(channel=channel_id, **render.root_message(launch))
        except SlackApiError as exc:
            await self.rt.db.run(repo.discard, workspace_id, row.id)
            if exc.response.get("error") in ("not_in_channel", "channel_not_found", "is_archived"):
                raise UserError(
                    f"I can't post in {bk.channel_link(channel_id)}; invite me there (`/invite @scalebot`) "
                    "and plan the launch again."
                ) from exc
            raise
        permalink = await _permalink(client, channel_id, str(posted["ts"]))
        await self.rt.db.run(repo.set_root, workspace_id, row.id, str(posted["ts"]), permalink)
        launch = await self.load(workspace_id, row.id)
        await self.say(client, launch, render.created_text(launch, user_id))
        await self.schedule(launch)
        log.info("launch planned", extra={"workspace": workspace_id, "launch": row.id})
        return launch

    async def check_move(
        self, client: InstrumentedWebClient, workspace_id: str, launch_id: int, day: date, user_id: str
    ) -> Launch:
        """The launch, if `user_id` may move it to `day`; else `PermissionDenied` or `UserError`."""
        launch = await self.load(workspace_id, launch_id)
        await self.require(client, await self.team(client, workspace_id, launch.channel_id), user_id)
        if launch.status != "active":
            raise UserError("This launch was cancelled; plan a new one with `/scale-check launch`.")
        problem = rules.launch_day_problem(day, launch.zone, self.rt.clock.now())
        if problem:
            raise UserError(problem)
        if day == launch.day:
            raise UserError(f"The launch is already on {render.day_text(day)}.")
        return launch

    async def move(
        self, client: InstrumentedWebClient, workspace_id: str, launch_id: int, day: date, user_id: str
    ) -> Launch:
        launch = await self.check_move(client, workspace_id, launch_id, day, user_id)
        now = self.rt.clock.now()
        started = frozenset(s.step for s in launch.steps if s.status != repo.PENDING)
        planned = rules.plan(day, launch.zone, self.rt.config.launch_for(workspace_id), now, started)
        moved = await self.rt.db.run(
            repo.move,
            workspace_id,
            launch_id,
            day,
            [(p.step, int(p.at.timestamp()), p.late) for p in planned],
            user_id,
            now,
        )
        if not moved:
            raise UserError("This launch was cancelled meanwhile; nothing was moved.")
        after = await self.load(workspace_id, launch_id)
        await self.schedule(after)
        await horizon.follow_move(self.rt, after)
        await self.redraw(client, after)
        await self.say(client, after, render.moved_text(after, launch.day, user_id))
        return after

    async def cancel(
        self, client: InstrumentedWebClient, workspace_id: str, launch_id: int, user_id: str
    ) -> Launch:
        launch = await self.load(workspace_id, launch_id)
        await self.require(client, await self.team(client, workspace_id, launch.channel_id), user_id)
        if not await self.rt.db.run(repo.cancel, workspace_id, launch_id, user_id, self.rt.clock.now()):
            raise UserError("This launch is already cancelled.")
        after = await self.load(workspace_id, launch_id)
        await self.unschedule(after)
        await self.redraw(client, after)
        await self.say(client, after, render.cancelled_text(user_id))
        return after

    # --- the launch's messages --------------------------------------------------------------------

    async def say(self, client: InstrumentedWebClient, launch: Launch, text: str) -> None:
        """A change or a step, in the launch's thread."""
        await client.chat_postMessage(
            channel=launch.channel_id, thread_ts=launch.root_ts, **render.change_message(text)
        )

    async def post(self, client: InstrumentedWebClient, launch: Launch, message: dict[str, Any]) -> None:
        await client.chat_postMessage(channel=launch.channel_id, thread_ts=launch.root_ts, **message)

    async def redraw(self, client: InstrumentedWebClient, launch: Launch) -> None:
        """The launch's message, updated in place (its timeline shows each step's state)."""
        if launch.root_ts is None:
            return
        try:
            await client.chat_update(
                channel=launch.channel_id, ts=launch.root_ts, **render.root_message(launch)
            )
        except SlackApiError as exc:
            log.info("could not redraw a launch", extra={"error": exc.response.get("error")})

    # --- its jobs ---------------------------------------------------------------------------------

    async def schedule(self, launch: Launch) -> None:
        """One job per pending step at the step's time (replacing the job a move left)."""
        scheduler = self.rt.scheduler
        if scheduler is None:
            log.warning("no scheduler: a launch's steps are not scheduled")
            return

        def work() -> None:
            for step in launch.steps:
                if step.status == repo.PENDING:
                    trigger = DateTrigger(run_date=step.at.astimezone(ZoneInfo(launch.zone)))
                    key = step_job_key(launch.id, step.step)
                    scheduler.schedule(
                        STEP_KIND,
                        key,
                        trigger,
                        workspace_id=launch.workspace_id,
                        launch_id=launch.id,
                        step=step.step,
                    )

        await asyncio.to_thread(work)

    async def unschedule(self, launch: Launch) -> None:
        scheduler = self.rt.scheduler
        if scheduler is None:
            return

        def work() -> None:
            for step in launch.steps:
                scheduler.unschedule(
                    f"{STEP_KIND}/{launch.workspace_id}/{step_job_key(launch.id, step.step)}"
                )

        await asyncio.to_thread(work)


def _zone(tz: object) -> str:
    try:
        return str(ZoneInfo(str(tz))) if tz else "UTC"
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"


async def _permalink(client: InstrumentedWebClient, channel: str, ts: str) -> str | None:
    try:
        return str((await client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"])
    except SlackApiError:
        return None


def service_for(rt: Runtime) -> LaunchService:
    return LaunchService(rt)
