"""The search-index seam: what `Searcher` needs from an engine, and nothing more.

`Searcher` owns the news ranking policy (rank fusion, date windows, freshness, one passage
per article); an engine only produces candidates and an article's chunks, as the records
of `core.search.records`. An engine is one class implementing `SearchIndex`, registered
under a name in `core.service.ENGINES` and chosen by the `SEARCH_ENGINE` setting:

- `hybrid` (`core.search.hybrid.HybridIndex`): Chroma's HNSW index for the dense side, the
  local tantivy replica (`core.search.replicator`) for BM25 and the chunks' texts and
  vectors, kept current by a `core.search.archive.LiveArchive`;
- `core.search.memory.MemoryIndex`: exact cosine and a plain BM25 over articles it is
  handed, for fast tests of the ranking and of answers.

Chroma's distributed mode (Chroma Cloud or a self-hosted cluster), for instance, has sparse
BM25 vectors and a hybrid `Search` with reciprocal rank fusion: such a class would run the
whole hybrid query inside Chroma and return its fused order as a single list
(`Candidates.lists = {"fused": [...]}`, which the searcher's fusion leaves in that order),
and read chunks by their derived ids (`core.store.chroma.chunk_ids`). It cannot be tested
here: local Chroma refuses sparse indexes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from core.models import StoreSummary
from core.search.query import Query
from core.search.records import Candidates, ChunkRow

__all__ = ["Candidates", "ChunkRow", "Freshness", "SearchIndex"]


class SearchIndex(Protocol):
    """An engine the searcher can rank with."""

    def candidates(self, query: Query, vector: np.ndarray, terms: list[str]) -> Candidates:
        """Candidate articles for a question, hard filters (`query.since`, `query.before`,
        `query.sources`) already applied."""
        ...

    def chunks(self, doc_ids: list[str], terms: list[str]) -> dict[str, list[ChunkRow]]:
        """Every live chunk of the given articles, in order, with vectors and BM25 scores."""
        ...

    def idf(self, term: str) -> float:
        """Inverse document frequency of an index term over chunks."""
        ...

    def idf_reader(self) -> Callable[[str], float]:
        """`idf` over the index as it is now, for the many lookups of one question: each
        term is computed once, from one view of the index."""
        ...

    def summary(self) -> StoreSummary:
        """What the archive holds, for "nothing relevant" replies."""
        ...


class Freshness(Protocol):
    """What keeps an engine current, when it has such a thing (the hybrid engine's
    `LiveArchive`): the searcher follows its model and stops it when closed."""

    @property
    def model_name(self) -> str:
        """The identity of the vectors questions are embedded into now."""
        ...

    def stop(self) -> None:
        """Stop keeping the index current and release what it holds (idempotent)."""
        ...
