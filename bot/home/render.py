"""The App Home tab as Block Kit data: each of the person's teams at a glance (verdict, open mitigations,
headroom, tech-debt status) with buttons for the team's common commands, and the next digest in their
time zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot import blocks as bk
from bot.digest.model import (
    ChecklistFacts,
    DebtFacts,
    MetricsFacts,
    NoChecklist,
    PremortemFacts,
    SectionKind,
    TeamDigest,
)
from bot.digest.render_team import STATUS_ICONS, calibration_text, multiple
from bot.digest.schedule import Schedule
from bot.metadata import Carried
from bot.words import plural, verb

MAX_TEAMS = 25  # 3 blocks each, well within a Home tab's 100
ACTION_SETUP = "home.setup"
ACTION_PREVIEW = "home.preview"
ACTION_REFRESH = "home.refresh"
# A team's buttons: each runs the same subcommand as `/scale-check …` in the team's channel.
ACTION_CHECK = "home.team.check"
ACTION_METRICS = "home.team.metrics"
ACTION_DEBT = "home.team.debt"
ACTION_PREMORTEM = "home.team.premortem"
TEAM_ACTIONS = (ACTION_CHECK, ACTION_METRICS, ACTION_DEBT, ACTION_PREMORTEM)
COMMANDS = (
    ("`/scale-check`", "signal checklist"),
    ("`/scale-check premortem`", "what breaks first at 10x"),
    ("`/scale-check metrics`", "live metrics and headroom"),
    ("`/scale-check debt`", "tech-debt capacity"),
    ("`/scale-check digest preview`", "this week's digest"),
    ("`/scale-check setup`", "set up a team"),
)


def _down(td: TeamDigest, kind: SectionKind) -> str | None:
    section = td.sections.get(kind)
    if section is None:
        return "—"
    if section.unavailable:
        return ":warning: unavailable"
    if section.facts is None:
        return "not set up"
    return None


def verdict(td: TeamDigest, as_of: datetime) -> str:
    down = _down(td, "checklist")
    if down:
        return down
    facts = td.sections["checklist"].facts
    if isinstance(facts, NoChecklist):
        return "no checklist yet" + (" (one in progress)" if facts.open_check else "")
    assert isinstance(facts, ChecklistFacts)
    stage = f" · stage {facts.stage}" if facts.stage else ""
    stale = " · :warning: stale" if facts.stale(as_of) else ""
    return f"{facts.verdict}{stage}{stale}"


def mitigations(td: TeamDigest) -> str:
    down = _down(td, "premortem")
    if down:
        return down
    facts = td.facts("premortem", PremortemFacts)
    assert facts is not None
    if not facts.exists:
        return "no pre-mortem yet"
    overdue = f" ({len(facts.overdue)} overdue :red_circle:)" if facts.overdue else ""
    missing = (
        f"\n:warning: {plural(facts.unmitigated, 'top risk')} {verb(facts.unmitigated, 'has', 'have')} no mitigation"
        if facts.unmitigated
        else ""
    )
    return f"{len(facts.mitigations)} open{overdue}{missing}"


def headroom(td: TeamDigest) -> str:
    down = _down(td, "metrics")
    if down:
        return down
    facts = td.facts("metrics", MetricsFacts)
    assert facts is not None
    least = facts.least_headroom
    if least is None:
        return "nothing projected"
    mark = " :red_circle:" if least.headroom < 10 else ""
    return f"{bk.escape(least.title)} {multiple(least.headroom)}{mark}"


def metrics_notes(td: TeamDigest) -> list[str]:
    """Availability with its window, then what the metrics could not check (hints first), each line as
    the digest words it."""
    facts = td.facts("metrics", MetricsFacts)
    if facts is None:
        return []
    lines = [
        f"{bk.escape(s.title).capitalize()} {s.value} ({s.limit}) {STATUS_ICONS.get(s.status, '')}".rstrip()
        for s in facts.signals
        if s.name == "availability" and not s.error
    ]
    return [*lines, *facts.hints, *facts.unchecked]


def debt(td: TeamDigest) -> str:
    down = _down(td, "debt")
    if down:
        return down
    facts = td.facts("debt", DebtFacts)
    assert facts is not None
    return f"{facts.rolling_text} {facts.status} · {facts.direction} `{facts.sparkline}`"


class TeamButton(Carried):
    """A team button's value: the team's channel."""

    ch: str


def team_buttons(td: TeamDigest) -> bk.Block:
    """Start a signal check, show the metrics (when the team has a source), record tech debt, start a
    pre-mortem: each as its command would in the team's channel."""
    team = td.team
    value = TeamButton(ch=team.channel_id).dump()
    buttons = [bk.button("Start a signal check", ACTION_CHECK, value)]
    if team.metrics is not None:
        buttons.append(bk.button("Show metrics", ACTION_METRICS, value))
    buttons += [
        bk.button("Record tech debt", ACTION_DEBT, value),
        bk.button("Start a pre-mortem", ACTION_PREMORTEM, value),
    ]
    return bk.actions(*buttons, block_id=f"home.team.{team.channel_id}")


