"""The search-index seam: what `Searcher` needs from an engine, and nothing more.

`Searcher` owns the news ranking policy (rank fusion, date windows, freshness, one passage
per article); an engine only produces candidates and an article's chunks. Today's engine is
`core.search.hybrid.HybridIndex`: Chroma's HNSW index for the dense side, the local tantivy replica
(`core.search.replica`) for BM25 and the chunks' texts and vectors.

Another engine is one new class implementing `SearchIndex`. Chroma's distributed mode (Chroma
Cloud or a self-hosted cluster), for instance, has sparse BM25 vectors and a hybrid `Search`
with reciprocal rank fusion: such a class would run the whole hybrid query inside Chroma and
return its fused order as a single list (`Candidates.lists = {"fused": [...]}`, which the
searcher's fusion leaves in that order), and read chunks by their derived ids
(`core.store.chroma.chunk_ids`). It cannot be tested here: local Chroma refuses sparse indexes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from core.models import StoredArticle, StoreSummary
from core.search.query import Query
from core.search.replica import ChunkRow


@dataclass
class Candidates:
    """Ranked candidate articles from each of an engine's signals, and their records.

    Attributes:
        lists: Signal name -> doc ids, best first (e.g. "doc_lexical", "chunk_lexical",
            "dense"); the searcher fuses them by rank.
        records: The committed record of every candidate (publish date, title, source…).
    """

    lists: dict[str, list[str]] = field(default_factory=dict)
    records: dict[str, StoredArticle] = field(default_factory=dict)


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

    def summary(self) -> StoreSummary:
        """What the archive holds, for "nothing relevant" replies."""
        ...
