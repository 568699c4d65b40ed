"""Items -> articles -> chunks -> embeddings -> store, idempotent by content hash.

Chunks of many articles are embedded together (the model is the bottleneck and likes full
batches); each article is then written and committed on its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from core.embeddings import Embedder
from core.errors import LoadError, NewsroomError
from core.models import Article, Chunk
from core.store import Store
from ingest.chunking import Budget, split_article
from ingest.limits import InputTimeout, time_limit
from ingest.sources import Item

log = logging.getLogger(__name__)

EMBED_BATCH_CHUNKS = 256


@dataclass
class Report:
    """What one ingest run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0
    words: int = 0
    swept: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        """The summary line printed at the end of a run."""
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.failed)} failed; {self.chunks} chunks written in {self.seconds:.1f} s"
        )


@dataclass
class _Pending:
    article: Article
    chunks: list[Chunk]
    is_update: bool


class Ingestor:
    """Runs items through extraction, chunking, embedding and the store."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        max_chunks: int = 2000,
        input_seconds: float | None = None,
    ):
        self.store = store
        self.embedder = embedder
        self.budget = Budget(hard=embedder.content_tokens)
        self.max_chunks = max_chunks
        self.input_seconds = input_seconds
        self.known = {a.doc_id: a.content_hash for a in store.articles()}
        self.report = Report()
        self._pending: list[_Pending] = []
        self._pending_chunks = 0

    def run(self, items: Iterable[Item], on_item: Callable[[], None] | None = None) -> Report:
        """Ingest every item; failures are recorded per item and never stop the batch."""
        started = time.perf_counter()
        self.report.swept = self.store.sweep()
        for item in items:
            self._take(item)
            if on_item:
                on_item()
            if self._pending_chunks >= EMBED_BATCH_CHUNKS:
                self._flush()
        self._flush()
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _take(self, item: Item) -> None:
        """Load and chunk one item within its time limit; whatever goes wrong (hashing
        included) fails that item alone."""
        try:
            with time_limit(self.input_seconds):
                ready = [(a, self._split(a, item.label)) for a in item.load()]
        except InputTimeout:
            self._fail(
                item.label,
                f"{item.label}: took longer than {self.input_seconds:g} s; skipped "
                "(raise INPUT_TIMEOUT if it is a genuine, very large input)",
            )
            return
        except LoadError as exc:
            self._fail(item.label, str(exc))
            return
        except Exception as exc:  # a loader bug must not stop the batch either
            log.debug("unexpected error loading %s", item.label, exc_info=True)
            self._fail(item.label, f"{item.label}: could not be read ({type(exc).__name__})")
            return
        for article, chunks in ready:
            self._stage(article, chunks)

    def _split(self, article: Article, label: str) -> list[Chunk] | None:
        """The article's chunks; None when the store already holds this very version."""
        if self.known.get(article.doc_id) == article.content_hash:
            return None
        try:
            return split_article(
                article,
                self.embedder.count_tokens,
                self.embedder.token_offsets,
                self.budget,
                self.max_chunks,
            )
        except LoadError as exc:
            raise LoadError(f"{label}: {exc}") from exc

    def _stage(self, article: Article, chunks: list[Chunk] | None) -> None:
        if chunks is None:
            self.report.unchanged += 1
            return
        is_update = article.doc_id in self.known
        for earlier in [p for p in self._pending if p.article.doc_id == article.doc_id]:
            # The same article twice in one batch (a repeated record): the last one wins.
            self._pending.remove(earlier)
            self._pending_chunks -= len(earlier.chunks)
            is_update = earlier.is_update
        self._pending.append(_Pending(article, chunks, is_update))
        self.known[article.doc_id] = article.content_hash
        self._pending_chunks += len(chunks)

    def _flush(self) -> None:
        pending, self._pending, self._pending_chunks = self._pending, [], 0
        if not pending:
            return
        vectors = self.embedder.encode([c.text for p in pending for c in p.chunks])
        entries, offset = [], 0
        for entry in pending:
            count = len(entry.chunks)
            entries.append((entry.article, entry.chunks, vectors[offset : offset + count]))
            offset += count
        replacing = {p.article.doc_id for p in pending if p.is_update}
        try:
            self.store.write_articles(entries, replacing)
        except NewsroomError as exc:
            for entry in pending:
                self._fail(entry.article.doc_id, str(exc))
                self.known.pop(entry.article.doc_id, None)
            return
        for entry in pending:
            self.report.chunks += len(entry.chunks)
            self.report.words += len(entry.article.text.split())
            if entry.is_update:
                self.report.updated += 1
            else:
                self.report.added += 1
        self.store.bump_generation()

    def _fail(self, label: str, reason: str) -> None:
        self.report.failed.append((label, reason))
        log.debug("failed %s: %s", label, reason)
