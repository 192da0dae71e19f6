"""The views a modal submission shows when its save takes longer than Slack waits for the ack.

Slack closes a modal whose submission is not acked within 3 s, and only the ack can show field
errors. `handlers/base.py` gives a submission's checks and save `SAVE_BUDGET` seconds; past that it
acks with `saving_view` (`response_action: update`) and finishes with `views.update`: `saved_view`,
`retry_view` (the modal again, the person's text filled in, the problem said above it) or
`failed_view` (their own text, to copy). docs/developing.md ("Modals") describes the pattern.
"""

from __future__ import annotations

from typing import Any

from bot import blocks as bk

SAVE_BUDGET = 2.0  # seconds: the ack must reach Slack within 3 s, network included

# The keys views.update accepts (a submitted view also carries id, state, hash, team_id…).
_VIEW_KEYS = ("type", "callback_id", "title", "submit", "close", "private_metadata", "clear_on_close")

# A state value's key and the element's matching initial-value key, by what the element holds.
_INITIAL = {
    "value": "initial_value",
    "rich_text_value": "initial_value",
    "selected_option": "initial_option",
    "selected_options": "initial_options",
    "selected_user": "initial_user",
    "selected_users": "initial_users",
    "selected_conversation": "initial_conversation",
    "selected_conversations": "initial_conversations",
    "selected_channel": "initial_channel",
    "selected_channels": "initial_channels",
    "selected_date": "initial_date",
    "selected_time": "initial_time",
    "selected_date_time": "initial_date_time",
}


def _title(view: dict[str, Any]) -> dict[str, Any]:
    title = view.get("title")
    return title if isinstance(title, dict) else bk.plain("scalebot")


def _notice(view: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": str(view.get("callback_id") or ""),
        "title": _title(view),
        "close": bk.plain("Close"),
        "blocks": [{"type": "section", "text": bk.mrkdwn(text)}],
    }


def saving_view(view: dict[str, Any]) -> dict[str, Any]:
    return _notice(
        view,
        ":hourglass_flowing_sand: Saving… this is taking longer than usual. Keep this window open to "
        "see the result here, or close it: should anything go wrong, I'll send you a message.",
    )


def saved_view(view: dict[str, Any]) -> dict[str, Any]:
    return _notice(view, ":white_check_mark: Saved. You can close this window.")


def typed_values(view: dict[str, Any]) -> list[str]:
    """The text the person typed into the modal's inputs, in order."""
    found: list[str] = []
    for inputs in ((view.get("state") or {}).get("values") or {}).values():
        for value in (inputs or {}).values():
            text = (value or {}).get("value") if isinstance(value, dict) else None
            if isinstance(text, str) and text.strip():
                found.append(text)
    return found


def failed_view(view: dict[str, Any], reason: str) -> dict[str, Any]:
    """Plain words, and what the person typed so that nothing is lost."""
    lines = [f":warning: {bk.escape(reason)} Nothing was changed."]
    typed = typed_values(view)
    if typed:
        lines.append("What you typed, to copy before you close this window and try again:")
    result = _notice(view, "\n".join(lines))
    for text in typed:
        result["blocks"].append({"type": "section", "text": bk.mrkdwn(f"```{bk.escape(text)[:2900]}```")})
    return result


def retry_view(view: dict[str, Any], problem: str) -> dict[str, Any]:
    """The submitted modal again, filled in with what was typed, the problem said at the top."""
    result: dict[str, Any] = {k: view[k] for k in _VIEW_KEYS if k in view}
    values = (view.get("state") or {}).get("values") or {}
    blocks = []
    for block in view.get("blocks") or []:
        block = dict(block)
        entered = values.get(str(block.get("block_id"))) or {}
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            block["element"] = _filled(block["element"], entered)
        elif isinstance(block.get("elements"), list):
            block["elements"] = [_filled(e, entered) if isinstance(e, dict) else e for e in block["elements"]]
        blocks.append(block)
    notice = {"type": "section", "text": bk.mrkdwn(f":warning: Not saved yet: {bk.escape(problem)}")}
    result["blocks"] = [notice, *blocks]
    return result


def _filled(element: dict[str, Any], entered: dict[str, Any]) -> dict[str, Any]:
    state = entered.get(str(element.get("action_id")))
    if not isinstance(state, dict):
        return element
    filled = dict(element)
    for key, initial in _INITIAL.items():
        if state.get(key) not in (None, [], ""):
            filled[initial] = state[key]
    return filled
