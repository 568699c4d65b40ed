"""An in-memory search engine: exact cosine and a plain BM25 over the articles it is handed.

It proves the seam (`core.search.index.SearchIndex`): the searcher ranks with it as with
the hybrid engine, and the ranking and answer tests run on it in milliseconds, with no
store, no Chroma and no tantivy. It is given articles and their chunks directly (it does
not follow a store), and scans everything per question: a test's archive, not a newsroom's.

Its signals are the hybrid engine's: BM25 over whole articles (title and outlet included),
BM25 over chunks (title included), and the nearest chunks by meaning; hard filters are the
same `Filters`. May import records, `core.language` and `core.models`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from core.language.lexical import tokenize
from core.models import Article, Chunk, StoredArticle, StoreSummary
from core.search.query import Query
from core.search.records import Candidates, ChunkRow, Filters
from core.store import to_timestamp

TOP_K = 200  # per lexical list, as the hybrid engine
DENSE_K = 100
K1, B = 1.2, 0.75  # BM25's usual constants (tantivy's too)


@dataclass
class _Bag:
    """One BM25 document: its doc id and its terms' counts."""

    doc_id: str
    counts: Counter[str]
    length: int


class _Bm25:
    """BM25 over a list of term bags (re-scored from scratch each question)."""

    def __init__(self, bags: list[_Bag]):
        self.bags = bags
        self.average = sum(b.length for b in bags) / len(bags) if bags else 0.0
        self.df: Counter[str] = Counter(t for b in bags for t in b.counts)

    def idf(self, term: str) -> float:
        n, df = len(self.bags), self.df.get(term, 0)
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))

    def score(self, bag: _Bag, weights: dict[str, float]) -> float:
        total = 0.0
        norm = K1 * (1 - B + B * bag.length / (self.average or 1.0))
        for term, weight in weights.items():
            tf = bag.counts.get(term, 0)
            if tf:
                total += weight * self.idf(term) * tf * (K1 + 1) / (tf + norm)
        return total

    def top(self, terms: list[str], keep: Callable[[str], bool], k: int) -> list[int]:
        """Positions of the k best-scoring bags that `keep` admits (ties: first added)."""
        weights = {t: float(terms.count(t)) for t in dict.fromkeys(terms)}
        scored = [(self.score(b, weights), i) for i, b in enumerate(self.bags) if keep(b.doc_id)]
        scored = [(s, i) for s, i in scored if s > 0]
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [i for _, i in scored[:k]]


