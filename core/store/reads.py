"""Reads from a Chroma connection, returned as typed records (no metadata dict leaves here).

Owns: the manifest's records (`StoredArticle`), chunks (`ChunkHit`), nearest neighbours
(`DenseHit`), counts and the summary, and how a Chroma metadata dict becomes each record.
May import: `core.models`, `core.store.client`, `core.store.records`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from core.models import StoredArticle, StoreSummary
from core.store.client import Connection
from core.store.records import ChunkHit, DenseHit, Version, article_key, chunk_ids

PAGE = 2000  # records read or written per call when going through everything
ID_BATCH = 500  # ids asked for per call


def stored_article(meta: dict[str, Any]) -> StoredArticle:
    """A manifest record as the manifest's metadata holds it."""
    return StoredArticle(
        doc_id=meta["doc_id"],
        title=meta.get("title", ""),
        source=meta.get("source", ""),
        authors=meta.get("authors", ""),
        published_at=meta.get("published_at"),
        url=meta.get("url"),
        path=meta.get("path"),
        content_hash=meta["content_hash"],
        n_chunks=int(meta.get("n_chunks", 0)),
        ingested_at=meta.get("ingested_at", ""),
        vectors=meta.get("vectors", ""),
        vectors_at=float(meta.get("vectors_at", 0.0)),
        vectors_by=meta.get("vectors_by", ""),
        modified_at=meta.get("modified_at"),
    )


def chunk_hits(page: dict[str, Any]) -> list[ChunkHit]:
    """The chunks of one page of a Chroma `get`."""
    count = len(page["ids"])
    docs = page.get("documents") or [""] * count
    vectors = page.get("embeddings")
    vectors = [None] * count if vectors is None else vectors
    return [
        ChunkHit(
            cid,
            meta["doc_id"],
            int(meta["chunk_index"]),
            text or "",
            meta.get("content_hash", ""),
            int(meta.get("start", 0)),
            int(meta.get("end", 0)),
            vector,
        )
        for cid, meta, text, vector in zip(
            page["ids"], page["metadatas"], docs, vectors, strict=True
        )
    ]


def manifest(conn: Connection, doc_ids: Iterable[str]) -> dict[str, StoredArticle]:
    """The committed records of the given articles (those that exist), by doc_id."""
    if conn.manifest_collection is None:
        return {}
    keys = sorted({article_key(d) for d in doc_ids})
    out: dict[str, StoredArticle] = {}
    for begin in range(0, len(keys), ID_BATCH):
        page = conn.call(
            conn.manifest_collection.get, ids=keys[begin : begin + ID_BATCH], include=["metadatas"]
        )
        for meta in page["metadatas"]:
            record = stored_article(meta)
            out[record.doc_id] = record
    return out


def nearest(conn: Connection, vector: np.ndarray, k: int) -> list[DenseHit]:
    """The k chunks nearest to a unit vector by Chroma's HNSW index, nearest first."""
    if not conn.exists or k <= 0:
        return []
    result = conn.call(
        conn.chunk_collection.query,
        query_embeddings=np.asarray(vector, dtype=np.float32)[None, :],
        n_results=k,
        include=["metadatas", "distances"],
    )
    hits = []
    for cid, meta, distance in zip(
        result["ids"][0], result["metadatas"][0], result["distances"][0], strict=True
    ):
        if meta:
            hits.append(
                DenseHit(
                    cid,
                    meta["doc_id"],
                    meta["content_hash"],
                    1.0 - distance,
                    meta.get("published_ts"),
                    meta.get("source", ""),
                    meta.get("url"),
                )
            )
    return hits


def chunks_of(conn: Connection, articles: list[StoredArticle]) -> list[ChunkHit]:
    """The chunks of the given committed versions, with their texts and vectors."""
    ids = [
        cid for a in articles for cid in chunk_ids(a.doc_id, Version(a.content_hash, a.n_chunks))
    ]
    out: list[ChunkHit] = []
    for begin in range(0, len(ids), ID_BATCH):
        page = conn.call(
            conn.chunk_collection.get,
            ids=ids[begin : begin + ID_BATCH],
            include=["metadatas", "documents", "embeddings"],
        )
        out += chunk_hits(page)
    return out


def existing(conn: Connection, ids: list[str]) -> list[str]:
    """Those of the given chunk ids the collection holds."""
    out: list[str] = []
    for begin in range(0, len(ids), ID_BATCH):
        page = conn.call(conn.chunk_collection.get, ids=ids[begin : begin + ID_BATCH], include=[])
        out += page["ids"]
    return out


def iter_articles(conn: Connection) -> Iterator[StoredArticle]:
    """Every committed article, page by page."""
    if conn.manifest_collection is None:
        return
    offset = 0
    while True:
        page = conn.call(
            conn.manifest_collection.get, include=["metadatas"], limit=PAGE, offset=offset
        )
        yield from (stored_article(m) for m in page["metadatas"])
        if len(page["ids"]) < PAGE:
            return
        offset += PAGE


def iter_chunks(
    conn: Connection, include_documents: bool = True, include_embeddings: bool = False
) -> Iterator[ChunkHit]:
    """Every chunk in the collection, live or not, page by page (O(archive))."""
    if conn.chunk_collection is None:
        return
    include = ["metadatas"]
    include += ["documents"] if include_documents else []
    include += ["embeddings"] if include_embeddings else []
    offset = 0
    while True:
        page = conn.call(conn.chunk_collection.get, include=include, limit=PAGE, offset=offset)
        yield from chunk_hits(page)
        if len(page["ids"]) < PAGE:
            return
        offset += PAGE


def find_article(conn: Connection, *candidates: str) -> StoredArticle | None:
    """The committed article with one of these ids, URLs or file paths."""
    found = manifest(conn, candidates)
    for candidate in candidates:
        if candidate in found:
            return found[candidate]
    if conn.manifest_collection is None:  # a reader before the first write
        return None
    for key in ("url", "path"):
        for value in candidates:
            page = conn.call(
                conn.manifest_collection.get, where={key: value}, limit=1, include=["metadatas"]
            )
            if page["metadatas"]:
                return stored_article(page["metadatas"][0])
    return None


def article_count(conn: Connection) -> int:
    """How many articles are committed (one count, no read of the archive)."""
    collection = conn.manifest_collection
    return int(conn.call(collection.count)) if collection is not None else 0


def summary(conn: Connection) -> StoreSummary:
    """Article and chunk counts and the publish-date range (reads the manifest)."""
    dates = sorted(a.published_at[:10] for a in iter_articles(conn) if a.published_at)
    articles = article_count(conn)
    chunks = conn.call(conn.chunk_collection.count) if conn.chunk_collection is not None else 0
    return StoreSummary(articles, chunks, dates[0] if dates else None, dates[-1] if dates else None)
