"""THE Chroma contract: both `ingest` and the bot open the store through this module.

Two collections per name:

- `<name>` holds chunks (id `<key>:<hash>:<index>`), embedded with the recorded model,
  cosine distance, metadata `doc_id`, `content_hash`, `chunk_index`, `start`, `end`, `title`,
  `source`, `published_at`, `published_ts`, `url`, `path`.
- `<name>.articles` is the manifest: one record per article. It is the commit point.

Writing an article: (1) upsert its new chunks, (2) upsert its manifest record, (3) delete the
article's chunks of any other content hash. A chunk is live only when its `content_hash` is
the one the manifest holds for its article, so a process killed between any two steps
leaves either the old article or the new one visible, never half of one; `sweep()` removes
the leftovers. Each commit changes the collection's `generation`, which long-lived readers
poll to pick up other processes' writes.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from core.errors import ModelMismatchError, StoreUnavailableError
from core.models import Article, Chunk, StoredArticle, StoreSummary
from core.settings import Settings

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_PAGE = 2000


@dataclass(frozen=True)
class ChunkHit:
    """A chunk as the store returns it, with its metadata (and its vector when asked)."""

    id: str
    doc_id: str
    index: int
    text: str
    meta: dict[str, Any]
    embedding: np.ndarray | None = None


def article_key(doc_id: str) -> str:
    """A short, id-safe key for an article's records."""
    return hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:20]


