"""Coalescing bursts: a burst of clicks on one check becomes at most one refresh per interval.

The first request runs at once (the person who clicked sees their answer); requests that arrive while
a run is due or under way are merged into one trailing run, which reads the latest state when it starts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
_PRUNE_ABOVE = 256


@dataclass
class _Slot:
    last: float = float("-inf")
    pending: bool = False
    task: asyncio.Task[None] | None = None


class Pacer(Generic[K]):
    """Runs `work(key)` at most once per `interval` seconds per key (an interval between runs).

    `work` returns False when it could not run now (e.g. another replica holds the key's lock); the run
    is then tried again after the interval.
    """

    def __init__(
        self,
        work: Callable[[K], Awaitable[bool]],
        interval: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.work, self.interval, self._monotonic = work, interval, monotonic
        self._slots: dict[K, _Slot] = {}

    def request(self, key: K) -> asyncio.Task[None]:
        """Ask for a run; returns the task that will do it (callers need not await it)."""
        if len(self._slots) > _PRUNE_ABOVE:
            self._prune()
        slot = self._slots.setdefault(key, _Slot())
        slot.pending = True
        if slot.task is None or slot.task.done():
            slot.task = asyncio.create_task(self._drain(key, slot), name=f"pacer:{key}")
        return slot.task

    async def _drain(self, key: K, slot: _Slot) -> None:
        while slot.pending:
            wait = slot.last + self.interval - self._monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            slot.pending = False
            try:
                done = await self.work(key)
            except Exception:
                log.exception("paced work failed", extra={"key": str(key)})
                done = True
            # Measured from the end of a run, so the last call of one run and the first of the next
            # are an interval apart however long a run takes.
            slot.last = self._monotonic()
            if not done:
                slot.pending = True

    def _prune(self) -> None:
        idle_before = self._monotonic() - self.interval
        for key in [
            k for k, s in self._slots.items() if (s.task is None or s.task.done()) and s.last < idle_before
        ]:
            del self._slots[key]

    async def idle(self) -> None:
        """Wait until every requested run has happened (tests and shutdown)."""
        while tasks := [s.task for s in self._slots.values() if s.task is not None and not s.task.done()]:
            await asyncio.gather(*tasks, return_exceptions=True)
