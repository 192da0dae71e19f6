"""Collecting each team's sections, one provider per capability, with per-section failure isolation.

A provider is `async def section(rt, team, week, as_of) -> Section` in `bot/digest/providers/<kind>.py`;
it turns the capability's own plain function (the checklist's latest verdict, the metrics reading, the
tech-debt allocation, the pre-mortem's open mitigations) into the digest's facts. A provider that raises
or overruns its time becomes `unavailable(reason)` for that team and section only.

A provider module may also define `async def prefetch(rt, workspace_id, teams, week, as_of)`: what it
reads for every team of the workspace in a few queries, once per digest, instead of a round trip per
team. Its answer is `batched(kind)` while the teams are collected (None outside a collection, or when the
prefetch failed: the provider then reads its team alone).
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.digest.model import SECTION_KINDS, Section, SectionKind, TeamDigest, Week, unavailable
from bot.errors import UserError, new_error_id
from bot.teams import Team

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

Provider = Callable[["Runtime", Team, Week, datetime], Awaitable[Section[Any]]]
Prefetch = Callable[["Runtime", str, Sequence[Team], Week, datetime], Awaitable[Any]]

_batch: contextvars.ContextVar[dict[SectionKind, Any] | None] = contextvars.ContextVar(
    "digest_batch", default=None
)


def batched(kind: SectionKind) -> Any:
    """What `kind`'s prefetch read for the whole workspace (None: read the team alone)."""
    return (_batch.get() or {}).get(kind)


# However slow one source is, a team's section gives up after this and says so.
SECTION_TIMEOUT = 20.0
# Teams collected at once; each reads its sections concurrently (and metrics reads its signals
# concurrently, bounded per source by the metrics capability).
TEAM_CONCURRENCY = 16


def _missing(kind: SectionKind, reason: str) -> Provider:
    async def provider(rt: Runtime, team: Team, week: Week, as_of: datetime) -> Section[Any]:
        return unavailable(kind, reason)

    return provider


def default_providers() -> dict[SectionKind, Provider]:
    """Each capability's provider; a capability whose module cannot load is unavailable, not fatal."""
    providers: dict[SectionKind, Provider] = {}
    for kind in SECTION_KINDS:
        try:
            module = importlib.import_module(f"bot.digest.providers.{kind}")
        except ImportError as exc:
            log.error("digest section provider failed to load", extra={"section": kind, "error": str(exc)})
            providers[kind] = _missing(kind, f"the {kind} capability is not available in this build")
            continue
        providers[kind] = module.section
    return providers


def _prefetchers(chosen: Mapping[SectionKind, Provider]) -> dict[SectionKind, Prefetch]:
    """The prefetch of each chosen provider that is its capability's own (a test's stand-in has none)."""
    out: dict[SectionKind, Prefetch] = {}
    for kind, provider in chosen.items():
        module = importlib.import_module(getattr(provider, "__module__", "") or "builtins")
        prefetch = getattr(module, "prefetch", None)
        if prefetch is not None and getattr(module, "section", None) is provider:
            out[kind] = prefetch
    return out


async def _prefetch(
    rt: Runtime, teams: Sequence[Team], week: Week, as_of: datetime, chosen: Mapping[SectionKind, Provider]
) -> dict[SectionKind, Any]:
    if not teams:
        return {}
    workspace_id = teams[0].workspace_id
    kinds = list(_prefetchers(chosen).items())
    results = await asyncio.gather(
        *(prefetch(rt, workspace_id, teams, week, as_of) for _, prefetch in kinds), return_exceptions=True
    )
    out: dict[SectionKind, Any] = {}
    for (kind, _), result in zip(kinds, results, strict=True):
        if isinstance(result, BaseException):
            log.warning(
                "digest prefetch failed; reading team by team", extra={"section": kind}, exc_info=result
            )
            continue
        out[kind] = result
    return out


async def _one(
    rt: Runtime,
    kind: SectionKind,
    provider: Provider,
    team: Team,
    week: Week,
    as_of: datetime,
    section_seconds: float,
) -> Section[Any]:
    try:
        return await asyncio.wait_for(provider(rt, team, week, as_of), section_seconds)
    except TimeoutError:
        return unavailable(kind, f"no answer within {section_seconds:g} s")
    except UserError as exc:
        return unavailable(kind, exc.message)
    except Exception:
        error_id = new_error_id()
        log.error(
            "digest section failed",
            extra={"section": kind, "team": team.key, "workspace": team.workspace_id, "error_id": error_id},
            exc_info=True,
        )
        return unavailable(kind, f"an error on my side (error id `{error_id}`)")


async def team_digest(
    rt: Runtime,
    team: Team,
    week: Week,
    as_of: datetime,
    providers: Mapping[SectionKind, Provider],
    section_seconds: float = SECTION_TIMEOUT,
) -> TeamDigest:
    kinds = [k for k in SECTION_KINDS if k in providers]
    results = await asyncio.gather(
        *(_one(rt, k, providers[k], team, week, as_of, section_seconds) for k in kinds)
    )
    return TeamDigest(team, dict(zip(kinds, results, strict=True)))


async def collect(
    rt: Runtime,
    teams: Sequence[Team],
    week: Week,
    as_of: datetime,
    *,
    providers: Mapping[SectionKind, Provider] | None = None,
    concurrency: int = TEAM_CONCURRENCY,
    section_seconds: float = SECTION_TIMEOUT,
) -> list[TeamDigest]:
    """Every team's sections, in the order of `teams`."""
    chosen = providers if providers is not None else default_providers()
    limit = asyncio.Semaphore(concurrency)
    token = _batch.set(await _prefetch(rt, teams, week, as_of, chosen))

    async def bounded(team: Team) -> TeamDigest:
        async with limit:
            return await team_digest(rt, team, week, as_of, chosen, section_seconds)

    try:
        return list(await asyncio.gather(*(bounded(t) for t in teams)))
    finally:
        _batch.reset(token)


def unavailable_count(teams: Iterable[TeamDigest]) -> dict[SectionKind, int]:
    """How many teams each section kind could not be read for."""
    counts: dict[SectionKind, int] = {}
    for team in teams:
        for kind, section in team.sections.items():
            if section.unavailable:
                counts[kind] = counts.get(kind, 0) + 1
    return counts
