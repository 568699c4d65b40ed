"""The write protocols: replace articles, give them new vectors, delete them.

Writing articles: (0) append their intent to the log, (1) upsert their chunks, (2) upsert
their manifest records (the commit), (3) delete the chunks of the versions they replace.
A chunk is live only when its `content_hash` is the one the manifest holds for its article,
so a process killed between any two steps leaves either the old article or the new one
visible, never half of one; the sweep (`core.store.sweep`) removes what it left behind.

Re-embedding (`ingest --reembed`) overwrites vectors in place and is logged the same way;
the manifest records say whose vectors each article holds (`vectors`).
May import: `core.models`, `core.store.client`, `core.store.changelog`, `core.store.reads`,
`core.store.records`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from core.models import Article, Chunk, StoredArticle
from core.store.changelog import ChangeLog
from core.store.client import Connection
from core.store.reads import PAGE, manifest
from core.store.records import (
    Version,
    article_key,
    centroid,
    chunk_ids,
    to_timestamp,
    version_of,
    writer_id,
)


def article_metadata(article: Article) -> dict[str, Any]:
    """What each chunk and the manifest record of an article hold about it."""
    meta: dict[str, Any] = {
        "doc_id": article.doc_id,
        "content_hash": article.content_hash,
        "title": article.title,
        "source": article.source,
    }
    for name in ("published_at", "url", "path", "modified_at"):
        value = getattr(article, name)
        if value:
            meta[name] = value
    timestamp = to_timestamp(article.published_at)
    if timestamp is not None:
        meta["published_ts"] = timestamp
    return meta


def delete_ids(conn: Connection, ids: list[str]) -> None:
    """Delete chunks by id, a page per call."""
    for begin in range(0, len(ids), PAGE):
        conn.call(conn.chunk_collection.delete, ids=ids[begin : begin + PAGE])


def write_articles(
    conn: Connection,
    changelog: ChangeLog,
    entries: list[tuple[Article, list[Chunk], np.ndarray]],
    previous: dict[str, StoredArticle] | None = None,
) -> int:
    """Store several articles with four calls: intent, chunks, one commit, cleanup.

    Args:
        entries: (article, its chunks, their unit vectors) for each article.
        previous: The committed versions these replace (from `manifest`), by doc_id.

    Returns:
        The log sequence number of this write.
    """
    if not entries:
        return 0
    previous = previous or {}
    ids: list[str] = []
    texts: list[str] = []
    metas: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    centroids: list[np.ndarray] = []
    target: dict[str, Version | None] = {}
    replaced: dict[str, Version | None] = {}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for article, chunks, vectors in entries:
        version = Version(article.content_hash, len(chunks))
        target[article.doc_id] = version
        replaced[article.doc_id] = version_of(previous.get(article.doc_id))
        ids += chunk_ids(article.doc_id, version)
        texts += [c.text for c in chunks]
        common = article_metadata(article)
        metas += [
            {**common, "chunk_index": c.index, "start": c.start, "end": c.end} for c in chunks
        ]
        centroids.append(centroid(vectors))
        records.append(
            {
                **common,
                "vectors": conn.model_name,
                "authors": "; ".join(article.authors),
                "n_chunks": len(chunks),
                "ingested_at": now,
            }
        )
    conn.guard_model(conn.recorded_model())  # a re-embed may have begun since we opened
    seq = changelog.append(target, replaced)  # (0) the intent: readers and the sweep see it
    all_vectors = np.concatenate([v for _, _, v in entries])
    for begin in range(0, len(ids), PAGE):  # (1) chunks: invisible until committed
        end = begin + PAGE
        conn.call(
            conn.chunk_collection.upsert,
            ids=ids[begin:end],
            embeddings=all_vectors[begin:end],
            documents=texts[begin:end],
            metadatas=metas[begin:end],
        )
    conn.call(  # (2) the commit: one manifest write for the whole batch
        conn.manifest_collection.upsert,
        ids=[article_key(a.doc_id) for a, _, _ in entries],
        embeddings=np.array(centroids),
        documents=[a.title for a, _, _ in entries],
        metadatas=records,
    )
    stale = [
        cid
        for doc_id, old in replaced.items()
        if old is not None and old != target[doc_id]
        for cid in chunk_ids(doc_id, old)
    ]
    delete_ids(conn, stale)  # (3) superseded versions' chunks
    return seq


def replace_vectors(
    conn: Connection,
    changelog: ChangeLog,
    entries: list[tuple[StoredArticle, list[str], np.ndarray]],
    identity: str,
) -> int:
    """Give committed articles new vectors in place (re-embedding), logged like a write.

    (0) The intent names the articles at their current versions; (1) the chunks'
    vectors are overwritten (texts and metadata stay); (2) the commit: each manifest
    record gets its new centroid and says whose vectors its chunks now hold (`vectors`,
    with when and by whom); (3) a second record names the articles again, so that a
    reader that applied the intent before the commit picks the new vectors up
    (`core.search.replicator` re-indexes an article whose `vectors` changed).

    Args:
        entries: (committed article, its chunk ids in order, their new unit vectors).
        identity: The identity of the new vectors (`core.encode.embeddings.identity`).

    Returns:
        The log sequence number of the last record.
    """
    if not entries:
        return 0
    versions: dict[str, Version | None] = {a.doc_id: version_of(a) for a, _, _ in entries}
    changelog.append(versions, dict(versions))  # (0)
    ids = [cid for _, chunk_ids_, _ in entries for cid in chunk_ids_]
    vectors = np.concatenate([v for _, _, v in entries])
    for begin in range(0, len(ids), PAGE):  # (1)
        end = begin + PAGE
        conn.call(conn.chunk_collection.update, ids=ids[begin:end], embeddings=vectors[begin:end])
    centroids = [centroid(chunk_vectors) for _, _, chunk_vectors in entries]
    stamp = {"vectors": identity, "vectors_at": time.time(), "vectors_by": writer_id()}
    conn.call(  # (2) the commit (metadata given is merged into the record's)
        conn.manifest_collection.update,
        ids=[article_key(a.doc_id) for a, _, _ in entries],
        embeddings=np.array(centroids),
        metadatas=[dict(stamp) for _ in entries],
    )
    return changelog.append(versions, dict(versions))  # (3)


def delete_article(conn: Connection, changelog: ChangeLog, doc_id: str) -> bool:
    """Remove an article: logged, then the manifest (it disappears at once), then chunks.

    Returns:
        False when no such article is committed.
    """
    old = manifest(conn, [doc_id]).get(doc_id)
    if old is None:
        return False
    version = version_of(old)
    changelog.append({doc_id: None}, {doc_id: version})
    conn.call(conn.manifest_collection.delete, ids=[article_key(doc_id)])
    delete_ids(conn, chunk_ids(doc_id, version) if version else [])
    return True
