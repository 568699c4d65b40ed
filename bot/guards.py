"""Small in-memory guards: repeated deliveries, per-user rate limits, answered threads.

All are thread-safe (listeners run on Bolt's worker threads) and bounded in size, and all
take a `clock` so their behaviour over time is testable without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]


class SeenEvents:
    """Remembers event ids for a while, so a retried delivery is answered only once.

    Args:
        ttl: Seconds to remember an id (Slack retries within minutes).
        size: Most ids kept; the oldest are forgotten first.
    """

    def __init__(self, ttl: float = 3600.0, size: int = 10_000, clock: Clock = time.monotonic):
        self.ttl, self.size, self.clock = ttl, size, clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        """True the first time an id is offered (within `ttl`), False for repeats."""
        now = self.clock()
        with self._lock:
            while self._seen and (
                len(self._seen) >= self.size or next(iter(self._seen.values())) < now - self.ttl
            ):
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            return True


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


@dataclass(frozen=True)
class Turn:
    """The last question answered in a thread, and who asked it."""

    user: str
    question: str


class ThreadMemory:
    """Threads the bot answered in: (channel, thread ts) -> the last question asked there.

    In memory only: after a restart, follow-ups in older threads need a mention again.
    """

    def __init__(self, ttl: float = 24 * 3600.0, size: int = 5000, clock: Clock = time.monotonic):
        self.ttl, self.size, self.clock = ttl, size, clock
        self._turns: OrderedDict[tuple[str, str], tuple[float, Turn]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, channel: str, thread_ts: str, turn: Turn) -> None:
        """Record the question just answered in a thread."""
        with self._lock:
            self._turns.pop((channel, thread_ts), None)
            self._turns[(channel, thread_ts)] = (self.clock(), turn)
            while len(self._turns) > self.size:
                self._turns.popitem(last=False)

    def recall(self, channel: str, thread_ts: str) -> Turn | None:
        """The thread's last question, or None when the bot has not answered there lately."""
        with self._lock:
            entry = self._turns.get((channel, thread_ts))
            if entry is None or entry[0] < self.clock() - self.ttl:
                return None
            return entry[1]
