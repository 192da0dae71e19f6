"""The digest's parent message, the managers' DM copy and the ephemeral preview (Block Kit data).

The parent is the agenda of the week's product/engineering/support sync; the details are one message
per team in its thread (`render_team.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot import blocks as bk
from bot import seeds
from bot.digest.agenda import AGENDA_HEADINGS, AGENDA_ORDER, AgendaItem, Dependency
from bot.digest.assemble import Digest
from bot.digest.changes import Changes, change_block
from bot.digest.model import SECTION_TITLES
from bot.digest.render_team import summary_text
from bot.words import apostrophe, plural, quoted, verb

SEED_001 = "001_9a79e61d27315dc6.txt"
SEED_QUOTE = (
    "“Establish regular communication cadences (weekly or bi-weekly syncs) between Product, Engineering "
    "(including Infra/Ops/Platform), and Support/CS leads focused on scalability, performance, and "
    "upcoming load changes.” — the antidote to *scaling in silos* "
    f"({seeds.cite(SEED_001)})"
)
SECTION_BUDGET = 2900  # characters per section, under Slack's 3,000
MAX_PREVIEW_TEAM_LINES = 60


@dataclass(frozen=True)
class Extras:
    """What the parent says beyond the digest itself: its caps, the canvas and the week's changes."""

    agenda_cap: int = 5
    canvas_url: str | None = None
    canvas_note: str | None = None  # why there is no canvas (the table is a file in the thread)
    compare: bool = False  # show "what changed since last week" (`changes` None: nothing to compare)
    changes: Changes | None = None
    replies: int | None = None  # teams with a thread reply when capped (None: every team has one)
    canvas_pending: bool = False  # a preview before the canvas exists: the first digest creates it

    @property
    def more_where(self) -> str:
        """Where the items past a cap are."""
        if self.canvas_pending and not self.canvas_url:
            return "in the readiness canvas (the digest creates it in its channel)"
        if self.canvas_url:
            return "in " + bk.link(self.canvas_url, "the readiness canvas")
        if self.canvas_note:
            return "in the readiness table in the thread"
        return "in the thread"


def title(digest: Digest) -> str:
    where = f" · {digest.workspace_name}" if digest.workspace_name else ""
    return f"Scalability digest · {digest.week.label}{where}"


