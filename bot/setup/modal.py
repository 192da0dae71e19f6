"""The setup modal as Block Kit data: map a channel to a team, its data source and signals, its people,
and the workspace's digest schedule; pre-filled with what is in force now."""

from __future__ import annotations

from typing import Any

from bot import blocks as bk
from bot.config import AppConfig
from bot.digest.schedule import DAYS, Schedule
from bot.metadata import Carried
from bot.setup import rules as r
from bot.teams import Team
from bot.words import quoted

CALLBACK_ID = "setup"
CHANNEL_PICKED = "setup.channel"  # dispatched when the team's channel changes: refill the modal


class SetupMetadata(Carried):
    """What the modal carries: the channel it was opened in, and a fingerprint of the digest's fields as
    shown (None: shown read-only), so that only a change someone made is stored."""

    origin: str | None = None
    digest_shown: str | None = None


def _select(options: list[tuple[str, str]], initial: str | None, placeholder: str) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": r.ACTION,
        "placeholder": bk.plain(placeholder),
        "options": [bk.option(label, value) for value, label in options],
    }
    chosen = next((bk.option(label, value) for value, label in options if value == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def _users(initial: tuple[str, ...]) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "multi_users_select",
        "action_id": r.ACTION,
        "placeholder": bk.plain("Pick people"),
    }
    if initial:
        element["initial_users"] = list(initial)
    return element


def _text(initial: str | None, placeholder: str, max_length: int) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": r.ACTION,
        "placeholder": bk.plain(placeholder),
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial
    return element


def _conversation(initial: str | None, *, action_id: str = r.ACTION) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": action_id,
        "placeholder": bk.plain("Pick a channel"),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if initial:
        element["initial_conversation"] = initial
    return element


def _team_notes(team: Team | None) -> str:
    if team is None:
        return "Pick the team's channel; what you save is stored by scalebot and wins over the config file for that channel."
    where = bk.channel_link(team.channel_id)
    if team.source == "setup" and team.also_in_file:
        return (
            f"{where} was set up here before, and the config file declares it too: what is saved here wins "
            "over the file for this channel."
        )
    if team.source == "file":
        return (
            f"The config file declares {where} as {quoted(bk.escape(team.name))}. What you save here is stored by "
            "scalebot and wins over the file for this channel."
        )
    return f"What you save for {where} is stored by scalebot and wins over the config file for this channel."


def _zone_note(schedule: Schedule) -> str:
    if schedule.zone_source == "workspace":
        return f" ({schedule.timezone} is the workspace's time zone in Slack, its installer's or owner's)"
    if schedule.zone_source == "utc":
        return " (UTC: Slack did not tell me the workspace's time zone)"
    return ""


def _digest_notes(schedule: Schedule) -> str:
    if schedule.from_setup and schedule.in_file:
        origin = "set here before (the config file sets one too; this one wins)"
    elif schedule.from_setup:
        origin = "set here before"
    elif schedule.in_file:
        origin = "from the config file; what you save here wins over it"
    else:
        origin = "the default"
    return (
        f"*Weekly digest* for the whole workspace — now {schedule.describe()}, {origin}{_zone_note(schedule)}. "
        "It is stored only if you change it."
    )


def _digest_read_only(schedule: Schedule, who_can: str) -> str:
    where = f"in {bk.channel_link(schedule.channel)}" if schedule.channel else "no channel picked yet"
    copies = (
        "; DM copies to " + ", ".join(bk.mention(m) for m in schedule.managers) if schedule.managers else ""
    )
    return (
        f"*Weekly digest* for the whole workspace — {schedule.describe()}, {where}{copies}{_zone_note(schedule)}. "
        f"{who_can}"
    )


def _digest_inputs(schedule: Schedule) -> list[bk.Block]:
    return [
        bk.section(_digest_notes(schedule)),
        bk.input_block(
            "Digest channel", _conversation(schedule.channel), block_id=r.B_DIGEST_CHANNEL, optional=True
        ),
        bk.input_block(
            "Day",
            _select([(d, d.capitalize()) for d in DAYS], schedule.day, "Day of the week"),
            block_id=r.B_DAY,
        ),
        bk.input_block(
            "Time",
            {"type": "timepicker", "action_id": r.ACTION, "initial_time": schedule.time},
            block_id=r.B_TIME,
        ),
        bk.input_block(
            "Time zone",
            _text(schedule.timezone, "Europe/Berlin", 64),
            block_id=r.B_TZ,
            hint="An IANA time zone, like Europe/Berlin, America/New_York or UTC.",
        ),
        bk.input_block(
            "Managers who get the digest by DM",
            _users(schedule.managers),
            block_id=r.B_DIGEST_MANAGERS,
            optional=True,
        ),
    ]


def setup_modal(
    config: AppConfig,
    team: Team | None,
    schedule: Schedule,
    *,
    origin_channel: str | None,
    warning: str | None = None,
    digest_editable: bool = True,
    digest_who_can: str = "",
    own_digest: tuple[str | None] | None = None,
) -> dict[str, Any]:
    """The modal for `team` (None: no channel picked yet). The digest's inputs only for those who may
    change it (`digest_editable`); others see it read-only, with `digest_who_can`. `own_digest` (the
    channel now chosen, in a 1-tuple) asks a team's manager where their own digest goes."""
    metrics = team.metrics if team else None
    picked = [f"{metrics.source}:{name}" for name in metrics.signals] if metrics else []
    signal_options = r.signal_options(config)
    blocks: list[bk.Block] = [bk.context(_team_notes(team))]
    if warning:
        blocks.append(bk.section(f":no_entry: {warning}"))
    blocks += [
        bk.input_block(
            "Team channel",
            _conversation(team.channel_id if team else None, action_id=CHANNEL_PICKED),
            block_id=r.B_CHANNEL,
            dispatch_action=True,
        ),
        bk.input_block(
            "Team name", _text(team.name if team else None, "Payments", r.NAME_MAX), block_id=r.B_NAME
        ),
    ]
    sources = r.source_options(config)
    if sources:
        blocks.append(
            bk.input_block(
                "Data source",
                _select(sources, metrics.source if metrics else None, "A source the config file declares"),
                block_id=r.B_SOURCE,
                optional=True,
                hint="Only sources the operator configured; URLs and credentials never come from Slack.",
            )
        )
        blocks.append(
            bk.input_block(
                "Service",
                _text(metrics.service if metrics else None, "payments-api", 63),
                block_id=r.B_SERVICE,
                optional=True,
                hint="The `service` label of the team's series (default Prometheus queries select on it).",
            )
        )
    if signal_options:
        element: dict[str, Any] = {
            "type": "multi_static_select",
            "action_id": r.ACTION,
            "placeholder": bk.plain("The default set when none is picked"),
            "options": [bk.option(label, value) for value, label in signal_options],
        }
        initial = [bk.option(label, value) for value, label in signal_options if value in picked]
        if initial:
            element["initial_options"] = initial
        blocks.append(bk.input_block("Signals", element, block_id=r.B_SIGNALS, optional=True))
    blocks += [
        bk.input_block("Tech leads", _users(team.leads if team else ()), block_id=r.B_LEADS, optional=True),
        bk.input_block(
            "Managers", _users(team.managers if team else ()), block_id=r.B_MANAGERS, optional=True
        ),
        bk.divider(),
    ]
    if digest_editable:
        blocks += _digest_inputs(schedule)
    else:
        blocks.append(bk.section(_digest_read_only(schedule, digest_who_can)))
    if own_digest is not None:
        blocks.append(
            bk.input_block(
                "Your own digest",
                _conversation(own_digest[0]),
                block_id=r.B_OWN_DIGEST,
                optional=True,
                hint="Each week, the teams you manage: agenda first, one section per team. Left empty, it "
                "comes by DM; pick a channel to get it there instead.",
            )
        )
    shown = r.fingerprint(schedule.shown()) if digest_editable else None
    metadata = SetupMetadata(origin=origin_channel, digest_shown=shown).metadata()
    return bk.modal(
        "Set up a team", blocks, callback_id=CALLBACK_ID, submit="Save", private_metadata=metadata
    )


def metadata_of(view: dict[str, Any]) -> SetupMetadata:
    return SetupMetadata.load(view.get("private_metadata")) or SetupMetadata()


def origin_of(view: dict[str, Any]) -> str | None:
    return metadata_of(view).origin
