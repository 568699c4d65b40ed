"""An in-memory `ArchiveStore`, for fast tests of the write side and of what reads a store.

Owns: `MemoryArchive` (what one store location holds: every collection by name, shared by
every store opened on it, as a Chroma folder is shared by its clients) and `MemoryStore`
(one view of it, for one model identity). It keeps the same protocol as the Chroma store:
the log record written first, the commit in the manifest, superseded chunks deleted after,
the same ids, the same model guard and the same sweep rules (`core.store.sweep.leftovers`).
`tests/test_store_contract.py` runs the same tests against it and real Chroma.
May import: `core.models`, `core.sections`, `core.store.base`, and the pure parts of the
Chroma store's modules (records, log records, the sweep's rules, metadata conversions).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from core.errors import StoreUnavailableError
from core.models import Article, Chunk, StoredArticle, StoreSummary
from core.sections import StoreSettings
from core.store.base import ArchiveStore
from core.store.changelog import change_document, in_flight_since, parse_change
from core.store.client import model_mismatch
from core.store.reads import stored_article
from core.store.records import (
    Change,
    ChunkHit,
    DenseHit,
    Version,
    centroid,
    chunk_ids,
    version_of,
    writer_id,
)
from core.store.sweep import leftovers
from core.store.writes import article_metadata


@dataclass
class _Chunk:
    hit: ChunkHit  # without its vector
    vector: np.ndarray
    dense: DenseHit  # as `nearest` returns it, but for its similarity


@dataclass
class MemoryCollection:
    """One collection's chunks, manifest and change log (log records as the log writes
    them), and the model identity it records."""

    model: str
    dim: int
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    chunks: dict[str, _Chunk] = field(default_factory=dict)
    manifest: dict[str, tuple[StoredArticle, np.ndarray]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    swept: int | None = None  # None: never swept (the first sweep checks every chunk)


class MemoryArchive:
    """What one store location holds: its collections by name (none at first)."""

    def __init__(self) -> None:
        self.collections: dict[str, MemoryCollection] = {}
        self.lock = threading.RLock()

    def open(
        self,
        settings: StoreSettings,
        model_name: str,
        dim: int,
        create: bool = True,
        check_model: bool = True,
    ) -> ArchiveStore:
        """A store over this archive, as `core.store.open_store` opens one over Chroma."""
        return MemoryStore(self, settings, model_name, dim, create=create, check_model=check_model)


class MemoryStore:
    """One view of a `MemoryArchive`'s collection, for one model identity (see
    `core.store.base.ArchiveStore` for what each method promises)."""

    def __init__(
        self,
        archive: MemoryArchive,
        settings: StoreSettings,
        model_name: str,
        dim: int,
        create: bool = True,
        check_model: bool = True,
    ):
        self.archive = archive
        self.settings = settings
        self.model_name = model_name
        self.dim = dim
        self.check_model = check_model
        with archive.lock:
            if create and settings.collection not in archive.collections:
                archive.collections[settings.collection] = MemoryCollection(model_name, dim)
            if check_model and self.exists:
                self._guard(self._collection().model)

    def _collection(self) -> MemoryCollection:
        found = self.archive.collections.get(self.settings.collection)
        if found is None:
            raise StoreUnavailableError(f"There is no collection '{self.settings.collection}'.")
        return found

    def _guard(self, built_with: str | None) -> None:
        if built_with and built_with != self.model_name:
            raise model_mismatch(self.settings, built_with, self.model_name)

    # -- lifecycle and the model guard ---------------------------------------------------

    @property
    def exists(self) -> bool:
        """True when the collection exists."""
        return self.settings.collection in self.archive.collections

    @property
    def collection_id(self) -> str:
        """The collection's id ("" when there is none)."""
        return self._collection().id if self.exists else ""

    def reopen(self) -> None:
        """Nothing to do: a memory view is always current."""

    def close(self) -> None:
        """Nothing to release."""

    def recorded_model(self) -> str | None:
        """The model identity the collection records now."""
        with self.archive.lock:
            return self._collection().model if self.exists else None

    def record_model(self, model_name: str) -> None:
        """Record another model identity (re-embedding)."""
        with self.archive.lock:
            self._collection().model = model_name

    def sees_vectors(self, article: StoredArticle) -> bool:
        """Always: a memory view reads what was last written."""
        return True

    # -- the change log ------------------------------------------------------------------

    def head(self) -> int:
        """The log's last sequence number."""
        with self.archive.lock:
            return len(self._collection().log) if self.exists else 0

    def changes(self, after: int, limit: int = 200) -> list[Change]:
        """Log records after `after`, in order, at most `limit`."""
        with self.archive.lock:
            if not self.exists:
                return []
            log = self._collection().log
            begin = max(after, 0)
            return [
                parse_change(begin + 1 + n, document)
                for n, document in enumerate(log[begin : begin + limit])
            ]

    def record(self, seq: int) -> Change | None:
        """The log record at `seq`, or None."""
        found = self.changes(seq - 1, 1) if seq > 0 else []
        return found[0] if found else None

    def in_flight_since(self, head: int, now: float | None = None) -> int:
        """See `core.store.changelog.in_flight_since`."""
        return in_flight_since(self.changes, head, now)

    def _append(
        self, target: dict[str, Version | None], replaced: dict[str, Version | None]
    ) -> int:
        log = self._collection().log
        log.append(change_document(target, replaced))
        return len(log)

    # -- writing -------------------------------------------------------------------------

    def manifest(self, doc_ids: Iterable[str]) -> dict[str, StoredArticle]:
        """The committed records of the given articles (those that exist), by doc_id."""
        with self.archive.lock:
            if not self.exists:
                return {}
            held = self._collection().manifest
            return {d: held[d][0] for d in sorted(set(doc_ids)) if d in held}

    def write_articles(
        self,
        entries: list[tuple[Article, list[Chunk], np.ndarray]],
        previous: dict[str, StoredArticle] | None = None,
    ) -> int:
        """Intent, chunks, the commit, then the superseded chunks deleted."""
        if not entries:
            return 0
        previous = previous or {}
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self.archive.lock:
            collection = self._collection()
            self._guard(collection.model)  # a re-embed may have begun since we opened
            target: dict[str, Version | None] = {}
            replaced: dict[str, Version | None] = {}
            for article, chunks, _ in entries:
                target[article.doc_id] = Version(article.content_hash, len(chunks))
                replaced[article.doc_id] = version_of(previous.get(article.doc_id))
            seq = self._append(target, replaced)  # (0)
            for article, chunks, vectors in entries:  # (1) chunks, then (2) the commit
                common = article_metadata(article)  # what Chroma would hold, read back alike
                ids = chunk_ids(article.doc_id, Version(article.content_hash, len(chunks)))
                for cid, c, vector in zip(ids, chunks, vectors, strict=True):
                    hit = ChunkHit(cid, article.doc_id, c.index, c.text, common["content_hash"])
                    dense = DenseHit(
                        cid, hit.doc_id, hit.content_hash, 0.0, common.get("published_ts")
                    )
                    collection.chunks[cid] = _Chunk(
                        replace(hit, start=c.start, end=c.end),
                        np.asarray(vector, dtype=np.float32).copy(),
                        replace(dense, source=common["source"], url=common.get("url")),
                    )
            for article, chunks, vectors in entries:
                record = {
                    **article_metadata(article),
                    "vectors": self.model_name,
                    "authors": "; ".join(article.authors),
                    "n_chunks": len(chunks),
                    "ingested_at": now,
                }
                collection.manifest[article.doc_id] = (stored_article(record), centroid(vectors))
            for doc_id, old in replaced.items():  # (3)
                if old is not None and old != target[doc_id]:
                    for cid in chunk_ids(doc_id, old):
                        collection.chunks.pop(cid, None)
            return seq

    def replace_vectors(
        self, entries: list[tuple[StoredArticle, list[str], np.ndarray]], identity: str
    ) -> int:
        """New vectors in place: intent, vectors, the commit, a second record."""
        if not entries:
            return 0
        with self.archive.lock:
            collection = self._collection()
            versions: dict[str, Version | None] = {a.doc_id: version_of(a) for a, _, _ in entries}
            self._append(versions, dict(versions))
            for _, ids, vectors in entries:
                for cid, vector in zip(ids, vectors, strict=True):
                    held = collection.chunks.get(cid)
                    if held is not None:
                        held.vector = np.asarray(vector, dtype=np.float32).copy()
            at, by = time.time(), writer_id()
            for article, _, vectors in entries:
                found = collection.manifest.get(article.doc_id)
                if found is not None:
                    record = replace(found[0], vectors=identity, vectors_at=at, vectors_by=by)
                    collection.manifest[article.doc_id] = (record, centroid(vectors))
            return self._append(versions, dict(versions))

    def delete_article(self, doc_id: str) -> bool:
        """Logged, then the manifest record, then the chunks; False when none is committed."""
        with self.archive.lock:
            old = self.manifest([doc_id]).get(doc_id)
            if old is None:
                return False
            collection = self._collection()
            version = version_of(old)
            self._append({doc_id: None}, {doc_id: version})
            del collection.manifest[doc_id]
            for cid in chunk_ids(doc_id, version) if version else []:
                collection.chunks.pop(cid, None)
            return True

    def sweep(self, now: float | None = None) -> int:
        """Delete chunks no committed article owns, by the log records since the last sweep."""
        with self.archive.lock:
            if not self.exists:
                return 0
            collection = self._collection()
            if collection.swept is None:  # as Chroma's first sweep of a collection does
                hashes = {d: r.content_hash for d, (r, _) in collection.manifest.items()}
                orphans = [
                    cid
                    for cid, c in collection.chunks.items()
                    if hashes.get(c.hit.doc_id) != c.hit.content_hash
                ]
                for cid in orphans:
                    del collection.chunks[cid]
                collection.swept = len(collection.log)
                return len(orphans)
            mark, settled, removed = collection.swept, True, 0
            for change in self.changes(collection.swept, len(collection.log)):
                live = self.manifest(change.target)
                done, ids = leftovers(change, live, now or time.time())
                settled = settled and done
                mark = change.seq if settled else mark
                for cid in dict.fromkeys(ids):
                    removed += collection.chunks.pop(cid, None) is not None
            collection.swept = mark
            return removed

    # -- reading -------------------------------------------------------------------------

    def nearest(self, vector: np.ndarray, k: int) -> list[DenseHit]:
        """The k chunks nearest to a unit vector by cosine similarity (exact), nearest first."""
        with self.archive.lock:
            if not self.exists or k <= 0:
                return []
            held = list(self._collection().chunks.values())
        if not held:
            return []
        query = np.asarray(vector, dtype=np.float32)
        matrix = np.stack([c.vector for c in held])
        norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(query) or 1.0)
        similarity = matrix @ query / np.where(norms == 0, 1.0, norms)
        order = np.argsort(-similarity, kind="stable")[:k]
        return [replace(held[i].dense, similarity=float(similarity[i])) for i in order]

    def chunks_of(self, articles: list[StoredArticle]) -> list[ChunkHit]:
        """The chunks of the given committed versions, with their texts and vectors."""
        with self.archive.lock:
            if not self.exists:
                return []
            held = self._collection().chunks
            ids = [
                cid
                for a in articles
                for cid in chunk_ids(a.doc_id, Version(a.content_hash, a.n_chunks))
            ]
            return [
                replace(held[cid].hit, embedding=held[cid].vector) for cid in ids if cid in held
            ]

    def articles(self) -> list[StoredArticle]:
        """Every committed article."""
        return list(self.iter_articles())

    def iter_articles(self) -> Iterator[StoredArticle]:
        """Every committed article (a copy of the list taken at the first step)."""
        with self.archive.lock:
            records = [r for r, _ in self._collection().manifest.values()] if self.exists else []
        yield from records

    def iter_chunks(
        self, include_documents: bool = True, include_embeddings: bool = False
    ) -> Iterator[ChunkHit]:
        """Every chunk held, live or not."""
        with self.archive.lock:
            held = list(self._collection().chunks.values()) if self.exists else []
        for chunk in held:
            yield replace(
                chunk.hit,
                text=chunk.hit.text if include_documents else "",
                embedding=chunk.vector if include_embeddings else None,
            )

    def find_article(self, *candidates: str) -> StoredArticle | None:
        """The committed article with one of these ids, URLs or file paths."""
        found = self.manifest(candidates)
        for candidate in candidates:
            if candidate in found:
                return found[candidate]
        records = self.articles()
        for key in ("url", "path"):
            for value in candidates:
                for record in records:
                    if getattr(record, key) == value:
                        return record
        return None

    def article_count(self) -> int:
        """How many articles are committed."""
        with self.archive.lock:
            return len(self._collection().manifest) if self.exists else 0

    def summary(self) -> StoreSummary:
        """Article and chunk counts and the publish-date range."""
        dates = sorted(a.published_at[:10] for a in self.iter_articles() if a.published_at)
        with self.archive.lock:
            chunks = len(self._collection().chunks) if self.exists else 0
        return StoreSummary(
            self.article_count(), chunks, dates[0] if dates else None, dates[-1] if dates else None
        )
