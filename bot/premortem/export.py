"""`/scale-check premortem export`: the pre-mortem as Markdown, ready to paste into a document or a ticket."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from bot import seeds
from bot.premortem.board import Board
from bot.premortem.datasays import headroom_text, value_shown
from bot.premortem.mitigation import is_overdue
from bot.premortem.model import EVIDENCE_KINDS, MITIGATION_STATUSES, QUESTION, SEED
from bot.words import quoted

STATUS_WORDS = {
    "collecting": "collecting answers",
    "voting": "voting",
    "planning": "mitigations planned",
    "cancelled": "cancelled",
}


def _when(dt: datetime | None) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if dt else "—"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.replace("|", "\\|").split())


def to_markdown(board: Board, names: Mapping[str, str], now: datetime) -> str:
    """The whole pre-mortem; `names` maps user ids to the names people know them by (else the id)."""
    pm = board.pm

    def who(user_id: str | None) -> str:
        return f"@{names.get(user_id, user_id)}" if user_id else "—"

    lines = [
        f"# Pre-mortem: {pm.team_name}",
        "",
        f"> {QUESTION}",
        "",
        f"- Started by {who(pm.started_by)} on {_when(pm.started_at)}; deadline {_when(pm.deadline)}",
        f"- Leads: {', '.join(who(u) for u in pm.lead_ids)}",
        f"- Status: {STATUS_WORDS[pm.status]}",
    ]
    if pm.revealed_at:
        why = "every lead answered" if pm.reveal_reason == "all_answered" else "the deadline passed"
        lines.append(f"- Revealed {_when(pm.revealed_at)} ({why})")
    if pm.cancelled_at:
        lines.append(f"- Cancelled by {who(pm.cancelled_by)} on {_when(pm.cancelled_at)}")
    lines.append(
        f"- Method: the scalability pre-mortem of the product–engineering sync in {seeds.cite(SEED)}"
    )
    if pm.status in ("collecting", "cancelled") and not pm.revealed_at:
        answered = ", ".join(who(u) for u in pm.answered) or "nobody yet"
        lines += ["", f"Answers stay hidden until the reveal. Answered so far: {answered}."]
        return "\n".join(lines) + "\n"

    lines += ["", "## Risks", ""]
    if not board.ranked:
        lines.append("No risks were named.")
    for ranked in board.ranked:
        group = ranked.group
        voters = ", ".join(who(v) for v in sorted(board.votes(group.id)))
        lines.append(
            f"### {ranked.place}. {group.title} ({ranked.votes} vote{'s' if ranked.votes != 1 else ''})"
        )
        lines.append("")
        if voters:
            lines.append(f"Votes: {voters}")
            lines.append("")
        for risk in group.risks:
            evidence = ""
            if risk.evidence_kind or risk.evidence:
                kind = EVIDENCE_KINDS.get(risk.evidence_kind or "", "evidence")
                evidence = (
                    f" *Evidence ({kind}):* {risk.evidence}" if risk.evidence else f" *Evidence:* {kind}"
                )
            written = f" (as {quoted(risk.component)})" if risk.component != group.title else ""
            lines.append(f"- {who(risk.lead)}, rank {risk.rank}{written}: {risk.why}{evidence}")
        lines.append("")

    data = pm.data
    lines += ["## What the data says", ""]
    if data is None or (not data.signals and data.note):
        lines.append(data.note if data and data.note else "No metrics were read for this pre-mortem.")
    else:
        lines += [
            f"Signals ranked by 10x headroom, from {data.source or 'the team source'} at {_when(data.read_at)}.",
            "",
            "| # | signal | value | 10x headroom | leads |",
            "|---|---|---|---|---|",
        ]
        for place, mark in enumerate(board.marks, start=1):
            s = mark.signal
            leads = {
                "agree": "agree",
                "data_only": "nobody named it",
                "leads_only": "named, but the data shows room",
                "neutral": "",
            }[mark.verdict]
            room = headroom_text(s) + (" (breaks first)" if s.breaks_first else "")
            lines.append(f"| {place} | {s.name} | {value_shown(s)} | {room} | {leads} |")
        for line in data.unavailable:
            lines += ["", f"- {line}"]
        if data.assumptions:
            lines += ["", f"_{data.assumptions}_"]
    lines.append("")

    lines += ["## Mitigations", ""]
    if not board.top or pm.status != "planning":
        lines.append("Voting is still open; the top three get mitigations when it closes.")
    else:
        lines += ["| # | risk | plan | owner | due | verified by | status |", "|---|---|---|---|---|---|---|"]
        for ranked, m in board.top_mitigations():
            if m is None:
                lines.append(
                    f"| {ranked.place} | {_cell(ranked.group.title)} | — | — | — | — | no mitigation yet |"
                )
                continue
            status = MITIGATION_STATUSES[m.status] + (" (overdue)" if is_overdue(m, now) else "")
            if m.override_reason:
                status += f"; marked done without the metric: {m.override_reason}"
            lines.append(
                f"| {ranked.place} | {_cell(ranked.group.title)} | {_cell(m.plan)} | {who(m.owner)} | "
                f"{m.due.isoformat()} | {_cell(m.verification_text())} | {_cell(status)} |"
            )
    return "\n".join(lines) + "\n"
