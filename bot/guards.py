"""The per-user rate limit: in memory, thread-safe, with a `clock` to test it over time.

Each bot process counts its own askers (what several processes share is in `bot.state`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

Clock = Callable[[], float]


class RateLimiter:
    """At most `per_minute` questions per user in any 60 seconds; 0 or less turns it off."""

    def __init__(self, per_minute: int, clock: Clock = time.monotonic):
        self.per_minute, self.clock = per_minute, clock
        self._asked: dict[str, deque[float]] = {}
        self._warned: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_time(self, user: str) -> float:
        """0 when the user may ask now (and the question is counted), else seconds to wait."""
        if self.per_minute <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            times = self._asked.setdefault(user, deque())
            while times and times[0] <= now - 60:
                times.popleft()
            if len(times) < self.per_minute:
                times.append(now)
                self._warned.pop(user, None)
                return 0.0
            return max(times[0] + 60 - now, 0.1)

    def first_refusal(self, user: str) -> bool:
        """True once per stretch of refusals, so the notice itself does not flood."""
        with self._lock:
            if user in self._warned:
                return False
            self._warned[user] = self.clock()
            return True
