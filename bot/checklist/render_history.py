"""`/scale-check history` and the pointer to a check already open in the channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import blocks as bk
from bot.checklist.model import CheckState, Ref
from bot.checklist.render_verdict import ACTION_RESUME, percent
from bot.checklist.verdict import HEADLINES, VerdictKind

HISTORY_LIMIT = 40  # checks listed; eight sections of five stay far below 50 blocks


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    started_by: str
    started_at: datetime
    status: str
    permalink: str | None
    answered: int
    questions: int
    verdict: str | None = None
    score: float | None = None
    band: str | None = None
    cancelled_by: str | None = None


def history_line(entry: HistoryEntry) -> str:
    when = bk.date(entry.started_at, "{date_short}")
    head = f"*{when}*, started by {bk.mention(entry.started_by)}"
    if entry.status == "done":
        parts = []
        if entry.verdict in {k.value for k in VerdictKind}:
            score = f" (score {percent(entry.score)})" if entry.score is not None else ""
            parts.append(f"*{HEADLINES[VerdictKind(entry.verdict)]}*{score}")
        if entry.band:
            parts.append(f"stage *{entry.band}*")
        result = " · ".join(parts) or "finished"
    elif entry.status == "cancelled":
        who = f" by {bk.mention(entry.cancelled_by)}" if entry.cancelled_by else ""
        result = f"cancelled{who} ({entry.answered} of {entry.questions} answered)"
    else:
        result = f"open: {entry.answered} of {entry.questions} answered"
    link = f" · {bk.link(entry.permalink, 'thread')}" if entry.permalink else ""
    return f"{head}: {result}{link}"


def history_message(team_name: str, entries: list[HistoryEntry], total: int | None = None) -> dict[str, Any]:
    """The team's checks, newest first; `total` counts those beyond the listed ones."""
    team = bk.escape(team_name)
    if not entries:
        text = f"No scale checks for {team} yet. Run `/scale-check` to start the first."
        return bk.message(text, [bk.section(text)])
    shown = entries[:HISTORY_LIMIT]
    blocks: list[bk.Block] = [bk.header(f"Scale checks for {team_name}")]
    for start in range(0, len(shown), 5):
        blocks.append(bk.section("\n".join(history_line(e) for e in shown[start : start + 5])))
    total = max(total or 0, len(entries))
    more = f" (the latest {len(shown)} of {total})" if total > len(shown) else ""
    blocks.append(bk.context(f"Newest first{more}. Dates are shown in your time zone."))
    return bk.message(f"Scale checks for {team}: {total}", blocks)


def open_check_message(state: CheckState) -> dict[str, Any]:
    """The answer to `/scale-check` in a channel whose check is still open."""
    missing, total = state.required_missing, state.required_total
    where = (
        bk.link(state.permalink, "Continue it in its thread")
        if state.permalink
        else "Continue it in its thread"
    )
    text = (
        f"There is already an open scale check in this channel, started by {bk.mention(state.started_by)} "
        f"{bk.date(state.started_at)}: {total - missing} of {total} required answers are in. "
        f"{where}, or run `/scale-check new` to start another."
    )
    blocks = [
        bk.section(text),
        bk.actions(bk.button("Resume", ACTION_RESUME, Ref(c=state.id).dump(), style="primary")),
    ]
    return bk.message(text, blocks)
