"""The setup modal's rules: who may set a team up, what may be picked, and reading a submission.

Plain values only. A data source and signals are picked from those the config file declares (no URL,
no query and no credential is ever typed in Slack); the service name typed is a label value, checked.
What setup stores wins over the config file for that channel (`bot/teams.py`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import AppConfig
from bot.digest.schedule import DAYS, shown_fields
from bot.metrics import promql
from bot.metrics.config import SignalConfig
from bot.metrics.signals import TITLES
from bot.teams import Team
from bot.words import possessive, quoted

# Block ids of the modal's inputs (`bot/setup/modal.py` draws them, `parse` reads them).
B_CHANNEL, B_NAME = "team_channel", "team_name"
B_SOURCE, B_SERVICE, B_SIGNALS = "metrics_source", "metrics_service", "metrics_signals"
B_LEADS, B_MANAGERS = "team_leads", "team_managers"
B_DIGEST_CHANNEL, B_DAY, B_TIME, B_TZ = "digest_channel", "digest_day", "digest_time", "digest_timezone"
B_DIGEST_MANAGERS = "digest_managers"
B_OWN_DIGEST = "own_digest_channel"  # where the person's own digest (the teams they manage) goes
ACTION = "value"

NAME_MAX = 80
_SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,62}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class SetupErrors(ValueError):
    """Problems with the submitted modal, by input block: shown under each input."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class TeamSetup:
    channel: str
    name: str
    source: str | None
    service: str | None
    signals: tuple[str, ...]
    leads: tuple[str, ...]
    managers: tuple[str, ...]

    def stored(self, config: AppConfig) -> dict[str, Any]:
        """What the database keeps for the channel (the shape `resolve_team` reads)."""
        out: dict[str, Any] = {"name": self.name, "leads": list(self.leads), "managers": list(self.managers)}
        if self.source:
            declared = declared_signals(config, self.source)
            metrics: dict[str, Any] = {"source": self.source, "default_signals": not self.signals}
            if self.service:
                metrics["service"] = self.service
            metrics["signals"] = {
                name: declared[name].model_dump(exclude_none=True, exclude_defaults=True)
                for name in self.signals
            }
            out["metrics"] = metrics
        return out


@dataclass(frozen=True)
class DigestSetup:
    channel: str | None
    day: str
    time: str
    timezone: str
    managers: tuple[str, ...]

    def shown(self) -> dict[str, Any]:
        """The same shape as `Schedule.shown()`, to compare with what the modal showed."""
        return shown_fields(self)


def fingerprint(digest_fields: Mapping[str, Any]) -> str:
    """A short digest of the digest's fields (what the modal showed travels in its metadata as this)."""
    raw = json.dumps(dict(digest_fields), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


# --- what may be picked ----------------------------------------------------------------------------


def source_options(config: AppConfig) -> list[tuple[str, str]]:
    """(name, label) of each configured data source."""
    kinds = {"prometheus": "Prometheus", "datadog": "Datadog", "newrelic": "New Relic"}
    return [
        (name, f"{name} ({kinds.get(src.kind, src.kind)})") for name, src in sorted(config.sources.items())
    ]


def declared_signals(config: AppConfig, source: str) -> dict[str, SignalConfig]:
    """Signals the config declares for a source: the default Prometheus set, then those file teams name."""
    src = config.sources.get(source)
    out: dict[str, SignalConfig] = {}
    if src is not None and src.kind == "prometheus":
        out = {name: SignalConfig() for name in promql.DEFAULT_QUERIES}
    for team in config.teams:
        if team.metrics is not None and team.metrics.source == source:
            for name, signal in team.metrics.signals.items():
                out.setdefault(name, signal)
    return out


def signal_options(config: AppConfig) -> list[tuple[str, str]]:
    """(value, label) of every declared signal of every source: `source:signal`."""
    options = []
    for source, _ in source_options(config):
        for name in declared_signals(config, source):
            options.append((f"{source}:{name}", f"{TITLES.get(name, name.replace('_', ' '))} ({source})"))
    return options[:100]


# --- who may set a team up -------------------------------------------------------------------------


def may_set_up(user_id: str, team: Team, admins: Iterable[str], is_slack_admin: bool) -> bool:
    return is_slack_admin or user_id in set(admins) or user_id in team.managers


def who_can(team: Team) -> str:
    managers = ", ".join(f"<@{m}>" for m in team.managers)
    theirs = (
        f"{possessive(team.name)} managers ({managers})"
        if managers
        else "the team's managers (none named yet)"
    )
    return f"Only workspace admins and {theirs} can set up this team."


def who_can_change_digest(digest_managers: Iterable[str]) -> str:
    managers = ", ".join(f"<@{m}>" for m in digest_managers)
    theirs = f"the digest's managers ({managers})" if managers else "the digest's managers (none named yet)"
    return f"Only workspace admins and {theirs} can change the weekly digest."


def who_can_set_up_any() -> str:
    return (
        "Only workspace admins and teams' managers can set up a team. Ask one of them, or a workspace admin, "
        "to name you as a manager of your team."
    )


# --- reading a submission --------------------------------------------------------------------------


def _entry(values: Mapping[str, Any], block: str) -> dict[str, Any]:
    actions = values.get(block) or {}
    return dict(actions.get(ACTION) or next(iter(actions.values()), None) or {})


def _text(values: Mapping[str, Any], block: str) -> str:
    return str(_entry(values, block).get("value") or "").strip()


def _option(values: Mapping[str, Any], block: str) -> str | None:
    chosen = _entry(values, block).get("selected_option") or {}
    return chosen.get("value") or None


def _options(values: Mapping[str, Any], block: str) -> list[str]:
    return [o.get("value") for o in _entry(values, block).get("selected_options") or [] if o.get("value")]


def _users(values: Mapping[str, Any], block: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_entry(values, block).get("selected_users") or []))


