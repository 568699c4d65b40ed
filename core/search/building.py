"""Answering while a new host builds its local index: the store's own dense search meanwhile.

A host with no local index (a new machine, a new container, a lost `INDEX_PATH`) builds one
from the store before the hybrid engine can answer, which takes minutes on a large archive.
`BuildingIndex` is the hybrid engine's `SearchIndex` as the wiring hands it out: while a
build runs in the background (`build_in_background`, the bot), it answers from the store's
nearest neighbours (`DenseIndex`: meaning only, no word matching); once the build is
done, every call goes to the hybrid engine, so answers are exactly the hybrid engine's.
`ask` never builds in the background: it syncs (and builds) first, as before.
May import `core.search.archive`, `core.search.hybrid`, records, rebuild and `core.store`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from core.models import StoreSummary
from core.search.archive import LiveArchive
from core.search.hybrid import DENSE_K, DENSE_K_MAX, HybridIndex, filters_of
from core.search.index import SearchIndex
from core.search.query import Query
from core.search.rebuild import replica_name
from core.search.records import Candidates, ChunkRow
from core.search.tantivy_index import published_ts
from core.store import ArchiveStore

log = logging.getLogger(__name__)

DENSE_ONLY_IDF = 1.0  # no index of words yet: every query term weighs the same
HYBRID, DENSE = "hybrid", "dense"


class DenseIndex:
    """`SearchIndex` over the store alone: its nearest chunks, post-filtered, and the chunks
    of the candidates read from the store. No lexical signal."""

    def __init__(self, store: ArchiveStore):
        self.store = store

    def candidates(self, query: Query, vector: np.ndarray, terms: list[str]) -> Candidates:
        """The articles of the nearest live chunks that pass the question's filters."""
        filters = filters_of(query)
        k = DENSE_K_MAX if filters.active else DENSE_K  # no counts to size it by yet
        hits = [
            h
            for h in self.store.nearest(vector, k)
            if filters.admits(h.published_ts, h.source, h.url)
        ]
        records = self.store.manifest(dict.fromkeys(h.doc_id for h in hits))
        live = [
            h.doc_id
            for h in hits
            if h.doc_id in records and records[h.doc_id].content_hash == h.content_hash
        ]
        dense = list(dict.fromkeys(live))[:DENSE_K]
        return Candidates(
            {"dense": dense},
            {d: records[d] for d in dense},
            {d: published_ts(records[d].published_at) for d in dense},
        )

    def chunks(self, doc_ids: list[str], terms: list[str]) -> dict[str, list[ChunkRow]]:
        """The live chunks of the given articles, in order, read from the store."""
        records = self.store.manifest(doc_ids)
        rows: dict[str, list[ChunkRow]] = {d: [] for d in records}
        for hit in self.store.chunks_of(list(records.values())):
            if hit.embedding is None or records[hit.doc_id].content_hash != hit.content_hash:
                continue
            vector = np.asarray(hit.embedding, dtype=np.float32)
            rows[hit.doc_id].append(
                ChunkRow(
                    hit.id,
                    hit.doc_id,
                    hit.content_hash,
                    hit.index,
                    hit.start,
                    hit.end,
                    hit.text,
                    vector,
                )
            )
        return {d: sorted(group, key=lambda r: r.index) for d, group in rows.items() if group}

    def idf(self, term: str) -> float:
        """The same weight for every term (there are no word counts yet)."""
        return DENSE_ONLY_IDF

    def idf_reader(self) -> Callable[[str], float]:
        """`idf`, as a function."""
        return self.idf

    def summary(self) -> StoreSummary:
        """The count of articles alone: one count of the store. Its date range (and its
        chunk count, which nobody shows) would read the whole manifest, O(archive), while
        a build already reads it; replies leave out a range they are not given."""
        return StoreSummary(self.store.article_count(), 0, None, None)


class BuildingIndex:
    """The hybrid engine, answering from the store's dense search while this host builds its
    local index in the background.

    Args:
        full: The hybrid engine over `archive`.
        archive: The live archive whose local index is built.
    """

    def __init__(self, full: HybridIndex, archive: LiveArchive):
        self.full = full
        self.archive = archive
        self.building = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._dense_summary: StoreSummary | None = None

    def build_in_background(self) -> bool:
        """When this host holds no local index for the store yet, start building it in a
        thread and answer meanwhile from the store's dense search. Returns True if so; else
        nothing is done (the caller syncs, as `ask` does).

        Raises:
            StoreUnavailableError: the store cannot be reached.
        """
        archive = self.archive
        store = archive.open_store()
        if not store.exists or archive.local is not None or not archive.build_missing:
            return False
        folder = archive.index.folder / replica_name(archive.stores, store.collection_id)
        if (folder / "state.json").exists():
            return False  # built before: opening it is quick
        archive.mark(True)
        self.building = True
        log.info(
            "no local index on this host yet: answering from the store's dense search "
            "(by meaning only) while it is built"
        )
        self._thread = threading.Thread(target=self._build, name="index-build", daemon=True)
        self._thread.start()
        return True

    def _build(self) -> None:
        try:
            self.archive.sync()
        except Exception as exc:  # the archive's sync thread tries again every round
            if self._stopped:  # the process stops: the store was closed under the build
                return
            log.warning(
                "building the local index failed (%s); questions wait for it from now on",
                type(exc).__name__,
            )
        finally:
            self.building = False
        if self.archive.local is not None:
            log.info("local index built: answering with the full hybrid search from now on")

    def stop(self) -> None:
        """Say that the process stops (the store is about to be closed under a build that
        may still run: it then ends quietly; its copy aside is removed)."""
        self._stopped = True

    @property
    def serving(self) -> str:
        """Which search answers now: "dense" (while building) or "hybrid"."""
        return DENSE if self._dense() is not None else HYBRID

    def _dense(self) -> DenseIndex | None:
        store = self.archive.store
        if not self.building or self.archive.local is not None or store is None:
            return None
        return DenseIndex(store)

    def _engine(self) -> SearchIndex:
        return self._dense() or self.full

    def candidates(self, query: Query, vector: np.ndarray, terms: list[str]) -> Candidates:
        """The hybrid engine's candidates, or the store's nearest while building."""
        return self._engine().candidates(query, vector, terms)

    def chunks(self, doc_ids: list[str], terms: list[str]) -> dict[str, list[ChunkRow]]:
        """The articles' live chunks, from whichever search answers now."""
        return self._engine().chunks(doc_ids, terms)

    def idf(self, term: str) -> float:
        """IDF of the search that answers now."""
        return self._engine().idf(term)

    def idf_reader(self) -> Callable[[str], float]:
        """`idf` over the search that answers now, for one question."""
        return self._engine().idf_reader()

    def summary(self) -> StoreSummary:
        """What the archive holds. While building, the store's article count is read once:
        every answer asks for it, and a snapshot serves for the minutes a build takes."""
        dense = self._dense()
        if dense is None:
            return self.full.summary()
        if self._dense_summary is None:
            self._dense_summary = dense.summary()
        return self._dense_summary
