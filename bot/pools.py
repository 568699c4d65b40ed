"""The bot's worker pools, and one count of the work they hold: drain it, close it.

Every pool the bot runs work on (Bolt's listener pool, the answering pool, the pool for
clicks, the progress pool) counts what it accepted on one shared `Workload`, and counts it
done when it finished. Work spawned by work (a listener handing its answering to the
answering pool, an answer showing progress) is counted before its parent is done, so the
count reaches zero only when every accepted event was fully handled: that is what `drain`
waits for. `close` waits the same way, a bounded time, and then shuts every pool down;
after it nothing new is accepted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)

# Answers are CPU-bound (embedding, BM25, numpy): more of them at once than cores only
# makes each slower. Questions beyond these wait their turn in the pool's queue.
ANSWER_WORKERS = 4
CLICK_WORKERS = 2
PROGRESS_WORKERS = 4  # one question's calls wait for each other: a few questions at once
LISTENER_WORKERS = 8
CLOSE_SECONDS = 30.0  # how long a stopping bot lets answers in flight finish


class Workload:
    """How many accepted pieces of work are not finished yet, across pools."""

    def __init__(self) -> None:
        self._busy = 0
        self._changed = threading.Condition()

    def started(self) -> None:
        with self._changed:
            self._busy += 1

    def finished(self) -> None:
        with self._changed:
            self._busy -= 1
            if self._busy == 0:
                self._changed.notify_all()

    @property
    def busy(self) -> int:
        """The pieces of work accepted and not finished."""
        with self._changed:
            return self._busy

    def wait_idle(self, timeout: float) -> bool:
        """Block until no work is left (True), or `timeout` seconds passed (False)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True


class CountedPool(ThreadPoolExecutor):
    """A thread pool whose submitted work counts on a `Workload` until it is done."""

    def __init__(self, workload: Workload, workers: int, name: str):
        super().__init__(workers, thread_name_prefix=name)
        self.workload = workload

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.workload.started()
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self.workload.finished()
            raise
        future.add_done_callback(lambda _: self.workload.finished())
        return future


class Pools:
    """The pools the bot works on, and the one workload they share.

    Attributes:
        listeners: Bolt's listener pool (acks, unpacking; hands answering on at once).
        answers: Computes and posts answers.
        clicks: Clicks that must reach Slack within seconds (a 👎's trigger_id lives 3 s),
            never queued behind answers being computed.
        progress: Progress calls (`bot.progress`), off the answering threads.
    """

    def __init__(self, answer_workers: int = ANSWER_WORKERS) -> None:
        self.workload = Workload()
        self.listeners = CountedPool(self.workload, LISTENER_WORKERS, "bot-listener")
        self.answers = CountedPool(self.workload, answer_workers, "bot-answer")
        self.clicks = CountedPool(self.workload, CLICK_WORKERS, "bot-click")
        self.progress = CountedPool(self.workload, PROGRESS_WORKERS, "bot-progress")
        self.closed = False

    def later(self, work: Callable[..., object], *args: Any) -> None:
        """Run `work(*args)` on the answering pool and return at once.

        Listeners hand their answering here, so Bolt's workers are free again in
        milliseconds: a `/ask` is acknowledged only once a Bolt worker runs its listener,
        and with every worker busy answering, acks waited seconds under load.
        """
        self._submit(self.answers, "answering", work, args)

    def quickly(self, work: Callable[..., object], *args: Any) -> None:
        """As `later`, on the pool for clicks, which computes no answers."""
        self._submit(self.clicks, "handling a click", work, args)

    def drain(self, timeout: float) -> bool:
        """Wait until every accepted event was fully handled: True, or False when work was
        still going after `timeout` seconds."""
        return self.workload.wait_idle(timeout)

    def close(self, timeout: float = CLOSE_SECONDS) -> bool:
        """Let the work in flight finish (at most `timeout` seconds), then shut every pool
        down: nothing new is accepted after. True when everything finished in time."""
        drained = self.drain(timeout)
        self.closed = True
        for pool in (self.listeners, self.answers, self.clicks, self.progress):
            pool.shutdown(wait=False, cancel_futures=True)
        if not drained:
            log.warning("stopped with %d pieces of work unfinished", self.workload.busy)
        return drained

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        what: str,
        work: Callable[..., object],
        args: tuple[Any, ...],
    ) -> None:
        """Run `work(*args)` on `pool`; a failure is logged (`what` failed), never raised."""

        def run() -> None:
            try:
                work(*args)
            except Exception:
                log.exception("%s failed", what)

        if self.closed:
            log.info("the bot is stopping: not %s", what)
            return
        try:
            pool.submit(run)
        except RuntimeError:  # shut down between the check and the submit
            log.info("the bot is stopping: not %s", what)
