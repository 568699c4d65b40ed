"""An in-memory view of the store's committed contents at one generation.

Built from Chroma itself (the manifest and the live chunks), it carries what the search
needs besides Chroma's dense index: chunk texts and offsets, and the BM25 indexes.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.lexical import Bm25, tokenize
from core.models import StoredArticle, StoreSummary
from core.store import Store, to_timestamp


@dataclass
class Snapshot:
    """Committed articles and their live chunks, with lexical indexes over both."""

    generation: str
    articles: list[StoredArticle]
    chunk_ids: list[str]
    chunk_doc: np.ndarray  # article row of each chunk
    chunk_index: np.ndarray
    chunk_start: np.ndarray
    chunk_end: np.ndarray
    texts: list[str]
    doc_chunks: list[list[int]]  # chunk rows of each article, in order
    chunk_bm25: Bm25
    doc_bm25: Bm25
    doc_ts: np.ndarray  # publish time (epoch s), -1 when unknown
    vectors: np.ndarray  # unit embedding of each chunk, as stored
    build_seconds: float = 0.0
    summary: StoreSummary | None = None
    row_of: dict[str, int] = field(default_factory=dict)
    doc_row: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when no article is committed."""
        return not self.articles


def build_snapshot(store: Store) -> Snapshot:
    """Read the manifest and every live chunk from the store and index them."""
    started = time.perf_counter()
    generation = store.generation()
    articles = store.articles()
    doc_row = {a.doc_id: i for i, a in enumerate(articles)}
    live_hash = {a.doc_id: a.content_hash for a in articles}
    rows: list[tuple[int, int, int, int, str, str, Any]] = []
    for hit in store.iter_chunks(include_embeddings=True):
        if live_hash.get(hit.doc_id) != hit.meta.get("content_hash"):
            continue  # an uncommitted or superseded write: not part of the store
        meta = hit.meta
        rows.append(
            (
                doc_row[hit.doc_id],
                hit.index,
                int(meta.get("start", 0)),
                int(meta.get("end", 0)),
                hit.id,
                hit.text,
                hit.embedding,
            )
        )
    rows.sort(key=lambda r: (r[0], r[1]))
    doc_chunks: list[list[int]] = [[] for _ in articles]
    for row, entry in enumerate(rows):
        doc_chunks[entry[0]].append(row)
    texts = [r[5] for r in rows]
    chunk_tokens = [tokenize(f"{articles[r[0]].title}\n{r[5]}") for r in rows]
    doc_tokens = []
    for article, chunk_rows in zip(articles, doc_chunks, strict=True):
        tokens = tokenize(f"{article.title}\n{article.source}")
        for row in chunk_rows:
            tokens.extend(chunk_tokens[row])
        doc_tokens.append(tokens)
    snapshot = Snapshot(
        generation=generation,
        articles=articles,
        chunk_ids=[r[4] for r in rows],
        chunk_doc=np.array([r[0] for r in rows], dtype=np.int32),
        chunk_index=np.array([r[1] for r in rows], dtype=np.int32),
        chunk_start=np.array([r[2] for r in rows], dtype=np.int64),
        chunk_end=np.array([r[3] for r in rows], dtype=np.int64),
        texts=texts,
        doc_chunks=doc_chunks,
        chunk_bm25=Bm25(chunk_tokens),
        doc_bm25=Bm25(doc_tokens),
        doc_ts=np.array([to_timestamp(a.published_at) or -1 for a in articles], dtype=np.int64),
        vectors=np.array([r[6] for r in rows], dtype=np.float32).reshape(len(rows), store.dim),
    )
    snapshot.row_of = {cid: i for i, cid in enumerate(snapshot.chunk_ids)}
    snapshot.doc_row = doc_row
    snapshot.summary = summarize(snapshot)
    snapshot.build_seconds = time.perf_counter() - started
    return snapshot


def summarize(snapshot: Snapshot) -> StoreSummary:
    """Article and chunk counts, the publish-date range, outlets and last ingest."""
    dates = sorted(a.published_at[:10] for a in snapshot.articles if a.published_at)
    outlets = Counter(a.source for a in snapshot.articles if a.source)
    ingested = [a.ingested_at for a in snapshot.articles if a.ingested_at]
    return StoreSummary(
        len(snapshot.articles),
        len(snapshot.chunk_ids),
        dates[0] if dates else None,
        dates[-1] if dates else None,
        outlets=[name for name, _ in outlets.most_common()],
        last_ingest=max(ingested) if ingested else None,
    )
