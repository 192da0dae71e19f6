"""`/scale-check premortem status` and `/scale-check premortem export`."""

from __future__ import annotations

import asyncio
from typing import Any

from bot import blocks as bk
from bot.errors import UserError
from bot.premortem.export import to_markdown
from bot.premortem.render_plan import status_message
from bot.premortem.service import PremortemService
from bot.premortem.summary import team_summary
from bot.teams import Team
from bot.words import possessive
from storage import premortem as repo

Message = dict[str, Any]
CHUNK = 2800  # characters of Markdown per code block (a section holds 3,000 with the fences)


async def status(svc: PremortemService, team: Team) -> Message:
    summary = await team_summary(svc.rt, team.workspace_id, team.channel_id)
    owners = sorted({m.owner for m in summary.open_mitigations})
    infos = await asyncio.gather(*(svc.user_info(team.workspace_id, o) for o in owners))
    gone = {o for o, info in zip(owners, infos, strict=True) if info.get("deleted")}
    return status_message(
        team.name,
        summary.open_mitigations,
        svc.rt.clock.now(),
        summary.has_premortem,
        gone,
        unmitigated=summary.unmitigated,
    )


async def names(svc: PremortemService, workspace_id: str, users: set[str]) -> dict[str, str]:
    """How people are known (display name, else the username), for a document outside Slack."""
    ordered = sorted(u for u in users if u)
    infos = await asyncio.gather(*(svc.user_info(workspace_id, u) for u in ordered))
    out = {}
    for user, info in zip(ordered, infos, strict=True):
        profile = info.get("profile") or {}
        out[user] = str(profile.get("display_name") or info.get("name") or user)
    return out


async def export(svc: PremortemService, team: Team) -> tuple[str, Message]:
    """The channel's latest pre-mortem as Markdown, and the ephemeral message that carries it."""
    rows = await svc.rt.db.run(repo.in_channel, team.workspace_id, team.channel_id, 1)
    if not rows or rows[0].id is None:
        raise UserError(
            "This channel has no pre-mortem yet. Start one with `/scale-check premortem @lead …`."
        )
    pm = await svc.load(team.workspace_id, rows[0].id)
    board = await svc.board(pm, team)
    people = {
        pm.started_by,
        *pm.lead_ids,
        pm.cancelled_by or "",
        *(v for vs in pm.votes.values() for v in vs),
    }
    people |= {m.owner for m in pm.mitigations}
    markdown = to_markdown(board, await names(svc, team.workspace_id, people), svc.rt.clock.now())
    return markdown, export_message(team.name, markdown)


def export_message(team: str, markdown: str) -> Message:
    blocks: list[bk.Block] = [
        bk.section(f"{bk.escape(possessive(team))} latest pre-mortem as Markdown, ready to paste:")
    ]
    for chunk in chunked(bk.escape(markdown))[: bk.MAX_MESSAGE_BLOCKS - 1]:
        blocks.append(bk.section(f"```{chunk.rstrip()}```"))
    return bk.message(f"{bk.escape(possessive(team))} latest pre-mortem as Markdown", blocks)


def _pieces(line: str) -> list[str]:
    """A line cut into pieces of at most CHUNK characters, never inside an `&amp;`-style entity."""
    pieces = []
    while len(line) > CHUNK:
        cut = CHUNK
        amp = line.rfind("&", 0, cut)
        if amp != -1 and ";" not in line[amp:cut]:
            cut = amp
        pieces.append(line[:cut])
        line = line[cut:]
    return [*pieces, line]


def chunked(text: str) -> list[str]:
    """Escaped Markdown in code-block-sized chunks, split between lines where it can be."""
    chunks, current = [], ""
    for line in text.splitlines(keepends=True):
        for piece in _pieces(line):
            if len(current) + len(piece) > CHUNK and current:
                chunks.append(current)
                current = ""
            current += piece
    if current:
        chunks.append(current)
    return chunks