def _bullets(lines: Sequence[str], budget: int = SECTION_BUDGET, more_hint: str = "in the thread") -> str:
    """As many bullets as fit the budget, then "…and N more"."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        bullet = f"• {line}"
        tail = f"\n…and {len(lines) - i} more {more_hint}"
        if used + len(bullet) + 1 + len(tail) > budget:
            out.append(tail.strip())
            break
        out.append(bullet)
        used += len(bullet) + 1
    return "\n".join(out)


def agenda_blocks(
    items: Sequence[AgendaItem], cap: int | None = None, more_where: str = "in the thread"
) -> list[bk.Block]:
    """Per category the most urgent `cap` items (items come most urgent first), then "and N more"."""
    if not items:
        return [
            bk.section(
                ":white_check_mark: *Nothing needs a decision this week*: no breached triggers, overdue "
                "mitigations, teams out of band, stale checks, or teams without a pre-mortem."
            )
        ]
    n = len(items)
    blocks = [
        bk.section(
            f"*Agenda for this week's sync* — {plural(n, 'item')} {verb(n, 'needs', 'need')} a decision"
        )
    ]
    for kind in AGENDA_ORDER:
        lines = [i.text for i in items if i.kind == kind]
        if lines:
            heading = f"*{AGENDA_HEADINGS[kind]}* ({len(lines)})\n"
            shown = lines[:cap] if cap else lines
            body = _bullets(shown, SECTION_BUDGET - len(heading) - 80, more_where)
            if len(shown) < len(lines) and "…and" not in body:
                body += f"\n…and {len(lines) - len(shown)} more {more_where}"
            blocks.append(bk.section(heading + body))
    return blocks


def dependency_lines(deps: Sequence[Dependency]) -> list[str]:
    return [
        f"*{bk.escape(d.team)}*{apostrophe(d.team)} top risk {quoted(bk.escape(d.risk))} is owned by {bk.mention(d.owner)} "
        f"of *{bk.escape(d.owner_team)}*"
        for d in deps
    ]


def _counts_fields(digest: Digest) -> bk.Block:
    counts = digest.counts
    return bk.fields(
        [
            f"*Teams*\n{len(digest.teams)}",
            f"*Needs a decision*\n{len(digest.agenda)}",
            f"*Breached triggers*\n{counts['trigger']}",
            f"*Overdue mitigations*\n{counts['overdue']}",
            f"*Out of the debt band*\n{counts['out_of_band']}",
            f"*Checks stale or missing*\n{counts['stale_check']}",
            f"*No pre-mortem yet*\n{counts['no_premortem']}",
            f"*Cross-team dependencies*\n{len(digest.dependencies)}",
        ]
    )


def _unavailable_note(digest: Digest) -> str | None:
    if not digest.unavailable:
        return None
    parts = [
        f"{SECTION_TITLES[k].lower()} for {n} team{'s' if n != 1 else ''}"
        for k, n in digest.unavailable.items()
    ]
    return ":warning: Unavailable this time: " + ", ".join(parts) + " (the reasons are in the thread)"


def fallback(digest: Digest) -> str:
    return (
        f"{title(digest)}: {plural(len(digest.agenda), 'item')} {verb(len(digest.agenda), 'needs', 'need')} a "
        f"decision across {plural(len(digest.teams), 'team')}; "
        "details per team in the thread."
    )


def parent_blocks(
    digest: Digest, *, chart_notes: Sequence[str] = (), extras: Extras | None = None
) -> list[bk.Block]:
    extras = extras or Extras(agenda_cap=len(digest.agenda) or 1)
    blocks: list[bk.Block] = [
        bk.header(title(digest)),
        bk.context(f"The agenda for this week's product, engineering and support sync. {SEED_QUOTE}"),
        _counts_fields(digest),
        bk.divider(),
        *agenda_blocks(digest.agenda, extras.agenda_cap, extras.more_where),
    ]
    if extras.compare:
        blocks.append(change_block(extras.changes, extras.agenda_cap, f" {extras.more_where}"))
    deps = dependency_lines(digest.dependencies)
    blocks.append(
        bk.section("*Cross-team dependencies*\n" + _bullets(deps, SECTION_BUDGET - 30))
        if deps
        else bk.section(
            "*Cross-team dependencies*: none this week (no team's top risk is owned in another team)"
        )
    )
    if extras.replies is None:
        details = (
            "Details for the team and the charts are in the thread."
            if len(digest.teams) == 1
            else "Details for both teams and the charts are in the thread."
            if len(digest.teams) == 2
            else f"Details for each of the {len(digest.teams)} teams and the charts are in the thread."
        )
    else:
        details = (
            f"The thread has the charts and the {extras.replies} most urgent of the "
            f"{len(digest.teams)} teams; every team's row is {extras.more_where}."
        )
    notes = [details, f"As of {bk.date(digest.as_of)}."]
    if extras.canvas_url and extras.replies is None:
        notes.append("Every team at a glance: " + bk.link(extras.canvas_url, "the readiness canvas") + ".")
    if extras.canvas_note:
        notes.append(
            f":warning: No readiness canvas ({extras.canvas_note}); the same table is a Markdown file "
            "in the thread."
        )
    unavailable = _unavailable_note(digest)
    if unavailable:
        notes.append(unavailable)
    notes += list(chart_notes)
    blocks.append(bk.context(*notes))
    return blocks


def parent_message(
    digest: Digest, *, chart_notes: Sequence[str] = (), extras: Extras | None = None
) -> dict[str, Any]:
    return bk.message(fallback(digest), parent_blocks(digest, chart_notes=chart_notes, extras=extras))


def dm_message(
    digest: Digest, channel_id: str, permalink: str | None, extras: Extras | None = None
) -> dict[str, Any]:
    """A manager's copy: the counts and the agenda, with a link to the thread."""
    where = (
        bk.link(permalink, "the digest and its thread")
        if permalink
        else f"the thread in {bk.channel_link(channel_id)}"
    )
    blocks: list[bk.Block] = [
        bk.header(title(digest)),
        bk.section(f"Your copy of this week's digest. Per-team details and charts: {where}."),
        _counts_fields(digest),
        *agenda_blocks(digest.agenda, (extras or Extras()).agenda_cap, (extras or Extras()).more_where),
    ]
    deps = dependency_lines(digest.dependencies)
    if deps:
        blocks.append(bk.section("*Cross-team dependencies*\n" + _bullets(deps, SECTION_BUDGET - 30)))
    text = f"{fallback(digest)} Thread: {permalink or channel_id}"
    return bk.message(text, blocks)


def preview_message(
    digest: Digest,
    channel_id: str | None,
    *,
    agenda_cap: int | None = None,
    reply_cap: int | None = None,
    canvas_url: str | None = None,
) -> dict[str, Any]:
    """The parent as it would be posted (its lists capped at `agenda_cap`, its thread holding at most
    `reply_cap` teams; None: uncapped), and one line per team that would have a message in the thread,
    most urgent first when capped, for the person who asked only."""
    replies = digest.reply_teams(reply_cap) if reply_cap is not None else list(digest.teams)
    capped = len(replies) < len(digest.teams)
    extras = Extras(
        agenda_cap=agenda_cap if agenda_cap is not None else len(digest.agenda) or 1,
        canvas_url=canvas_url,
        replies=len(replies) if capped else None,
        canvas_pending=canvas_url is None,
    )
    blocks = parent_blocks(digest, extras=extras)
    blocks.append(bk.divider())
    lines = [summary_text(td, digest.as_of) for td in replies[:MAX_PREVIEW_TEAM_LINES]]
    if lines:
        more = len(replies) - len(lines)
        heading = (
            f"*The {plural(len(replies), 'most urgent team')}* (a message each in the thread; every "
            f"team's row is {extras.more_where})"
            if capped
            else "*Teams* (one message each in the thread)"
        )
        blocks.append(bk.section(heading + "\n" + _bullets(lines, more_hint="")))
        if more > 0:
            blocks.append(bk.context(f"…and {more} more teams."))
    where = (
        bk.channel_link(channel_id)
        if channel_id
        else "no channel yet (an admin picks one with `/scale-check setup`)"
    )
    blocks.append(
        bk.context(
            f":eyes: Preview only: nothing was posted. The digest goes to {where}; "
            "`/scale-check digest now` sends it (managers and admins)."
        )
    )
    return bk.message("Preview of " + fallback(digest), blocks)
