"""The engine behind `SearchIndex` today: Chroma's HNSW for meaning, tantivy for words.

Per question it costs a few index lookups, none of which reads the archive:

- BM25 top-200 over whole articles and over chunks (tantivy, block-max WAND), hard filters
  applied inside the index (publish time as a fast column, outlets as terms);
- the nearest chunks from Chroma's HNSW index, unfiltered, post-filtered by their metadata.
  Chroma's own `where` filter costs time linear in the archive (FACTS.md), so a filter that
  keeps a share `s` of the archive asks for `DENSE_K / s` neighbours instead, up to
  `DENSE_K_MAX`; past that the lexical side carries the filtered question. Chunks indexed
  after an embedded client opened are searched exactly from the local index (`Delta`);
- the records of the candidates, and the chunks of the top articles, from the local index.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from core.errors import NewsroomError, StoreUnavailableError
from core.models import StoreSummary
from core.search.archive import Delta, LiveArchive
from core.search.query import Query
from core.search.records import Candidates, ChunkRow, Filters
from core.search.replicator import LocalIndex
from core.search.tantivy_index import published_ts

DENSE_K = 100
DENSE_K_MAX = 1000
LEX_CHUNK_K = 200
LEX_DOC_K = 200


def filters_of(query: Query) -> Filters:
    """The hard filters of a parsed question."""
    return Filters(query.since, query.before, tuple(query.sources))


class HybridIndex:
    """`SearchIndex` over a `LiveArchive`: Chroma HNSW + the local tantivy replica."""

    def __init__(self, archive: LiveArchive):
        self.archive = archive

    def candidates(self, query: Query, vector: np.ndarray, terms: list[str]) -> Candidates:
        """BM25 over articles and chunks, and the nearest chunks, as three ranked lists."""
        return self.archive.read(lambda: self._candidates(query, vector, terms))

    def _candidates(self, query: Query, vector: np.ndarray, terms: list[str]) -> Candidates:
        with self.archive.lock.reading():
            local = self.archive.local
            if local is None:
                self._require_store()
                return Candidates()
            filters = filters_of(query)
            doc_lexical = local.search_articles(terms, filters, LEX_DOC_K)
            chunk_lexical = _first(local.search_chunks(terms, filters, LEX_CHUNK_K))
            dense = self._dense(vector, filters)
        records = local.articles([*doc_lexical, *chunk_lexical, *(d for d, _, _ in dense)])
        live_dense = [d for d, digest, _ in dense if _live(records, d, digest)]
        return Candidates(
            {
                "doc_lexical": doc_lexical,
                "chunk_lexical": chunk_lexical,
                "dense": _first(live_dense),
            },
            records,
            {d: published_ts(r.published_at) for d, r in records.items()},
        )

    def _dense(self, vector: np.ndarray, filters: Filters) -> list[tuple[str, str, float]]:
        """(doc id, content hash, similarity) of the nearest chunks that pass the filters."""
        local, store = self.archive.local, self.archive.store
        assert local is not None
        if store is None:
            raise StoreUnavailableError("The store is not open yet; try again in a moment.")
        k = DENSE_K
        if filters.active:
            share = local.count(filters) / max(local.count(Filters()), 1)
            k = DENSE_K_MAX if share <= 0 else min(DENSE_K_MAX, math.ceil(DENSE_K / share))
        try:
            nearest = store.nearest(vector, k)
        except StoreUnavailableError:
            self.archive.mark(False)  # /healthz says so until the store answers again
            raise
        self.archive.mark(True)
        hits = [
            (h.doc_id, h.content_hash, h.similarity)
            for h in nearest
            if filters.admits(h.published_ts, h.source, h.url)
        ]
        hits += _nearest_in_delta(self.archive.delta, vector, filters)
        hits.sort(key=lambda h: -h[2])
        return hits[:DENSE_K]

    def _require_store(self) -> None:
        if self.archive.index_problem is not None:  # none could be built: say so, not "empty"
            raise NewsroomError(
                f"The {self.archive.index_problem} in {self.archive.index.folder}: "
                "free space there, or set INDEX_PATH to a writable folder, then try again."
            )
        if self.archive.healthy is False:
            raise StoreUnavailableError(
                f"Cannot reach the store at {self.archive.stores.label}; I'll keep trying."
            )

    def chunks(self, doc_ids: list[str], terms: list[str]) -> dict[str, list[ChunkRow]]:
        """The live chunks of the given articles, from the local index."""
        return self.archive.read(lambda: self._chunks(doc_ids, terms))

    def _chunks(self, doc_ids: list[str], terms: list[str]) -> dict[str, list[ChunkRow]]:
        local = self.archive.local
        if local is None or not doc_ids:
            return {}
        rows = local.chunks(doc_ids, terms)
        records = local.articles(doc_ids)
        return {
            d: [r for r in group if _live(records, d, r.content_hash)] for d, group in rows.items()
        }

    def idf(self, term: str) -> float:
        """IDF over the local index's chunks."""
        if self.archive.local is None:
            return 0.0
        return self.archive.read(lambda: _local(self.archive).idf(term))

    def idf_reader(self) -> Callable[[str], float]:
        """IDF over the local index's chunks as it is now, each term once."""
        if self.archive.local is None:
            return lambda term: 0.0
        readers: dict[int, Callable[[str], float]] = {}  # a rebuild replaces the local index

        def ask(term: str) -> float:
            local = _local(self.archive)
            if id(local) not in readers:
                readers.clear()
                readers[id(local)] = local.idf_reader()
            return readers[id(local)](term)

        return lambda term: self.archive.read(lambda: ask(term))

    def summary(self) -> StoreSummary:
        """Counts and date range, from the local index (no scan of the archive)."""
        if self.archive.local is None:
            return StoreSummary(0, 0, None, None)
        return self.archive.read(lambda: _local(self.archive).summary())


def _local(archive: LiveArchive) -> LocalIndex:
    """The archive's local index, as it is now (a rebuild replaces it)."""
    assert archive.local is not None
    return archive.local


def _nearest_in_delta(
    delta: Delta, vector: np.ndarray, filters: Filters
) -> list[tuple[str, str, float]]:
    """The DENSE_K chunks of the delta nearest to the vector that pass the filters.

    Rows are tested nearest first, until DENSE_K pass, and once per article version (its
    chunks share its date and outlet): the delta holds up to `DELTA_REOPEN_CHUNKS` rows,
    and testing every row took 35 ms a question at that size, 340 ms with an outlet filter.
    """
    if not len(delta):
        return []
    sims = delta.similarities(vector)
    hits = []
    admitted: dict[tuple[str, str], bool] = {}
    for i in np.argsort(-sims, kind="stable").tolist():
        _, doc_id, digest, ts, source, url = delta.rows[i]
        if (doc_id, digest) not in admitted:
            admitted[doc_id, digest] = filters.admits(ts, source, url)
        if admitted[doc_id, digest]:
            hits.append((doc_id, digest, float(sims[i])))
            if len(hits) == DENSE_K:
                break
    return hits


def _live(records: dict, doc_id: str, digest: str) -> bool:
    record = records.get(doc_id)
    return record is not None and record.content_hash == digest


def _first(doc_ids: list[str]) -> list[str]:
    """Each doc id once, at its first (best) position."""
    return list(dict.fromkeys(doc_ids))