def _conversation(values: Mapping[str, Any], block: str) -> str | None:
    return _entry(values, block).get("selected_conversation") or None


def own_digest_channel(values: Mapping[str, Any]) -> tuple[bool, str | None]:
    """(whether the modal asked, the channel picked: None for their DM)."""
    return B_OWN_DIGEST in values, _conversation(values, B_OWN_DIGEST)


def parse(
    values: Mapping[str, Any],
    config: AppConfig,
    fallback_channel: str | None,
    *,
    with_digest: bool = True,
    default_zone: str = "UTC",
) -> tuple[TeamSetup, DigestSetup | None]:
    """The submission as setup values (no digest when the modal showed it read-only); raises `SetupErrors`
    naming each input to fix."""
    errors: dict[str, str] = {}
    channel = _conversation(values, B_CHANNEL) or fallback_channel
    if not channel:
        errors[B_CHANNEL] = "Pick the team's channel."
    name = _text(values, B_NAME)
    if not name:
        errors[B_NAME] = "Give the team a name, like Payments."
    elif len(name) > NAME_MAX:
        errors[B_NAME] = f"A team name is at most {NAME_MAX} characters ({len(name)} given)."
    source = _option(values, B_SOURCE)
    if source and source not in config.sources:
        errors[B_SOURCE] = "That data source is no longer in the config file; pick another or none."
    service = _text(values, B_SERVICE) or None
    if service and not _SERVICE.match(service):
        errors[B_SERVICE] = (
            "A service is the `service` label value of the team's metrics: letters, digits and . _ - : / "
            "(up to 63), like payments-api."
        )
    picked = _options(values, B_SIGNALS)
    signals: list[str] = []
    if picked and not source:
        errors[B_SIGNALS] = "Pick the data source these signals come from first."
    elif picked and source in config.sources:
        declared = declared_signals(config, source)
        others = [p for p in picked if not p.startswith(f"{source}:")]
        if others:
            errors[B_SIGNALS] = f"Pick signals of the chosen source ({source}) only."
        signals = [p.split(":", 1)[1] for p in picked if p.startswith(f"{source}:")]
        unknown = [s for s in signals if s not in declared]
        if unknown and B_SIGNALS not in errors:
            errors[B_SIGNALS] = f"The config file does not declare {', '.join(unknown)} for {source}."
        missing = sorted(
            {d for s in signals if s in declared and (d := declared[s].driven_by) and d not in signals}
        )
        if missing and B_SIGNALS not in errors:
            errors[B_SIGNALS] = f"A latency signal you picked is driven by {', '.join(missing)}: pick it too."
    digest = _parse_digest(values, default_zone, errors) if with_digest else None
    if errors:
        raise SetupErrors(errors)
    assert channel is not None
    team = TeamSetup(
        channel=channel,
        name=name,
        source=source,
        service=service,
        signals=tuple(signals),
        leads=_users(values, B_LEADS),
        managers=_users(values, B_MANAGERS),
    )
    return team, digest


def _parse_digest(values: Mapping[str, Any], default_zone: str, errors: dict[str, str]) -> DigestSetup:
    day = _option(values, B_DAY) or "monday"
    if day not in DAYS:
        errors[B_DAY] = "Pick a day of the week."
    time = str(_entry(values, B_TIME).get("selected_time") or "09:00")
    if not _TIME.match(time):
        errors[B_TIME] = "Pick a time like 09:00."
    zone = _text(values, B_TZ) or default_zone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors[B_TZ] = (
            f"{quoted(zone[:60])} is not a time zone; use an IANA name like Europe/Berlin or America/New_York."
        )
    return DigestSetup(
        channel=_conversation(values, B_DIGEST_CHANNEL),
        day=day,
        time=time,
        timezone=zone,
        managers=_users(values, B_DIGEST_MANAGERS),
    )
