"""Hybrid retrieval: candidates from an engine's signals, fused by rank; one passage each.

Articles are ranked first, by reciprocal rank fusion of the engine's lists (today: BM25 over
whole articles, title and outlet included; BM25 over chunks; the nearest chunks by meaning),
then nudged towards the question's date window and towards recent news. Each top article
then contributes its best passage: the chunk that best matches both ways, merged with an
adjacent chunk when that one matches too. One article, one passage.

The engine is behind `core.search.index.SearchIndex`; this module holds the ranking policy only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.encode.embeddings import Embedder, embedder_for
from core.language.lexical import tokenize
from core.models import Passage, StoredArticle, StoreSummary
from core.search.archive import LiveArchive
from core.search.index import Candidates, SearchIndex
from core.search.query import Query
from core.search.replica import ChunkRow
from core.store import to_timestamp

RRF_K = 60


@dataclass
class Weights:
    """How much each ranked list counts in the fusion (tuned on dev data, see bench/)."""

    lists: dict[str, float] = field(
        default_factory=lambda: {"doc_lexical": 1.0, "chunk_lexical": 0.5, "dense": 1.0}
    )
    soft_date_boost: float = 0.5
    recency: float = 0.3  # news: the newer of two equally relevant articles first
    recency_days: float = 30.0


@dataclass
class Ranked:
    """Search output: passages best first, and the signals the relevance floor reads."""

    passages: list[Passage]
    query_vector: np.ndarray
    query_terms: list[str]


class Searcher:
    """Ranks passages for questions over one search index.

    Args:
        index: The engine (see `core.search.index`).
        embedder: The model the store was built with.
        weights: Fusion weights.
        archive: What keeps the index current, when the caller wants it started and
            stopped with the searcher (`core.service.open_searcher` passes it).
    """

    def __init__(
        self,
        index: SearchIndex,
        embedder: Embedder,
        weights: Weights | None = None,
        archive: LiveArchive | None = None,
    ):
        self.index = index
        self._embedder = embedder
        self.weights = weights or Weights()
        self.archive = archive

    @property
    def embedder(self) -> Embedder:
        """The encoder of the store's vectors: after `ingest --reembed` in another process,
        the one the live archive now records (`LiveArchive.model_name`)."""
        archive = self.archive
        if archive is not None and archive.model_name != self._embedder.name:
            self._embedder = embedder_for(archive.model_name, self._embedder.encoder)
        return self._embedder

    def close(self) -> None:
        """Stop keeping the index current and release the store (idempotent)."""
        if self.archive is not None:
            self.archive.stop()

    def summary(self) -> StoreSummary:
        """What the archive holds (article count, date range), for "nothing found" replies."""
        return self.index.summary()

    def idf(self, term: str) -> float:
        """Inverse document frequency of an index term over chunks (high for rare names)."""
        return self.index.idf(term)

    def search(self, query: Query, k: int = 10) -> Ranked:
        """The k best passages for a query, best first.

        Each article gives its best passage first; only when fewer than k articles match
        do further passages of the same articles fill the list.
        """
        vector = self.embedder.encode_query(query.text)
        terms = tokenize(query.text)
        candidates = self.index.candidates(query, vector, terms)
        scores = self._fuse(candidates, query)
        order = sorted(scores, key=lambda d: -scores[d])[: max(k, 1)]
        rows = self.index.chunks(order, terms)
        per_doc = [
            _passages(candidates.records[d], rows[d], vector, scores[d])
            for d in order
            if rows.get(d)
        ]
        passages = [group[0] for group in per_doc]
        for depth in range(1, max((len(g) for g in per_doc), default=0)):
            if len(passages) >= k:
                break
            passages += [group[depth] for group in per_doc if len(group) > depth]
        return Ranked(passages[:k], vector, terms)

    def _fuse(self, candidates: Candidates, query: Query) -> dict[str, float]:
        """Fused article scores: weighted reciprocal ranks, then date window and freshness."""
        w = self.weights
        scores: dict[str, float] = {}
        for name, ranked in candidates.lists.items():
            weight = w.lists.get(name, 1.0)
            for rank, doc_id in enumerate(ranked):
                scores[doc_id] = scores.get(doc_id, 0.0) + weight / (RRF_K + rank + 1)
        for doc_id in list(scores):
            record = candidates.records.get(doc_id)
            if record is None:
                del scores[doc_id]
                continue
            published = to_timestamp(record.published_at)
            since = query.soft_since
            if since is not None and published is not None and published >= since:
                scores[doc_id] *= 1 + w.soft_date_boost
            scores[doc_id] *= 1 + w.recency * _freshness(published, query.now, w.recency_days)
        return scores


def _freshness(published: int | None, now: int, days: float) -> float:
    """1 for an article published at the time of asking, decaying with its age; 0 undated."""
    if published is None:
        return 0.0
    age_days = max((now - published) / 86400.0, 0.0)
    return float(np.exp(-age_days / days))


def _passages(
    article: StoredArticle, rows: list[ChunkRow], vector: np.ndarray, score: float
) -> list[Passage]:
    """An article's passages, best first: each its best free chunk, merged with an adjacent
    free chunk that matches nearly as well."""
    sims = np.vstack([r.vector for r in rows]) @ vector
    lexical = np.array([r.lexical for r in rows], dtype=np.float64)
    fused = 1 / (5 + _ranks(-sims)) + 1 / (5 + _ranks(-lexical))
    free = set(range(len(rows)))
    out: list[Passage] = []
    for best in np.argsort(-fused, kind="stable").tolist():
        if best not in free:
            continue
        chosen = [best]
        neighbours = [i for i in (best - 1, best + 1) if i in free]
        if neighbours:
            second = max(neighbours, key=lambda i: fused[i])
            if fused[second] >= 0.75 * fused[best]:
                chosen = sorted([best, second])
        free -= set(chosen)
        picked = [rows[i] for i in chosen]
        out.append(
            Passage(
                doc_id=article.doc_id,
                title=article.title,
                source=article.source,
                published_at=article.published_at,
                url=article.url,
                path=article.path,
                chunk_index=rows[best].index,
                chunk_indices=[r.index for r in picked],
                text=_merge_texts(picked),
                score=float(score) * fused[best] / fused.max(),
                similarity=float(sims[chosen].max()),
                start=picked[0].start,
                end=picked[-1].end,
                modified_at=article.modified_at,
                content_hash=article.content_hash,
            )
        )
    return out


def _merge_texts(rows: list[ChunkRow]) -> str:
    """Join adjacent chunks of one article by their offsets (they overlap by a sentence)."""
    text = rows[0].text
    end = rows[0].end
    for row in rows[1:]:
        piece = row.text
        if row.start < end:
            piece = piece[end - row.start :]
        else:
            text += " "
        text += piece
        end = row.end
    return text.strip()


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(len(values))
    return ranks
