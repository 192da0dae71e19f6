"""Publishing a person's App Home: the teams they see, a glance at each, and a notice answering what they
just did there.

A person's Home is drawn by the redraw engine (`bot.redraw`), keyed by workspace and person: renders of
one Home never overlap (they open the tab and click at once, on one replica or two), the first is drawn
at once and the last request always gets a drawing that starts after it, so the slowest render never
publishes an older tab over a newer one. A notice is kept for a minute, so a render for opening the tab
(`keep_notice`) still shows it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.digest.model import Week
from bot.digest.roster import members, workspace_teams
from bot.digest.schedule import Schedule
from bot.digest.sections import collect
from bot.digest.service import schedule_for
from bot.home.render import MAX_TEAMS, home_view
from bot.launch.render import home_lines
from bot.launch.service import service_for as launch_service
from bot.redraw import Redraw, Updater
from bot.runtime import Runtime, one_per_runtime
from bot.slack_api import InstrumentedWebClient, every, user_is_slack_admin
from bot.teams import Team
from storage import checklist as checklist_repo

log = logging.getLogger(__name__)

SECTION_TIMEOUT = 5.0  # a slow source shows "unavailable" on the Home tab rather than holding it back
NOTICE_SECONDS = 60.0  # how long an answer on the Home tab outlives a render for opening it


async def _channel_members(client: InstrumentedWebClient, teams: list[Team]) -> dict[str, set[str]]:
    limit = asyncio.Semaphore(8)

    async def one(team: Team) -> tuple[str, set[str]]:
        async with limit:
            try:
                found = await every(
                    client.conversations_members, "members", channel=team.channel_id, limit=200
                )
            except SlackApiError:
                return team.channel_id, set()
            return team.channel_id, set(found)

    return dict(await asyncio.gather(*(one(t) for t in teams)))


async def _user_tz(client: InstrumentedWebClient, user_id: str) -> str | None:
    try:
        return (await client.users_info(user=user_id))["user"].get("tz")
    except SlackApiError:
        return None


@dataclass(frozen=True)
class Visible:
    """What one person's Home tab shows: the schedule, every team, and theirs."""

    schedule: Schedule
    teams: list[Team]
    mine: list[Team]
    manager: bool  # the digest's or a team's manager: sees every team


async def visible(rt: Runtime, client: InstrumentedWebClient, workspace_id: str, user: str) -> Visible:
    schedule = await schedule_for(rt, workspace_id)
    teams = await workspace_teams(rt, workspace_id)
    manager = user in schedule.managers or any(user in t.managers for t in teams)
    if manager:
        return Visible(schedule, teams, teams, True)
    in_channel = await _channel_members(client, teams)
    mine = [t for t in teams if user in members(t) or user in in_channel.get(t.channel_id, set())]
    return Visible(schedule, teams, mine, False)


async def may_set_up_a_team(
    rt: Runtime, client: InstrumentedWebClient, workspace_id: str, user: str, teams: list[Team]
) -> bool:
    """Whether the setup modal could save anything for this person: an admin, or some team's manager."""
    if any(user in t.managers for t in teams) or user in rt.config.admins_for(workspace_id):
        return True
    return await user_is_slack_admin(client, user)


async def open_check_link(
    rt: Runtime, client: InstrumentedWebClient, workspace_id: str, channel_id: str
) -> str | None:
    """A link to the channel's open signal check, if there is one."""
    rows = await rt.db.run(checklist_repo.open_checks, workspace_id, channel_id)
    row = next((r for r in rows if r.root_ts), None)
    if row is None or row.root_ts is None:
        return None
    if row.permalink:
        return str(row.permalink)
    try:
        found = await client.chat_getPermalink(channel=channel_id, message_ts=row.root_ts)
    except SlackApiError:
        return None
    return str(found.get("permalink") or "") or None


async def _launches(rt: Runtime, workspace_id: str, mine: list[Team], manager: bool) -> list[str]:
    """The launches in the next 30 days of the person's teams (a manager's: every team's)."""
    channels = {t.channel_id for t in mine}
    found = await launch_service(rt).upcoming(workspace_id)
    return home_lines([launch for launch in found if manager or launch.channel_id in channels])


class HomeService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.redraw: Redraw[tuple[str, str]] = Redraw(
            "home", rt.cache, self._draw, client_for=rt.client_for, workspace_of=lambda key: key[0]
        )

    async def publish(
        self, workspace_id: str, user: str, notice: str | None = None, *, keep_notice: bool = False
    ) -> None:
        """Publish the person's Home tab; `notice` answers what they just did there."""
        notice_key = f"home:notice:{workspace_id}:{user}"
        if notice is not None:
            await self.rt.cache.set(notice_key, notice.encode(), NOTICE_SECONDS)
        elif not keep_notice:
            await self.rt.cache.delete(notice_key)
        await self.redraw.request((workspace_id, user))

    async def _draw(self, key: tuple[str, str], updater: Updater) -> None:
        workspace_id, user = key
        rt = self.rt
        client = await rt.client_for(workspace_id)
        kept = await rt.cache.get(f"home:notice:{workspace_id}:{user}")
        seen = await visible(rt, client, workspace_id, user)
        schedule, mine = seen.schedule, seen.mine
        now = rt.clock.now()
        week = Week.of(now, schedule.timezone)
        glance = await collect(rt, mine[:MAX_TEAMS], week, now, section_seconds=SECTION_TIMEOUT)
        view = home_view(
            user,
            glance,
            now,
            schedule,
            schedule.next_run(now) if schedule.channel else None,
            user_tz=await _user_tz(client, user),
            manager=seen.manager,
            total=len(mine),
            can_set_up=await may_set_up_a_team(rt, client, workspace_id, user, seen.teams),
            notice=kept.decode() if kept else None,
            launches=await _launches(rt, workspace_id, mine, seen.manager),
        )
        await client.views_publish(user_id=user, view=view)


service_for = one_per_runtime(HomeService)