def team_blocks(td: TeamDigest, as_of: datetime) -> list[bk.Block]:
    glance = bk.fields(
        [
            f"*Verdict*\n{verdict(td, as_of)}",
            f"*Open mitigations*\n{mitigations(td)}",
            f"*Headroom at 10x (least)*\n{headroom(td)}",
            f"*Tech debt (rolling)*\n{debt(td)}",
        ]
    )
    calibration = calibration_text(td)  # in the glance's own text, so a team stays at three blocks
    head = "\n".join(
        [
            f"*{bk.escape(td.team.name)}* · {bk.channel_link(td.team.channel_id)}",
            *metrics_notes(td),
            *([calibration] if calibration else []),
        ]
    )
    glance["text"] = bk.mrkdwn(bk.truncate(head, bk.MAX_SECTION_TEXT))
    return [glance, team_buttons(td)]


def next_digest_line(schedule: Schedule, next_run: datetime | None, user_tz: str | None) -> str:
    if not schedule.channel or next_run is None:
        return ":calendar: No digest channel yet: `/scale-check setup` picks one."
    zone = f" (your time zone, {user_tz})" if user_tz else " (in your time zone)"
    when = bk.date(next_run, "{date_long_pretty} at {time}")
    return f":calendar: Next digest: {when}{zone} in {bk.channel_link(schedule.channel)}."


def home_view(
    user_id: str,
    teams: Sequence[TeamDigest],
    as_of: datetime,
    schedule: Schedule,
    next_run: datetime | None,
    *,
    user_tz: str | None,
    manager: bool,
    total: int,
    can_set_up: bool = True,
    notice: str | None = None,
    launches: Sequence[str] = (),
) -> dict[str, Any]:
    """The Home tab (at most 100 blocks however many teams there are); `notice` is the answer to what
    the person just did on it, shown on top."""
    if manager:
        seen = {1: "the workspace's one team", 2: "both of the workspace's teams"}.get(
            total, f"all {total} teams"
        )
        intro = f"Hi {bk.mention(user_id)}. As a manager you see {seen}."
    elif teams:
        intro = f"Hi {bk.mention(user_id)}. Your teams at a glance."
    else:
        how = "set a team up" if can_set_up else "ask a workspace admin or a team's manager to set yours up"
        intro = (
            f"Hi {bk.mention(user_id)}. You are in no team yet: run `/scale-check` in your team's channel, "
            f"or {how}."
        )
    buttons = [
        bk.button("Preview this week's digest", ACTION_PREVIEW, "preview"),
        bk.button("Refresh", ACTION_REFRESH, "refresh"),
    ]
    if can_set_up:
        buttons.insert(0, bk.button("Set up a team", ACTION_SETUP, "setup", style="primary"))
    blocks: list[bk.Block] = [bk.header("Are we ready for 10x?")]
    if notice:
        blocks.append(bk.section(notice, block_id="home.notice"))
    blocks += [
        bk.section(intro),
        bk.context(next_digest_line(schedule, next_run, user_tz)),
        bk.actions(*buttons),
        bk.divider(),
    ]
    if launches:
        shown = "\n".join(f"• {line}" for line in launches[:10])
        more = f"\n…and {len(launches) - 10} more: `/scale-check launches`" if len(launches) > 10 else ""
        blocks += [
            bk.section(f":rocket: *Launches in the next 30 days*\n{shown}{more}", block_id="home.launches")
        ]
        blocks.append(bk.divider())
    for td in list(teams)[:MAX_TEAMS]:
        blocks += team_blocks(td, as_of)
        blocks.append(bk.divider())
    if total > min(len(teams), MAX_TEAMS) and teams:
        blocks.append(
            bk.context(
                f"Showing {min(len(teams), MAX_TEAMS)} of {total} teams; the weekly digest has them all."
            )
        )
    blocks.append(bk.context(" · ".join(f"{cmd} {what}" for cmd, what in COMMANDS)))
    blocks.append(bk.context(f"Updated {bk.date(as_of)}."))
    return {"type": "home", "blocks": blocks}
