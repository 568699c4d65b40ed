"""THE Chroma store: both `ingest` and the bot open the archive through `open_store`.

Three collections per name:

- `<name>` holds chunks (id `<key>:<hash12>:<index>`), embedded with the recorded model,
  cosine distance, metadata `doc_id`, `content_hash`, `chunk_index`, `start`, `end`, `title`,
  `source`, `published_at`, `published_ts`, `url`, `path`, `modified_at` (when known).
- `<name>.articles` is the manifest: one record per article. It is the commit point.
- `<name>.log` is the change log (`core.store.changelog`).

`ChromaStore` implements `core.store.base.ArchiveStore` by putting together the modules that
own each concern: the client and the model guard (`client`), the change log (`changelog`),
the write protocols (`writes`), the sweep (`sweep`) and the reads (`reads`).
May import: the modules of `core.store`, `core.models`, `core.sections`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

import core.store.reads as reads
import core.store.sweep as sweep
import core.store.writes as writes
from core.models import Article, Chunk, StoredArticle, StoreSummary
from core.sections import StoreSettings
from core.store.changelog import ChangeLog
from core.store.client import Connection
from core.store.records import Change, ChunkHit, DenseHit


class ChromaStore(Connection):
    """The chunk collection, its manifest and its change log, for one model identity: a
    `Connection` (its arguments) with the change log, the write protocols and the reads."""

    def __init__(
        self,
        settings: StoreSettings,
        model_name: str,
        dim: int,
        create: bool = True,
        check_model: bool = True,
    ):
        super().__init__(settings, model_name, dim, create=create, check_model=check_model)
        self.changelog = ChangeLog(self)

    # -- the change log ------------------------------------------------------------------

    def head(self) -> int:
        """The log's last sequence number (0 when nothing was ever written)."""
        return self.changelog.head()

    def changes(self, after: int, limit: int = 200) -> list[Change]:
        """Log records after `after`, in order, at most `limit` (stops at the first gap)."""
        return self.changelog.changes(after, limit)

    def record(self, seq: int) -> Change | None:
        """The log record at `seq`, or None when the log has none there."""
        return self.changelog.record(seq)

    def in_flight_since(self, head: int, now: float | None = None) -> int:
        """A log position at or before every record up to `head` whose write may still
        commit (`core.store.changelog.in_flight_since`)."""
        return self.changelog.in_flight_since(head, now)

    # -- writing -------------------------------------------------------------------------

    def manifest(self, doc_ids: Iterable[str]) -> dict[str, StoredArticle]:
        """The committed records of the given articles (those that exist), by doc_id."""
        return reads.manifest(self, doc_ids)

    def write_articles(
        self,
        entries: list[tuple[Article, list[Chunk], np.ndarray]],
        previous: dict[str, StoredArticle] | None = None,
    ) -> int:
        """Store several articles: intent, chunks, one commit, cleanup (`core.store.writes`)."""
        return writes.write_articles(self, self.changelog, entries, previous)

    def replace_vectors(
        self, entries: list[tuple[StoredArticle, list[str], np.ndarray]], identity: str
    ) -> int:
        """Give committed articles new vectors in place (re-embedding), logged like a write."""
        return writes.replace_vectors(self, self.changelog, entries, identity)

    def delete_article(self, doc_id: str) -> bool:
        """Remove an article (False when no such article is committed)."""
        return writes.delete_article(self, self.changelog, doc_id)

    def sweep(self, now: float | None = None) -> int:
        """Delete chunks no committed article owns; how many (`core.store.sweep`)."""
        return sweep.sweep(self, self.changelog, now)

    # -- reading -------------------------------------------------------------------------

    def nearest(self, vector: np.ndarray, k: int) -> list[DenseHit]:
        """The k chunks nearest to a unit vector by Chroma's HNSW index, nearest first.

        The index may hold chunks that are not live (superseded, or not yet committed):
        callers check `content_hash` against the committed article.
        """
        return reads.nearest(self, vector, k)

    def chunks_of(self, articles: list[StoredArticle]) -> list[ChunkHit]:
        """The chunks of the given committed versions, with their texts and vectors."""
        return reads.chunks_of(self, articles)

    def articles(self) -> list[StoredArticle]:
        """Every committed article, from the manifest (for listings; O(archive))."""
        return list(reads.iter_articles(self))

    def iter_articles(self) -> Iterator[StoredArticle]:
        """Every committed article, page by page."""
        return reads.iter_articles(self)

    def iter_chunks(
        self, include_documents: bool = True, include_embeddings: bool = False
    ) -> Iterator[ChunkHit]:
        """Every chunk in the collection, live or not, page by page (O(archive))."""
        return reads.iter_chunks(self, include_documents, include_embeddings)

    def find_article(self, *candidates: str) -> StoredArticle | None:
        """The committed article with one of these ids, URLs or file paths (`ingest --delete`)."""
        return reads.find_article(self, *candidates)

    def article_count(self) -> int:
        """How many articles are committed (one count, no read of the archive)."""
        return reads.article_count(self)

    def summary(self) -> StoreSummary:
        """Article and chunk counts and the publish-date range (reads the manifest)."""
        return reads.summary(self)


def open_store(
    settings: StoreSettings,
    model_name: str,
    dim: int,
    create: bool = True,
    check_model: bool = True,
) -> ChromaStore:
    """Open the configured store (embedded or server) for one embedding model.

    Args:
        settings: The store's section of the settings (`settings.store`).
        model_name: The encoder's identity (`Embedder.name`): the vectors it makes.
        dim: The encoder's dimension (`Embedder.dim`).
        create: Create the collections when missing (writers); readers pass False.
        check_model: Refuse a collection built with another identity (only re-embedding
            passes False).
    """
    return ChromaStore(settings, model_name, dim, create=create, check_model=check_model)