class MemoryIndex:
    """`SearchIndex` over articles held in memory (see the module docstring)."""

    def __init__(self) -> None:
        self.records: dict[str, StoredArticle] = {}
        self.rows: dict[str, list[ChunkRow]] = {}
        self._published: dict[str, int | None] = {}
        self._chunks: _Bm25 | None = None
        self._articles: _Bm25 | None = None

    def add(self, record: StoredArticle, rows: Sequence[ChunkRow]) -> None:
        """Hold an article's version and its chunks (replacing any earlier version)."""
        self.records[record.doc_id] = record
        self.rows[record.doc_id] = sorted(rows, key=lambda r: r.index)
        self._published[record.doc_id] = to_timestamp(record.published_at)
        self._chunks = self._articles = None

    def add_article(
        self, article: Article, chunks: Sequence[Chunk], vectors: np.ndarray
    ) -> StoredArticle:
        """Hold an article, its chunks and their unit vectors (one row each); its record."""
        digest = article.content_hash
        record = StoredArticle.of(article, len(chunks))
        rows = [
            ChunkRow(f"{c.doc_id}:{c.index}", c.doc_id, digest, c.index, c.start, c.end, c.text, v)
            for c, v in zip(chunks, np.asarray(vectors, dtype=np.float32), strict=True)
        ]
        self.add(record, rows)
        return record

    def remove(self, doc_id: str) -> None:
        """Forget an article."""
        self.records.pop(doc_id, None)
        self.rows.pop(doc_id, None)
        self._published.pop(doc_id, None)
        self._chunks = self._articles = None

    # -- SearchIndex -------------------------------------------------------------------

    def candidates(self, query: Query, vector: np.ndarray, terms: list[str]) -> Candidates:
        """BM25 over articles and chunks, and the nearest chunks, as three ranked lists."""
        filters = Filters(query.since, query.before, tuple(query.sources))
        admitted = {d for d, r in self.records.items() if self._admits(filters, r)}
        chunks, articles = self._indexes()
        flat = [r for d in self.records for r in self.rows[d]]
        keep = admitted.__contains__
        doc_lexical = [articles.bags[i].doc_id for i in articles.top(terms, keep, TOP_K)]
        chunk_lexical = [chunks.bags[i].doc_id for i in chunks.top(terms, keep, TOP_K)]
        dense: list[str] = []
        if flat:
            sims = np.vstack([r.vector for r in flat]) @ vector
            nearest = np.argsort(-sims, kind="stable").tolist()
            dense = [flat[i].doc_id for i in nearest if keep(flat[i].doc_id)][:DENSE_K]
        found = set(doc_lexical) | set(chunk_lexical) | set(dense)
        return Candidates(
            {
                "doc_lexical": doc_lexical,
                "chunk_lexical": list(dict.fromkeys(chunk_lexical)),
                "dense": list(dict.fromkeys(dense)),
            },
            {d: self.records[d] for d in found},
            {d: self._published[d] for d in found},
        )

    def chunks(self, doc_ids: list[str], terms: list[str]) -> dict[str, list[ChunkRow]]:
        """Every chunk of the given articles, in order, with its BM25 score for `terms`."""
        index, _ = self._indexes()
        weights = {t: float(terms.count(t)) for t in dict.fromkeys(terms)}
        bags = iter(index.bags)  # one per chunk, in the order of `self.rows`
        scored = {
            (d, r.index): index.score(next(bags), weights) for d in self.rows for r in self.rows[d]
        }
        return {
            d: [replace(r, lexical=scored[d, r.index]) for r in self.rows[d]]
            for d in doc_ids
            if d in self.rows
        }

    def idf(self, term: str) -> float:
        """Inverse document frequency of an index term over chunks."""
        return self._indexes()[0].idf(term)

    def idf_reader(self) -> Callable[[str], float]:
        """`idf` (it costs a dictionary lookup here)."""
        return self.idf

    def summary(self) -> StoreSummary:
        """Counts, the publish-date range and the outlets, most articles first."""
        records = list(self.records.values())
        dates = sorted((r.published_at or "")[:10] for r in records if r.published_at)
        outlets = Counter(r.source for r in records if r.source)
        return StoreSummary(
            len(records),
            sum(len(rows) for rows in self.rows.values()),
            dates[0] if dates else None,
            dates[-1] if dates else None,
            sorted(outlets, key=lambda name: (-outlets[name], name)),
            max((r.ingested_at for r in records), default=None) or None,
        )

    # -- inside ------------------------------------------------------------------------

    def _admits(self, filters: Filters, record: StoredArticle) -> bool:
        return filters.admits(self._published[record.doc_id], record.source, record.url)

    def _indexes(self) -> tuple[_Bm25, _Bm25]:
        """The chunk and article BM25 bags, in the order articles were added."""
        if self._chunks is None or self._articles is None:
            chunk_bags, article_bags = [], []
            for doc_id, record in self.records.items():
                article_terms = tokenize(f"{record.title}\n{record.source}")
                for row in self.rows[doc_id]:
                    terms = tokenize(f"{record.title}\n{row.text}")
                    article_terms += terms
                    chunk_bags.append(_Bag(doc_id, Counter(terms), len(terms)))
                article_bags.append(_Bag(doc_id, Counter(article_terms), len(article_terms)))
            self._chunks, self._articles = _Bm25(chunk_bags), _Bm25(article_bags)
        return self._chunks, self._articles