def to_timestamp(published_at: str | None) -> int | None:
    """Epoch seconds of an ISO date or datetime (UTC when no zone is given), else None."""
    if not published_at:
        return None
    try:
        moment = datetime.fromisoformat(published_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _connect(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.server_mode:
            return chromadb.HttpClient(
                host=settings.chroma_host or "localhost",
                port=settings.chroma_port,
                settings=chroma_settings,
            )
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except Exception as exc:
        raise unavailable(settings, exc) from exc


def unavailable(settings: Settings, exc: BaseException | None = None) -> StoreUnavailableError:
    """The error for a store that cannot be reached, saying what to do."""
    if settings.server_mode:
        hint = (
            f"Cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port}. "
            f"Start it with `chroma run --path {settings.chroma_path} --port "
            f"{settings.chroma_port}`, or unset CHROMA_HOST to use the embedded store."
        )
    else:
        hint = f"Cannot open the embedded store at {settings.chroma_path}"
        hint += f" ({type(exc).__name__}: {exc})." if exc else "."
        hint += " Check the folder's permissions, or set CHROMA_PATH."
    return StoreUnavailableError(hint)


class Store:
    """The chunk collection and its manifest, for one model identity.

    Args:
        settings: Where the store is and which collection to use.
        model_name: The embedding model's identity; a collection built with another is refused.
        dim: The model's embedding dimension.
        create: Create the collections when missing (ingest); readers pass False.
        check_model: Refuse a collection built with another model identity (only the
            re-embed command passes False).
    """

    def __init__(
        self,
        settings: Settings,
        model_name: str,
        dim: int,
        create: bool = True,
        check_model: bool = True,
    ):
        self.settings = settings
        self.model_name = model_name
        self.dim = dim
        self.create = create
        self.check_model = check_model
        self._client: Any = None
        self._chunks: Any = None
        self._manifest: Any = None
        self.connect()

    # -- opening -------------------------------------------------------------------------

    def connect(self) -> None:
        """(Re)open the client and collections; in embedded mode this also drops stale state."""
        if not self.settings.server_mode:
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
        self._client = _connect(self.settings)
        self._chunks = self._manifest = None
        self._open_collections()

    def _open_collections(self) -> None:
        name = self.settings.collection
        try:
            if self.create:
                self._chunks = self._client.get_or_create_collection(
                    name,
                    metadata=self._base_metadata(),
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=None,
                )
                self._manifest = self._client.get_or_create_collection(
                    f"{name}.articles", embedding_function=None
                )
            else:
                existing = {
                    c if isinstance(c, str) else c.name for c in self._client.list_collections()
                }
                if name not in existing:
                    return
                self._chunks = self._client.get_collection(name, embedding_function=None)
                self._manifest = self._client.get_or_create_collection(
                    f"{name}.articles", embedding_function=None
                )
        except ValueError:
            raise
        except Exception as exc:
            raise unavailable(self.settings, exc) from exc
        if self.check_model:
            self._check_model()

    def _base_metadata(self) -> dict[str, Any]:
        return {"embedding_model": self.model_name, "dim": self.dim, "schema": SCHEMA_VERSION}

    def _check_model(self) -> None:
        meta = self._chunks.metadata or {}
        built_with = meta.get("embedding_model")
        if built_with and built_with != self.model_name:
            from core.embeddings import mismatch_hint

            raise ModelMismatchError(
                f"Collection '{self.settings.collection}' in {self.settings.store_label} holds "
                f"vectors of {built_with!r}, but the configured model and encoder make "
                f"{self.model_name!r}. "
                + mismatch_hint(built_with, self.model_name, self.settings.collection)
            )

    @property
    def built_with(self) -> str | None:
        """The model identity the collection records, if it exists."""
        return (
            None if self._chunks is None else (self._chunks.metadata or {}).get("embedding_model")
        )

    def record_model(self, model_name: str) -> None:
        """Record another model identity in the collection (re-embedding), and commit."""
        self.model_name = model_name
        self.bump_generation()

    @property
    def exists(self) -> bool:
        """True when the chunk collection exists (a reader may find none yet)."""
        return self._chunks is not None

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError):
            raise
        except Exception as exc:
            raise unavailable(self.settings, exc) from exc

    # -- change tracking -----------------------------------------------------------------

    def generation(self) -> str:
        """A token that changes whenever any process commits a write to this collection."""
        if self._chunks is None:
            self._open_collections()
            if self._chunks is None:
                return "absent"
        collection = self._call(
            self._client.get_collection, self.settings.collection, embedding_function=None
        )
        return str((collection.metadata or {}).get("generation", "initial"))

    def bump_generation(self) -> None:
        """Tell readers in other processes that the contents changed."""
        meta = {**self._base_metadata(), "generation": uuid.uuid4().hex}
        self._call(self._chunks.modify, metadata=meta)

    # -- writing -------------------------------------------------------------------------

    def write_articles(
        self,
        entries: list[tuple[Article, list[Chunk], np.ndarray]],
        replacing: set[str] | None = None,
    ) -> None:
        """Store several articles with three calls: chunks, one manifest commit, cleanup.

        Args:
            entries: (article, its chunks, their unit vectors) for each article.
            replacing: doc_ids that may have an earlier version whose chunks must go.
        """
        if not entries:
            return
        ids: list[str] = []
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        records: list[dict[str, Any]] = []
        centroids: list[np.ndarray] = []
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for article, chunks, vectors in entries:
            key, digest = article_key(article.doc_id), article.content_hash
            common = _article_metadata(article)
            ids += [f"{key}:{digest[:12]}:{c.index}" for c in chunks]
            texts += [c.text for c in chunks]
            metas += [
                {**common, "chunk_index": c.index, "start": c.start, "end": c.end} for c in chunks
            ]
            centroid = vectors.mean(axis=0)
            centroids.append(centroid / (np.linalg.norm(centroid) or 1.0))
            records.append(
                {
                    **common,
                    "authors": "; ".join(article.authors),
                    "n_chunks": len(chunks),
                    "ingested_at": now,
                }
            )
        all_vectors = np.concatenate([v for _, _, v in entries])
        for begin in range(0, len(ids), _PAGE):  # (1) chunks: invisible until committed
            end = begin + _PAGE
            self._call(
                self._chunks.upsert,
                ids=ids[begin:end],
                embeddings=all_vectors[begin:end],
                documents=texts[begin:end],
                metadatas=metas[begin:end],
            )
        self._call(  # (2) the commit: one manifest write for the whole batch
            self._manifest.upsert,
            ids=[article_key(a.doc_id) for a, _, _ in entries],
            embeddings=np.array(centroids),
            documents=[a.title for a, _, _ in entries],
            metadatas=records,
        )
        stale = [
            {"$and": [{"doc_id": a.doc_id}, {"content_hash": {"$ne": a.content_hash}}]}
            for a, _, _ in entries
            if a.doc_id in (replacing or set())
        ]
        for begin in range(0, len(stale), 100):  # (3) superseded versions' chunks
            part = stale[begin : begin + 100]
            self._call(self._chunks.delete, where=part[0] if len(part) == 1 else {"$or": part})

    def replace_vectors(
        self, chunk_ids: list[str], vectors: np.ndarray, centroids: dict[str, np.ndarray]
    ) -> None:
        """Overwrite stored vectors in place (re-embedding): chunks', then articles' centroids.

        Args:
            chunk_ids: Chunks to update; texts and metadata stay as they are.
            vectors: Their new unit vectors, row for row.
            centroids: doc_id -> the article's new centroid (mean of its chunks, unit length).
        """
        for begin in range(0, len(chunk_ids), _PAGE):
            end = begin + _PAGE
            self._call(self._chunks.update, ids=chunk_ids[begin:end], embeddings=vectors[begin:end])
        docs = list(centroids)
        for begin in range(0, len(docs), _PAGE):
            part = docs[begin : begin + _PAGE]
            self._call(
                self._manifest.update,
                ids=[article_key(d) for d in part],
                embeddings=np.array([centroids[d] for d in part]),
            )

    def delete_article(self, doc_id: str) -> None:
        """Remove an article: the manifest first (it disappears at once), then its chunks."""
        self._call(self._manifest.delete, ids=[article_key(doc_id)])
        self._call(self._chunks.delete, where={"doc_id": doc_id})

    def sweep(self) -> int:
        """Delete chunks that no committed article owns (left by an interrupted write).

        Returns:
            How many chunks were removed.
        """
        live = {a.doc_id: a.content_hash for a in self.articles()}
        orphans = [
            hit.id
            for hit in self.iter_chunks(include_documents=False)
            if live.get(hit.doc_id) != hit.meta.get("content_hash")
        ]
        for begin in range(0, len(orphans), _PAGE):
            self._call(self._chunks.delete, ids=orphans[begin : begin + _PAGE])
        return len(orphans)

    # -- reading -------------------------------------------------------------------------

    def articles(self) -> list[StoredArticle]:
        """Every committed article, from the manifest."""
        if self._manifest is None:
            return []
        out: list[StoredArticle] = []
        offset = 0
        while True:
            page = self._call(self._manifest.get, include=["metadatas"], limit=_PAGE, offset=offset)
            out += [_stored_article(m) for m in page["metadatas"]]
            if len(page["ids"]) < _PAGE:
                return out
            offset += _PAGE

    def iter_chunks(
        self, include_documents: bool = True, include_embeddings: bool = False
    ) -> Iterator[ChunkHit]:
        """Every chunk in the collection, live or not, page by page."""
        if self._chunks is None:
            return
        include = ["metadatas"]
        include += ["documents"] if include_documents else []
        include += ["embeddings"] if include_embeddings else []
        offset = 0
        while True:
            page = self._call(self._chunks.get, include=include, limit=_PAGE, offset=offset)
            count = len(page["ids"])
            docs = page.get("documents") or [""] * count
            vectors = page.get("embeddings")
            vectors = [None] * count if vectors is None else vectors
            for cid, meta, text, vector in zip(
                page["ids"], page["metadatas"], docs, vectors, strict=True
            ):
                yield ChunkHit(
                    cid, meta["doc_id"], int(meta["chunk_index"]), text or "", meta, vector
                )
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    def summary(self) -> StoreSummary:
        """Article and chunk counts and the publish-date range."""
        articles = self.articles()
        dates = sorted(a.published_at[:10] for a in articles if a.published_at)
        chunks = self._call(self._chunks.count) if self._chunks is not None else 0
        return StoreSummary(
            len(articles), chunks, dates[0] if dates else None, dates[-1] if dates else None
        )


def _article_metadata(article: Article) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "doc_id": article.doc_id,
        "content_hash": article.content_hash,
        "title": article.title,
        "source": article.source,
    }
    for name in ("published_at", "url", "path"):
        value = getattr(article, name)
        if value:
            meta[name] = value
    timestamp = to_timestamp(article.published_at)
    if timestamp is not None:
        meta["published_ts"] = timestamp
    return meta


def _stored_article(meta: dict[str, Any]) -> StoredArticle:
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
    )


def open_store(
    settings: Settings, model_name: str, dim: int, create: bool = True, check_model: bool = True
) -> Store:
    """Open the configured store (embedded or server) for one embedding model."""
    return Store(settings, model_name, dim, create=create, check_model=check_model)
