"""A wall-clock limit on one input, so that no page, file or server can stall a whole run.

The limit is a `SIGALRM` timer: it interrupts pure-Python loops and blocking reads alike (an
endless download, a FIFO nobody writes to). It works in the main thread only, which is where
`ingest` runs; elsewhere inputs run unbounded. A timer already set (pytest-timeout's) is
restored, minus the time spent, when the limit ends.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# After the first alarm, repeat it: code that swallows the first one (a library's broad
# `except`) is interrupted again.
_REPEAT_SECONDS = 0.25


class InputTimeout(BaseException):
    """One input ran past its limit. A BaseException, so `except Exception` cannot eat it."""


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise `InputTimeout` in the block once it has run `seconds` (None or 0: no limit)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _expire)
    outer, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT_SECONDS)
    started = time.monotonic()
    try:
        yield
    finally:
        _disarm(previous, outer, outer_interval, time.monotonic() - started)


def _expire(signum: int, frame: FrameType | None) -> None:
    raise InputTimeout


def _disarm(previous: object, outer: float, outer_interval: float, spent: float) -> None:
    """Stop our timer and give back the handler and timer that were there before."""
    while True:
        try:  # an alarm already on its way may still land here: then stop it again
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)  # type: ignore[arg-type]
            break
        except InputTimeout:
            continue
    if outer:
        signal.setitimer(signal.ITIMER_REAL, max(outer - spent, 0.001), outer_interval)
