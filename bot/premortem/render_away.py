"""The one offer to a pre-mortem's starter to move the deadline when most of its leads are away at it
(beside each lead in the thread, `bot.presence.render.back_text` says "away until Tue 8 Dec")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import blocks as bk
from bot.premortem.model import Premortem
from bot.premortem.refs import ExtendRef
from bot.premortem.render import ACTION_EXTEND, Message


def offer_dm(pm: Premortem, away: Sequence[tuple[str, str]], to: datetime) -> Message:
    """To the starter, once: most leads are away at the deadline; a button moves it to `to`."""
    who = ", ".join(f"{bk.mention(user)} ({text})" for user, text in away)
    where = bk.link(pm.permalink, "the pre-mortem") if pm.permalink else bk.channel_link(pm.channel_id)
    text = (
        f"Most leads of the {bk.escape(pm.team_name)} pre-mortem ({where}) are away at its deadline, "
        f"{bk.date(pm.deadline)}: {who}. Revealing then would show a half-empty result. Move the deadline to "
        f"{bk.date(to)}, after they are back?"
    )
    blocks = [
        bk.section(text),
        bk.actions(
            bk.button(
                "Move the deadline",
                ACTION_EXTEND,
                ExtendRef(pm=pm.id, to=int(to.timestamp())).dump(),
                style="primary",
            ),
            block_id=f"away:{pm.id}",
        ),
        bk.context("Nothing changes if you leave it: the answers are revealed at the deadline."),
    ]
    return bk.message(text, blocks)
