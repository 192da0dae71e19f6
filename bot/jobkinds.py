"""The kinds of scheduled job: each `bot/<capability>/jobs.py` registers its async job functions by name.

Stored jobs refer to their kind by that name, so a name, once used, stays. `bot.scheduler` runs them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import bot

JobFunc = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class JobKind:
    """A kind of job: `func(rt, run_time=…, **kwargs)`, and how late a run may still start."""

    name: str
    func: JobFunc
    grace: timedelta
    summary: str


JOB_KINDS: dict[str, JobKind] = {}


def job_kind(
    name: str, *, grace: timedelta = timedelta(hours=1), summary: str = ""
) -> Callable[[JobFunc], JobFunc]:
    """Register an async job function under a stable name (stored job rows refer to it by name)."""

    def register(func: JobFunc) -> JobFunc:
        JOB_KINDS[name] = JobKind(
            name, func, grace, summary or (func.__doc__ or name).strip().splitlines()[0]
        )
        return func

    return register


def load_job_kinds() -> list[Any]:
    """Import every `bot.<capability>.jobs` module so its job kinds register; returns the modules."""
    loaded = []
    for module in pkgutil.iter_modules(bot.__path__):
        if module.ispkg:
            try:
                loaded.append(importlib.import_module(f"bot.{module.name}.jobs"))
            except ModuleNotFoundError as exc:
                if exc.name != f"bot.{module.name}.jobs":
                    raise
    return loaded
