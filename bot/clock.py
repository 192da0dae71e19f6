"""Transition only: the clocks moved to common/clock.py (storage uses them too, and storage imports
nothing from bot). Import from `common.clock`; this alias keeps branches written before the move
working until they are merged, and then goes away."""

from common.clock import Clock, FileClock, ManualClock, SystemClock

__all__ = ["Clock", "FileClock", "ManualClock", "SystemClock"]
