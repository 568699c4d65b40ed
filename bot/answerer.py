"""The bot's handle on the core: question -> Answer, over an archive that stays current.

The live archive (`core.search.archive.LiveArchive`) is the one owner of freshness: `warm()` opens
it (on a new host it builds the local index in the background, and questions are answered
from the store's dense search meanwhile: `search` says which), `start_refreshing()` starts its
sync thread, so articles committed by another process (`ingest`) become answerable within
seconds, and `close()` stops it. A bot started while the store is down keeps trying in
that thread and answers once the store is back.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable

from core.answer.compose import answer_question
from core.errors import StoreUnavailableError
from core.models import Answer
from core.search.archive import SYNC_SECONDS, LiveArchive
from core.search.building import BuildingIndex
from core.search.searcher import Searcher
from core.service import open_engine
from core.settings import Settings

log = logging.getLogger(__name__)

REFRESH_SECONDS = SYNC_SECONDS
WARM_UP_TEXT = "Who was the former defense minister, and when was he arrested?"


class ArchiveAnswerer:
    """Answers questions from the configured store.

    Args:
        settings: Store location, passages to show, question length cap.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self._archive: LiveArchive | None = None
        self._searcher: Searcher | None = None
        self._building: BuildingIndex | None = None
        self._open_lock = threading.Lock()
        self._watchers: list[weakref.WeakMethod[Callable[[LiveArchive], object]]] = []

    def __call__(self, question: str) -> Answer:
        """Answer one question.

        Raises:
            StoreUnavailableError: the store cannot be reached.
            NewsroomError: misconfiguration, e.g. a model mismatch.
        """
        searcher = self.searcher()
        archive = self.archive
        building = self._building is not None and self._building.building
        if archive is not None and archive.local is None and not building:  # not opened yet
            self.refresh()  # (no warm-up, or the store was down)
        return answer_question(
            question,
            searcher,
            k=self.settings.answer_passages,
            max_chars=self.settings.max_question_chars,
        )

    @property
    def healthy(self) -> bool | None:
        """Whether the store was reachable at the last try (None before the first)."""
        return self._archive.healthy if self._archive is not None else None

    @property
    def problem(self) -> str | None:
        """Why the bot cannot follow the store (its local index), or None; for `/healthz`."""
        return self._archive.problem if self._archive is not None else None

    @property
    def search(self) -> str | None:
        """Which search answers now, for `/healthz`: "hybrid", or "dense" while this host
        builds its local index (None: not opened yet, or an engine with no such wait)."""
        return self._building.serving if self._building is not None else None

    def searcher(self) -> Searcher:
        """The searcher (the model is loaded on first use; the store is opened by syncs)."""
        with self._open_lock:
            if self._searcher is None:
                engine, embedder = open_engine(self.settings)  # SEARCH_ENGINE's
                archive = self._archive = engine.archive
                self._building = engine.building
                self._searcher = Searcher(engine.index, embedder, archive=archive)
                for ref in self._watchers:
                    watcher = ref()
                    if watcher is not None and archive is not None:
                        archive.watch(watcher)
            return self._searcher

    def watch(self, watcher: Callable[[LiveArchive], object]) -> None:
        """Call `watcher(archive)` after each background sync of the archive (once it is
        opened; see `LiveArchive.watch`: a bound method, held weakly)."""
        with self._open_lock:
            self._watchers.append(weakref.WeakMethod(watcher))  # type: ignore[arg-type]
            archive = self._archive
        if archive is not None:
            archive.watch(watcher)

    @property
    def archive(self) -> LiveArchive | None:
        """The live archive behind the searcher (None: its engine needs none)."""
        self.searcher()
        return self._archive

    def warm(self, build_in_background: bool = False) -> None:
        """Load the model, open the store and the local index, so the first question is fast.

        Args:
            build_in_background: On a new host (no local index yet), build it in a thread
                and answer meanwhile from the store's dense search (the bot does); else
                build it here first.

        Raises:
            NewsroomError: as `__call__`; the caller decides whether that is fatal.
        """
        searcher = self.searcher()
        searcher.embedder.encode([WARM_UP_TEXT] * 4)  # torch's first call is the slow one
        building = self._building if build_in_background else None
        if building is None or not building.build_in_background():
            self.refresh(quiet=False)
        answer_question(WARM_UP_TEXT, searcher)  # loads the vector index and the replica

    def refresh(self, quiet: bool = True) -> int:
        """Catch up with the store now; how many articles changed (0 when unreachable, or
        raised when not `quiet`)."""
        archive = self.archive
        try:
            return archive.sync() if archive is not None else 0
        except StoreUnavailableError:
            if not quiet:
                raise
            return 0

    def start_refreshing(self, interval: float = REFRESH_SECONDS) -> None:
        """Keep the archive current in a background thread until `close()`."""
        archive = self.archive
        if archive is not None:
            archive.start(interval)

    def close(self) -> None:
        """Stop the background thread and release the store."""
        if self._building is not None:
            self._building.stop()
        if self._archive is not None:
            self._archive.stop()
