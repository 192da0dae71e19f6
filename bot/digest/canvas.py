"""The scale readiness canvas's content: every team's row in one Markdown table (plain text in, text out).

The whole body is written with one `canvases.edit` `replace` per run (Slack allows one operation per call,
and sections can only be looked up by heading, so per-team edits cannot scale). Slack caps a canvas's
Markdown at 1 MiB; a body that would be larger is rebuilt with shorter cells, and only then with fewer
rows (saying how many are left out).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.digest.agenda import URGENCY_RULE
from bot.digest.assemble import Digest
from bot.digest.rows import TeamRow, team_row

MAX_CONTENT = 1_048_576  # characters: Slack's limit on a canvas's Markdown
TITLE = "Scale readiness"
COLUMNS = (
    "Team",
    "Verdict · stage",
    "Last check",
    "Tech debt (band 20–30%)",
    "Top risk → mitigation",
    "Breached triggers",
    "Breaks first at 10x",
)


def cell(text: str, limit: int | None = None) -> str:
    """Text safe in a table cell: one line, pipes escaped, optionally shortened."""
    flat = " ".join(text.split())
    if limit is not None and len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat.replace("|", "\\|")


def _row(row: TeamRow, limit: int | None) -> str:
    stage = f" · {row.stage}" if row.stage else ""
    check = "never" if row.check_days is None else f"{row.check_days} days ago"
    if row.stale and row.check_days is not None:
        check += " (stale)"
    risk = "—"
    if row.top_risk:
        risk = row.top_risk + (f" → {row.mitigation}" if row.mitigation else " → no mitigation yet")
    owner = f" ![](@{row.mitigation_owner})" if row.top_risk and row.mitigation_owner else ""
    cells = [
        cell(row.team, limit) + f" ![](#{row.channel_id})",
        cell(row.verdict + stage, limit),
        check,
        cell(row.debt, limit),
        cell(risk, limit) + owner,
        cell(", ".join(row.triggers) or "none", limit),
        cell(row.breaks_first or "—", limit),
    ]
    return "| " + " | ".join(cells) + " |"


def _head(digest: Digest, rows: Sequence[TeamRow]) -> list[str]:
    counts = digest.counts
    return [
        f"# {TITLE}",
        f"Every team's row as of {_when(digest.as_of)} ({digest.week.label}); rewritten by each weekly "
        "digest and `/scale-check digest now`. Edits made here are replaced by the next run.",
        "",
        f"**{len(rows)} teams** · {len(digest.agenda)} items need a decision · "
        f"{counts['trigger']} breached triggers · {counts['overdue']} overdue mitigations · "
        f"{counts['out_of_band']} out of the debt band · {counts['stale_check']} checks stale or missing · "
        f"{counts['no_premortem']} without a pre-mortem",
        "",
        f"Most urgent first on the digest's agenda: {URGENCY_RULE}",
        "",
        "## Teams",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]


def _when(as_of: datetime) -> str:
    return as_of.strftime("%Y-%m-%d %H:%M %Z").strip()


def markdown(digest: Digest, limit: int = MAX_CONTENT) -> str:
    """The canvas's whole body, within `limit` characters."""
    rows = sorted((team_row(td, digest.as_of) for td in digest.teams), key=lambda r: r.team.casefold())
    head = _head(digest, rows)
    for cell_limit in (None, 120, 40):
        body = "\n".join([*head, *(_row(r, cell_limit) for r in rows)]) + "\n"
        if len(body) <= limit:
            return body
    lines, used = list(head), sum(len(h) + 1 for h in head) + 200
    for i, r in enumerate(rows):
        line = _row(r, 40)
        if used + len(line) + 1 > limit:
            lines.append(f"\n…and {len(rows) - i} more teams that do not fit a canvas's 1 MiB limit.")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines) + "\n"
