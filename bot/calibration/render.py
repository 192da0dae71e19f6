"""What calibration shows in Slack: the outcomes list, the answers to `/scale-check incident`, and the
calibration line for the history, the App Home and the digest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot import blocks as bk
from bot.calibration.rules import Outcome, Prediction, Record, Resolved, line

SOURCE_NAMES = {
    "alertmanager": "Alertmanager alert",
    "incident": "incident report",
    "ceiling": "signal over its ceiling",
}
LIST_LIMIT = 15


def reporter_text(outcome: Outcome) -> str:
    return bk.mention(outcome.reporter) if outcome.source == "incident" else bk.escape(outcome.reporter)


def outcome_text(outcome: Outcome) -> str:
    """One outcome: what broke, when, from where, who reported it, and who withdrew it."""
    text = (
        f"#{outcome.id} *{bk.escape(outcome.component)}* {bk.date(outcome.at)} · "
        f"{SOURCE_NAMES.get(outcome.source, bk.escape(outcome.source))} · reported by {reporter_text(outcome)}"
    )
    if outcome.note:
        text += f" · “{bk.escape(bk.truncate(outcome.note, 200))}”"
    if outcome.withdrawn:
        who = bk.mention(outcome.withdrawn_by) if outcome.withdrawn_by else "someone"
        text = f"~{text}~ withdrawn by {who}"
    return text


def calibration_text(record: Record) -> str | None:
    """The calibration line, escaped for mrkdwn; None while the team has no prediction resolved or
    surprise."""
    found = line(record)
    return bk.escape(found) if found else None


def outcomes_message(team: str, outcomes: Sequence[Outcome], record: Record) -> dict[str, Any]:
    shown = list(reversed(outcomes))[:LIST_LIMIT]
    head = (
        f"What broke for {bk.escape(team)}" if shown else f"No outcome is recorded for {bk.escape(team)} yet."
    )
    blocks: list[bk.Block] = [bk.section(f"*{head}*")]
    if shown:
        blocks.append(bk.section("\n".join(f"• {outcome_text(o)}" for o in shown)))
    summary = calibration_text(record)
    if summary:
        blocks.append(bk.context(summary))
    blocks.append(
        bk.context(
            "Report one: `/scale-check incident <component> [note]` · a lead withdraws a wrong one: "
            "`/scale-check incident withdraw <#>`"
        )
    )
    return bk.message(f"{head} ({len(outcomes)} recorded)", blocks)


def reported_message(team: str, outcome: Outcome, record: Record) -> dict[str, Any]:
    text = f"Recorded: *{bk.escape(outcome.component)}* broke for {bk.escape(team)} (outcome #{outcome.id})."
    blocks: list[bk.Block] = [bk.section(text)]
    summary = calibration_text(record)
    if summary:
        blocks.append(bk.context(summary))
    blocks.append(
        bk.context(f"Wrong? A lead withdraws it with `/scale-check incident withdraw {outcome.id}`.")
    )
    return bk.message(text.replace("*", ""), blocks)


def withdrawn_message(team: str, outcome: Outcome, record: Record) -> dict[str, Any]:
    text = f"Withdrawn: outcome #{outcome.id} ({bk.escape(outcome.component)}) no longer counts for {bk.escape(team)}."
    blocks: list[bk.Block] = [bk.section(outcome_text(outcome))]
    summary = calibration_text(record)
    if summary:
        blocks.append(bk.context(summary))
    return bk.message(text, blocks)


def prediction_text(prediction: Prediction, resolved: Resolved | None) -> str:
    state = {"happened": "happened", "not_observed": "not observed", "open": "open"}[
        resolved.resolution if resolved else "open"
    ]
    signal = f"`{bk.escape(prediction.signal)}`" if prediction.signal else "no signal"
    return (
        f"#{prediction.id} *{bk.escape(prediction.component)}* · #{prediction.place} · watching {signal} · "
        f"until {bk.date(prediction.horizon_at, '{date_short_pretty}')} · {state}"
    )


def predictions_message(team: str, record: Record) -> dict[str, Any]:
    shown = list(reversed(record.resolved))[:LIST_LIMIT]
    if not shown:
        text = f"{bk.escape(team)} has no predictions yet: they are made when a pre-mortem's vote closes."
        return bk.message(text, [bk.section(text)])
    head = f"*{bk.escape(team)}'s predictions* (newest first)"
    lines = "\n".join(f"• {prediction_text(r.prediction, r)}" for r in shown)
    blocks: list[bk.Block] = [
        bk.section(head),
        bk.section(lines),
        bk.context(
            "A lead picks the signal that shows one breaking: `/scale-check incident watch <#> <signal>`"
        ),
    ]
    return bk.message(f"{team}'s predictions ({len(record.resolved)})", blocks)


def watching_message(team: str, prediction: Prediction) -> dict[str, Any]:
    text = (
        f"Prediction #{prediction.id} ({bk.escape(prediction.component)}) now watches "
        f"`{bk.escape(prediction.signal or '')}`: crossing its ceiling counts as it breaking."
    )
    return bk.message(text, [bk.section(text)])
