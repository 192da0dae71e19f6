"""Collecting each team's sections, one provider per capability, with per-section failure isolation.

A provider is `async def section(rt, team, week, as_of) -> Section` in `bot/digest/providers/<kind>.py`;
it turns the capability's own plain function (the checklist's latest verdict, the metrics reading, the
tech-debt allocation, the pre-mortem's open mitigations) into the digest's facts. A provider that raises
or overruns its time becomes `unavailable(reason)` for that team and section only.

A provider module may also define `async def prefetch(rt, workspace_id, teams, week, as_of)`: what it
reads for every team of the workspace in a few queries, once per digest, instead of a round trip per
team. Its answer is `batched(kind)` while the teams are collected (None outside a collection, or when the
prefetch failed: the provider then reads its team alone). With a prefetch, it may define
`async def finish(rt, workspace_id, batched)` too: run once after every team is collected, to write what
the sections gathered in the batch (the metrics readings kept as the week's snapshots) in one
transaction instead of one per team.
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
Finish = Callable[["Runtime", str, Any], Awaitable[None]]

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


def _hooks(chosen: Mapping[SectionKind, Provider], name: str) -> dict[SectionKind, Any]:
    """The `name` hook (prefetch, finish) of each chosen provider that is its capability's own (a test's
    stand-in has none)."""
    out: dict[SectionKind, Any] = {}
    for kind, provider in chosen.items():
        module = importlib.import_module(getattr(provider, "__module__", "") or "builtins")
        hook = getattr(module, name, None)
        if hook is not None and getattr(module, "section", None) is provider:
            out[kind] = hook
    return out


async def _finish(
    rt: Runtime, workspace_id: str, finishers: Mapping[SectionKind, Finish], batch: Any
) -> None:
    for kind, finish in finishers.items():
        if kind not in batch:
            continue
        try:
            await finish(rt, workspace_id, batch[kind])
        except Exception:  # what was collected is still worth posting
            log.warning("digest section could not keep what it read", extra={"section": kind}, exc_info=True)


async def _prefetch(
    rt: Runtime, teams: Sequence[Team], week: Week, as_of: datetime, chosen: Mapping[SectionKind, Provider]
) -> dict[SectionKind, Any]:
    if not teams:
        return {}
    workspace_id = teams[0].workspace_id
    prefetchers: dict[SectionKind, Prefetch] = _hooks(chosen, "prefetch")
    kinds = list(prefetchers.items())
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
        async with asyncio.timeout(section_seconds):
            return await provider(rt, team, week, as_of)
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
    batch = await _prefetch(rt, teams, week, as_of, chosen)
    token = _batch.set(batch)

    async def bounded(team: Team) -> TeamDigest:
        async with limit:
            return await team_digest(rt, team, week, as_of, chosen, section_seconds)

    try:
        collected = list(await asyncio.gather(*(bounded(t) for t in teams)))
    finally:
        _batch.reset(token)
    if teams:
        await _finish(rt, teams[0].workspace_id, _hooks(chosen, "finish"), batch)
    return collected


def unavailable_count(teams: Iterable[TeamDigest]) -> dict[SectionKind, int]:
    """How many teams each section kind could not be read for."""
    counts: dict[SectionKind, int] = {}
    for team in teams:
        for kind, section in team.sections.items():
            if section.unavailable:
                counts[kind] = counts.get(kind, 0) + 1
    return counts
