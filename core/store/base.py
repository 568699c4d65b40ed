"""The archive store seam: `ArchiveStore`, what `ingest`, the search and the bot use of a store.

A store holds three things for one collection name and one model identity: chunks (text,
offsets and a unit vector each), the manifest (one `StoredArticle` per committed article:
the commit point) and the change log (one `Change` per write). A chunk is live only while
its `content_hash` is the one the manifest holds for its article. Reads return the typed
records of `core.store.records`, never a backend's metadata.

Implementations: `core.store.chroma.ChromaStore` (embedded or server Chroma) and
`core.store.memory.MemoryStore` (for fast tests); `tests/test_store_contract.py` runs the
same tests against both.
May import: `core.models`, `core.sections`, `core.store.records`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

import numpy as np

from core.models import Article, Chunk, StoredArticle, StoreSummary
from core.sections import StoreSettings
from core.store.records import Change, ChunkHit, DenseHit


class ArchiveStore(Protocol):
    """The chunks, the manifest and the change log of one collection, for one model identity.

    Attributes:
        settings: Where it lives (for messages: `settings.label`, `settings.collection`).
        model_name: The identity of the vectors it takes and gives; a reader that follows a
            re-embedding sets it to the new one.
        dim: Their dimension.
    """

    settings: StoreSettings
    model_name: str
    dim: int

    # -- lifecycle and the model guard ---------------------------------------------------

    @property
    def exists(self) -> bool:
        """True when the collection exists (a reader may find none yet)."""
        ...

    @property
    def collection_id(self) -> str:
        """An id the collection keeps for its life ("" when none): a local index built for
        another collection of the same name is stale."""
        ...

    def reopen(self) -> None:
        """Start a new view of the store (a reader's view may not see others' writes)."""
        ...

    def close(self) -> None:
        """Release what the store holds open."""
        ...

    def recorded_model(self) -> str | None:
        """The model identity the collection records now, read afresh; None when none."""
        ...

    def record_model(self, model_name: str) -> None:
        """Record another model identity (re-embedding): writers of the old are refused."""
        ...

    def sees_vectors(self, article: StoredArticle) -> bool:
        """Whether this view reads the vectors a re-embedding gave the article."""
        ...

    # -- the change log ------------------------------------------------------------------

    def head(self) -> int:
        """The log's last sequence number (0 when nothing was ever written)."""
        ...

    def changes(self, after: int, limit: int = 200) -> list[Change]:
        """Log records after `after`, in order, at most `limit` (stops at the first gap)."""
        ...

    def record(self, seq: int) -> Change | None:
        """The log record at `seq`, or None when the log has none there."""
        ...

    def in_flight_since(self, head: int, now: float | None = None) -> int:
        """A log position at or before every record up to `head` whose write may still
        commit."""
        ...

    # -- writing -------------------------------------------------------------------------

    def manifest(self, doc_ids: Iterable[str]) -> dict[str, StoredArticle]:
        """The committed records of the given articles (those that exist), by doc_id."""
        ...

    def write_articles(
        self,
        entries: list[tuple[Article, list[Chunk], np.ndarray]],
        previous: dict[str, StoredArticle] | None = None,
    ) -> int:
        """Commit articles with their chunks and unit vectors, replacing `previous` (their
        committed versions, from `manifest`); returns the write's log sequence number."""
        ...

    def replace_vectors(
        self, entries: list[tuple[StoredArticle, list[str], np.ndarray]], identity: str
    ) -> int:
        """Give committed articles new vectors (chunk ids in order, one vector each), of
        the identity `identity`; returns the last log sequence number."""
        ...

    def delete_article(self, doc_id: str) -> bool:
        """Remove an article; False when no such article is committed."""
        ...

    def sweep(self, now: float | None = None) -> int:
        """Delete chunks no committed article owns (left by interrupted writes); how many."""
        ...

    # -- reading -------------------------------------------------------------------------

    def nearest(self, vector: np.ndarray, k: int) -> list[DenseHit]:
        """The k chunks nearest to a unit vector, nearest first (live or not: callers check
        `content_hash` against the committed article)."""
        ...

    def chunks_of(self, articles: list[StoredArticle]) -> list[ChunkHit]:
        """The chunks of the given committed versions, with their texts and vectors."""
        ...

    def articles(self) -> list[StoredArticle]:
        """Every committed article (O(archive))."""
        ...

    def iter_articles(self) -> Iterator[StoredArticle]:
        """Every committed article, page by page."""
        ...

    def iter_chunks(
        self, include_documents: bool = True, include_embeddings: bool = False
    ) -> Iterator[ChunkHit]:
        """Every chunk held, live or not (O(archive))."""
        ...

    def find_article(self, *candidates: str) -> StoredArticle | None:
        """The committed article with one of these ids, URLs or file paths."""
        ...

    def article_count(self) -> int:
        """How many articles are committed."""
        ...

    def summary(self) -> StoreSummary:
        """Article and chunk counts and the publish-date range."""
        ...
