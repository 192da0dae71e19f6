"""A manager's own digest: the agenda of the teams they manage first, then one compact section per team.

A team with several managers is in each of their digests. When a manager's teams do not fit one message
(Slack's 50 blocks), the digest holds their agenda and a link to the readiness canvas, where every team
has its row; it is never cut short mid-list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot import blocks as bk
from bot.digest.assemble import Digest
from bot.digest.model import TeamDigest
from bot.digest.render import Extras, agenda_blocks
from bot.digest.rows import TeamRow, team_row
from bot.words import plural, verb

# Blocks the header, the agenda (five categories), the links and the dividers take at most.
FIXED_BLOCKS = 12
MAX_TEAM_SECTIONS = bk.MAX_MESSAGE_BLOCKS - FIXED_BLOCKS


def managers_teams(digest: Digest) -> dict[str, list[TeamDigest]]:
    """Each person who manages a team, with their teams (in the digest's order)."""
    out: dict[str, list[TeamDigest]] = {}
    for td in digest.teams:
        for user in dict.fromkeys(td.team.managers):
            out.setdefault(user, []).append(td)
    return out


def _age(days: int | None) -> str:
    if days is None:
        return "never run"
    return "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"


def row_text(row: TeamRow) -> str:
    """A team in two or three lines of mrkdwn (user text escaped)."""
    e = bk.escape
    stage = f" · stage {row.stage}" if row.stage else ""
    stale = " · :warning: stale" if row.stale and row.check_days is not None else ""
    head = (
        f"*{e(row.team)}* {bk.channel_link(row.channel_id)} · *{e(row.verdict)}*{stage} "
        f"(checklist {_age(row.check_days)}){stale}"
    )
    bits = []
    if row.triggers:
        bits.append(
            f":rotating_light: {len(row.triggers)} breached: " + ", ".join(e(t) for t in row.triggers[:3])
        )
    if row.open_mitigations:
        overdue = f", {row.overdue} overdue" if row.overdue else ""
        bits.append(f"{plural(row.open_mitigations, 'open mitigation')}{overdue}")
    bits.append(f"debt {e(row.debt)}")
    if row.breaks_first:
        bits.append(f"breaks first at 10x: {e(row.breaks_first)}")
    lines = [head, " · ".join(bits)]
    if row.top_risk:
        plan = f" → {e(bk.truncate(row.mitigation, 160))}" if row.mitigation else " (no mitigation yet)"
        owner = f" ({bk.mention(row.mitigation_owner)})" if row.mitigation_owner else ""
        lines.append(f"Top risk: “{e(bk.truncate(row.top_risk, 120))}”{plan}{owner}")
    if row.unavailable:
        lines.append(":warning: unavailable this time: " + ", ".join(row.unavailable))
    return bk.truncate("\n".join(lines), bk.MAX_SECTION_TEXT)


def manager_message(
    digest: Digest,
    teams: Sequence[TeamDigest],
    *,
    parent_link: str | None,
    extras: Extras,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """The digest of the teams one person manages."""
    when = as_of or digest.as_of
    channels = {td.team.channel_id for td in teams}
    items = [i for i in digest.agenda if i.channel_id in channels]
    n = len(teams)
    where = [f"the org-wide digest {bk.link(parent_link, 'in the channel')}" if parent_link else None]
    if extras.canvas_url:
        where.append(bk.link(extras.canvas_url, "every team in the readiness canvas"))
    links = " · ".join(w for w in where if w)
    blocks: list[bk.Block] = [
        bk.header(bk.truncate(f"Your teams · scalability digest · {digest.week.label}", bk.MAX_HEADER_TEXT)),
        bk.context(
            ("The team you manage, agenda first." if n == 1 else f"The {n} teams you manage, agenda first.")
            + (f" Also: {links}." if links else "")
        ),
        *agenda_blocks(items, extras.agenda_cap, extras.more_where),
        bk.divider(),
    ]
    rows = [team_row(td, when) for td in teams]
    if len(rows) <= MAX_TEAM_SECTIONS:
        blocks += [bk.section(row_text(r)) for r in rows]
    else:
        rest = (
            bk.link(extras.canvas_url, "the readiness canvas")
            if extras.canvas_url
            else "the readiness table in the digest's thread"
        )
        blocks.append(
            bk.section(
                f"*Your {n} teams* are more than one message holds: each has its row in {rest} "
                "(the agenda above already lists what needs a decision)."
            )
        )
    blocks.append(bk.context(f"As of {bk.date(digest.as_of)}."))
    fallback = (
        f"Your teams' scalability digest, {digest.week.label}: {plural(len(items), 'item')} "
        f"{verb(len(items), 'needs', 'need')} a decision across your {plural(n, 'team')}."
    )
    return bk.message(fallback, blocks)
