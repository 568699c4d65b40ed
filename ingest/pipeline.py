"""Items -> articles -> chunks -> embeddings -> store, idempotent by content hash.

A run costs what it is given, not what the store holds: which of its articles are already
stored is asked of the manifest in batches of their own ids, the sweep reads only the
change log written since the last one, and each commit updates this host's local index
with just the articles it wrote. Chunks of many articles are embedded together (the model
is the bottleneck and likes full batches); each batch is then committed with one manifest
write.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from core.encode.embeddings import Embedder
from core.errors import LoadError, NewsroomError, StoreUnavailableError
from core.language.text import counted, escape_controls
from core.models import Article, Chunk, StoredArticle
from core.store import ArchiveStore
from ingest.chunking import Budget, split_article
from ingest.furniture import clean_article, summary
from ingest.limits import InputTimeout, time_limit
from ingest.sources import Item

log = logging.getLogger(__name__)

EMBED_BATCH_CHUNKS = 256
LOOKUP_BATCH = 64  # articles whose stored versions are asked for in one manifest read


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
    halted: str = ""  # why the run stopped early: the store itself could not be written
    not_tried: int = 0  # inputs (and articles read but not yet written) left after a halt
    furniture: Counter[str] = field(default_factory=Counter)  # lines removed, by kind

    def line(self) -> str:
        """The summary line printed at the end of a run."""
        untried = f", {self.not_tried} not tried" if self.halted else ""
        removed = summary(self.furniture)
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.failed)} failed{untried}; {counted(self.chunks, 'chunk')} written in "
            f"{self.seconds:.1f} s" + (f"; {removed}" if removed else "")
        )


@dataclass
class _Pending:
    article: Article
    chunks: list[Chunk]
    is_update: bool


class Ingestor:
    """Runs items through extraction, chunking, embedding and the store.

    Args:
        store: The store to write (opened with `create=True`).
        embedder: The model the store is built with.
        max_chunks: Articles that would make more chunks are refused.
        after_commit: Called after each commit (the entry point updates the local index).
        input_seconds: Time limit for loading and chunking one input (None: no limit).
    """

    def __init__(
        self,
        store: ArchiveStore,
        embedder: Embedder,
        max_chunks: int = 2000,
        after_commit: Callable[[], None] | None = None,
        input_seconds: float | None = None,
    ):
        self.store = store
        self.embedder = embedder
        self.budget = Budget(hard=embedder.content_tokens)
        self.max_chunks = max_chunks
        self.after_commit = after_commit
        self.input_seconds = input_seconds
        self.report = Report()
        self._stored: dict[str, StoredArticle] = {}  # committed versions seen this run
        self._seen: dict[str, str] = {}  # doc_id -> content hash staged or stored this run
        self._staged: set[str] = set()  # doc_ids staged this run
        self._arrived: list[tuple[Article, str]] = []
        self._pending: list[_Pending] = []
        self._pending_chunks = 0
        self._removed: dict[str, Counter[str]] = {}  # furniture taken out of staged articles

    def run(self, items: Iterable[Item], on_item: Callable[[], None] | None = None) -> Report:
        """Ingest every item; failures are recorded per item and never stop the batch,
        except one: a store that cannot be written (disk full, read-only) would fail every
        later commit alike, so the rest are counted as not tried instead."""
        started = time.perf_counter()
        self.report.swept = self.store.sweep()
        for item in items:
            if self.report.halted:
                self.report.not_tried += 1
                continue
            self._take(item)
            if on_item:
                on_item()
            if len(self._arrived) >= LOOKUP_BATCH:
                self._look_up()
            if self._pending_chunks >= EMBED_BATCH_CHUNKS:
                self._flush()
        if not self.report.halted:
            self._look_up()
            self._flush()
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _take(self, item: Item) -> None:
        """Load one item within its time limit; whatever goes wrong (hashing included)
        fails that item alone."""
        with self._boundary(item.label):
            articles = []
            for loaded in item.load():
                # The one place an article's text is final: page furniture comes out here,
                # before the hash, so a re-ingest of an older store rewrites its articles.
                article, removed = clean_article(loaded)
                article.content_hash  # noqa: B018 - a lone surrogate fails here, not later
                articles.append(article)
                self._removed[article.doc_id] = removed
            self._arrived += [(article, item.label) for article in articles]

    def _look_up(self) -> None:
        """Ask the manifest for the stored versions of the articles that arrived (one read
        for the batch), then chunk and stage those that changed."""
        arrived, self._arrived = self._arrived, []
        unknown = {a.doc_id for a, _ in arrived if a.doc_id not in self._seen}
        if unknown:
            self._stored.update(self.store.manifest(unknown))
            for doc_id in unknown:
                if doc_id in self._stored:
                    self._seen[doc_id] = self._stored[doc_id].content_hash
        for article, label in arrived:
            if self._seen.get(article.doc_id) == article.content_hash:
                self.report.unchanged += 1
                self._removed.pop(article.doc_id, None)
                continue
            with self._boundary(label):
                self._stage(article, self._split(article, label), label)

    @contextmanager
    def _boundary(self, label: str) -> Iterator[None]:
        """One input's error boundary and time limit: a failure is recorded, never raised."""
        try:
            with time_limit(self.input_seconds):
                yield
        except InputTimeout:
            self._fail(
                label,
                f"{label}: took longer than {self.input_seconds:g} s; skipped "
                "(raise INPUT_TIMEOUT if it is a genuine, very large input)",
            )
        except LoadError as exc:
            self._fail(label, str(exc))
        except Exception as exc:  # a loader bug must not stop the batch either
            log.debug("unexpected error loading %s", label, exc_info=True)
            self._fail(label, f"{label}: could not be read ({type(exc).__name__})")

    def _split(self, article: Article, label: str) -> list[Chunk]:
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

    def _stage(self, article: Article, chunks: list[Chunk], label: str) -> None:
        is_update = article.doc_id in self._stored
        if article.doc_id in self._staged:
            # Two versions under one id in one run (an export that repeats a record):
            # the later replaces the earlier, and the operator is told, not left to guess
            # why the summary counts fewer articles than were given.
            log.warning(
                "%s: article %s came earlier in this run with other text; this later "
                "version replaces it",
                label,
                escape_controls(article.doc_id)[:200],
            )
        self._staged.add(article.doc_id)
        for earlier in [p for p in self._pending if p.article.doc_id == article.doc_id]:
            # The same article twice in one batch (a repeated record): the last one wins.
            self._pending.remove(earlier)
            self._pending_chunks -= len(earlier.chunks)
            is_update = earlier.is_update
        self._pending.append(_Pending(article, chunks, is_update))
        self._seen[article.doc_id] = article.content_hash
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
        previous = {
            p.article.doc_id: self._stored[p.article.doc_id] for p in pending if p.is_update
        }
        try:
            self.store.write_articles(entries, previous)
        except StoreUnavailableError as exc:
            for entry in pending:
                self._fail(entry.article.doc_id, str(exc))
            self.report.halted = str(exc)
            self.report.not_tried += len(self._arrived)
            self._arrived = []
            return
        except NewsroomError as exc:
            for entry in pending:
                self._fail(entry.article.doc_id, str(exc))
                self._seen.pop(entry.article.doc_id, None)
            return
        for entry in pending:
            self._stored[entry.article.doc_id] = _committed(entry)
            self.report.chunks += len(entry.chunks)
            self.report.furniture += self._removed.pop(entry.article.doc_id, Counter())
            self.report.words += len(entry.article.text.split())
            if entry.is_update:
                self.report.updated += 1
            else:
                self.report.added += 1
        if self.after_commit:
            self.after_commit()

    def _fail(self, label: str, reason: str) -> None:
        self.report.failed.append((label, reason))
        log.debug("failed %s: %s", label, reason)


def _committed(entry: _Pending) -> StoredArticle:
    """The version just committed, as the next write of the same article must replace it."""
    return StoredArticle.of(entry.article, len(entry.chunks))
