"""The bot's handle on the core: question -> Answer, with a searcher that stays fresh.

The searcher is opened lazily and reopened after failures, so a bot started while the
store is down (or a Chroma server that restarts) recovers by itself; a background thread
calls `Searcher.refresh()` every couple of seconds so articles committed by another
process (`ingest`) become answerable without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from core.answer import answer_question
from core.errors import StoreUnavailableError
from core.models import Answer
from core.search import Searcher
from core.service import open_searcher
from core.settings import Settings

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0
RETRY_PAUSE = 0.3
WARM_UP_TEXT = "Who was the former defense minister, and when was he arrested?"


class ArchiveAnswerer:
    """Answers questions from the configured store.

    Args:
        settings: Store location, passages to show, question length cap.
        opener: Opens a searcher (the seam tests may replace; defaults to the real one).
    """

    def __init__(self, settings: Settings, opener: Callable[[Settings], Searcher] = open_searcher):
        self.settings = settings
        self._opener = opener
        self._searcher: Searcher | None = None
        self._open_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.healthy: bool | None = None  # None until the store was first tried

    def __call__(self, question: str) -> Answer:
        """Answer one question.

        Raises:
            StoreUnavailableError: the store cannot be reached, even after one retry
                (an embedded reader can fail briefly while another process writes).
            NewsroomError: misconfiguration, e.g. a model mismatch.
        """
        try:
            return self._answer(question)
        except StoreUnavailableError:
            log.warning("store unavailable; retrying once")
            time.sleep(RETRY_PAUSE)
            return self._answer(question)

    def _answer(self, question: str) -> Answer:
        try:
            answer = answer_question(
                question,
                self.searcher(),
                k=self.settings.answer_passages,
                max_chars=self.settings.max_question_chars,
            )
        except StoreUnavailableError:
            self._mark(False)
            raise
        self._mark(True)
        return answer

    def searcher(self) -> Searcher:
        """The open searcher, opening it (model and store) on first use or after a failure."""
        with self._open_lock:
            if self._searcher is None:
                self._searcher = self._opener(self.settings)
            return self._searcher

    def warm(self) -> None:
        """Open the store and build the snapshot now, so the first question is fast.

        Raises:
            NewsroomError: as `__call__`; the caller decides whether that is fatal.
        """
        try:
            searcher = self.searcher()
            searcher.snapshot()
            searcher.embedder.encode([WARM_UP_TEXT] * 4)  # torch's first call is the slow one
        except StoreUnavailableError:
            self._mark(False)
            raise
        self._mark(True)

    def refresh(self) -> bool:
        """Pick up other processes' writes; True when the snapshot changed. Never raises."""
        try:
            changed = self.searcher().refresh()
        except StoreUnavailableError:
            self._mark(False)
            return False
        except Exception:
            log.exception("refreshing the store snapshot failed")
            return False
        self._mark(True)
        return changed

    def start_refreshing(self, interval: float = REFRESH_SECONDS) -> None:
        """Refresh in a daemon thread every `interval` seconds until `close()`."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(interval):
                self.refresh()

        self._thread = threading.Thread(target=loop, name="store-refresh", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the refresh thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _mark(self, healthy: bool) -> None:
        if healthy != self.healthy:
            if healthy:
                log.info("store reachable: %s", self.settings.store_label)
            else:
                log.warning("store unavailable: %s; will keep trying", self.settings.store_label)
        self.healthy = healthy
