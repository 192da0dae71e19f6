"""Metric triggers that start the conversation: a team's headroom at 10x under the configured multiple,
or a seed trigger that newly breached and stayed breached for the configured time, posted once in the
team's channel with the evidence and a "Start a pre-mortem" button — at most once per trigger per
`quiet_days` (30), and never on data the source marked unavailable.

Readings come from `read_team_signals`, so an evaluation within the metrics cache's TTL of another read
asks the sources nothing. One post among all replicas: `mark_posted` is a compare-and-set.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot import blocks as bk
from bot.launch import rules
from bot.launch.config import LaunchWatch
from bot.metrics.render import headroom_line, signal_windows, trigger_line
from bot.metrics.service import TeamReading, read_team_signals
from bot.premortem.refs import FromCheck
from bot.premortem.render import start_button
from bot.setup.service import known_teams
from bot.teams import Team
from storage import launches as repo

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    key: str
    breached: bool
    hold: bool  # must stay breached for `breached_for_minutes` first (seed triggers)
    evidence: str


def candidates(reading: TeamReading, spec: LaunchWatch) -> list[Candidate]:
    """Every trigger the reading can judge (a signal the source marked unavailable is not judged)."""
    usable = {r.name for r in reading.signals if r.status != "unavailable" and r.value is not None}
    titles = {r.name: r.signal.title for r in reading.signals}
    windows = signal_windows(reading)  # each value says the window it covers
    out = []
    for h in reading.projection.ranked:
        if h.name in usable:
            low = h.headroom < spec.headroom_below
            line = headroom_line(1, h, 10, titles, windows).removeprefix("1. ")
            out.append(Candidate(rules.headroom_key(h.name), low, False, f"Headroom at 10x: {line}"))
    seeded = {
        rules.trigger_key(t.signal, t.subject): t for t in reading.triggers if t.seed and t.signal in usable
    }
    for key, t in seeded.items():
        out.append(
            Candidate(
                key,
                True,
                True,
                f"Seed trigger: {trigger_line(t, windows.get(t.signal, '')).removeprefix('• ')}",
            )
        )
    for r in reading.signals:
        key = rules.trigger_key(r.name, None)
        rule = r.signal.rule
        if (
            r.name in usable
            and rule is not None
            and rule.seed
            and not r.signal.is_feature
            and key not in seeded
        ):
            out.append(Candidate(key, False, True, ""))  # judged and not breached: its wait starts over
    return out


def notice_message(team: Team, evidence: Iterable[str], quiet_days: int) -> dict[str, Any]:
    lines = "\n".join(f"• {e}" for e in evidence)
    text = (
        f"{bk.escape(team.name)}: the metrics call for a conversation before the load does:\n{lines}\n"
        "A pre-mortem now asks the leads what breaks first, while there is time to act."
    )
    blocks = [
        bk.section(text),
        bk.actions(start_button_any()),
        bk.context(f"I post about each trigger at most once every {quiet_days} days."),
    ]
    return bk.message(f"{team.name}: a metric trigger calls for a pre-mortem", blocks)


def start_button_any() -> dict[str, Any]:
    """The pre-mortem's own "Start a pre-mortem" button, with no checklist behind it."""
    button = start_button(0)
    button["value"] = FromCheck().dump()
    return button


async def evaluate_team(rt: Runtime, team: Team, spec: LaunchWatch) -> list[str]:
    """Evaluate one team; returns the keys it posted about."""
    reading = await read_team_signals(rt, team)
    now = rt.clock.now()
    found = candidates(reading, spec)
    seen = await rt.db.run(
        repo.observe, team.workspace_id, team.channel_id, {c.key: c.breached for c in found}, now
    )
    hold, quiet = timedelta(minutes=spec.breached_for_minutes), timedelta(days=spec.quiet_days)
    due = []
    for c in found:
        since, posted = seen[c.key]
        if not c.breached or (c.hold and not rules.held_long_enough(since, now, hold)):
            continue
        if rules.may_post_again(posted, now, quiet):
            due.append((c, posted))
    won = []
    for c, posted in due:
        if await rt.db.run(repo.mark_posted, team.workspace_id, team.channel_id, c.key, now, now - quiet):
            won.append((c, posted))
    if not won:
        return []
    client = await rt.client_for(team.workspace_id)
    try:
        await client.chat_postMessage(
            channel=team.channel_id, **notice_message(team, [c.evidence for c, _ in won], spec.quiet_days)
        )
    except SlackApiError:
        for c, posted in won:
            await rt.db.run(repo.unmark_posted, team.workspace_id, team.channel_id, c.key, posted)
        raise
    return [c.key for c, _ in won]


async def evaluate(rt: Runtime, workspace_id: str) -> int:
    """Every team of the workspace with metrics; a failing team is logged and the others go on."""
    spec = rt.config.launch_for(workspace_id).watch
    posted = 0
    for team in await known_teams(rt, workspace_id):
        if team.metrics is None:
            continue
        try:
            posted += len(await evaluate_team(rt, team, spec))
        except Exception:
            log.warning(
                "could not evaluate a team's metric triggers", extra={"team": team.key}, exc_info=True
            )
    return posted
