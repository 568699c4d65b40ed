"""The local index: a tantivy replica of the store's committed articles, on this host's disk.

Chroma holds the chunks, their vectors and the manifest; it has no lexical index in local
mode, and reading the whole archive back out of it per process does not scale. So every
host keeps this replica: BM25 over chunks and over whole articles, the chunks' texts,
offsets and vectors, and the articles' metadata. It follows the store's change log
(`core.store.chroma`): applying a log record costs what that record changed, a restart opens
the replica from disk, and a host that has none (or one built for another collection)
builds it once from the store.

The replica never decides what is committed: for every article a log record names, it
asks the manifest which version is live and indexes exactly that version (or removes the
article). A record whose write has not committed yet stays *pending* and is looked at
again on the next sync, until it commits or is abandoned. Applying is idempotent, so a
crash between the two index commits or before `state.json` is written only means some
records are applied twice.

Layout: `<INDEX_PATH>/<collection id>/{chunks,articles}/` (two tantivy indexes, so that
each keeps its own BM25 length statistics) and `state.json` (the log position applied,
the pending records, and what the indexes should hold). `<collection id>.lock` beside the
folder is held by whoever writes the replica, or replaces it with one rebuilt aside.

The store is the truth, and the replica only a copy of it: a replica whose files or state
cannot be read, whose counts are not the ones its state records, or that has applied log
records the store's log does not hold is *damaged* (`IndexDamagedError`), and its owner
(`core.search.archive`) rebuilds it from the store.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from copy import deepcopy
from pathlib import Path
from typing import Any

from core.errors import StaleReaderError
from core.models import StoredArticle, StoreSummary
from core.search.replica_state import (
    IndexDamagedError,
    IndexUnwritableError,
    Pending,
    State,
    failed_write,
    folder_lock,
    outdated,
    reason,
    unsettled,
)
from core.search.tantivy_index import TantivyIndex, reading
from core.store import ArchiveStore, Change, ChunkHit, pack_version

log = logging.getLogger(__name__)

_APPLY_BATCH = 200  # articles fetched from the store per call


class LocalIndex(TantivyIndex):
    """The replica of one collection in one folder: a `TantivyIndex` that follows the store.

    Args:
        folder: `<INDEX_PATH>/<collection id>`; created when missing.
        collection: The Chroma collection id it replicates.
        dim: The embedding dimension.
        shared: Writers take the folder's lock (`folder_lock`); False for a replica built
            aside, under the lock of the folder it replaces.

    Raises:
        IndexDamagedError: its state or its index files cannot be read.
        IndexUnwritableError: its folder cannot be created.
    """

    def __init__(self, folder: Path, collection: str, dim: int, shared: bool = True):
        # A replica is one folder per collection id: a recreated collection gets a new one.
        self.shared = shared
        self.state_path = folder / "state.json"
        super().__init__(folder, dim, open_files=False)
        state = State.load(self.state_path)
        self._open_indexes()
        self.state = state or State(collection=collection)
        self.fresh = state is None  # nothing applied yet: it must be built from the store
        self._summary: tuple[int, tuple[str | None, str | None]] | None = None

    @property
    def seq(self) -> int:
        """The log position this replica has applied."""
        return self.state.seq

    @property
    def epoch(self) -> int:
        """How many times the replica was updated (chunks carry the update that added them)."""
        return self.state.epoch

    # -- keeping up --------------------------------------------------------------------------

    def reload(self) -> bool:
        """See what another process applied; True when the replica moved on.

        Raises:
            IndexDamagedError: its state can no longer be read.
        """
        state = State.load(self.state_path)
        if state is None:
            raise IndexDamagedError("has lost its state.json")
        if (state.epoch, state.build) == (self.state.epoch, self.state.build):
            return False
        self._adopt(state)
        return True

    def _adopt(self, state: State) -> None:
        """Take another process's state, and reopen the indexes when it rebuilt them."""
        if state.build != self.state.build:
            self._open_indexes()
        self.state = state
        self._reload_own()

    def build(
        self,
        store: ArchiveStore,
        progress: Callable[[int], None] | None = None,
        after_epoch: int = 0,
    ) -> int:
        """Index every committed article of the store (a new host, or a replica that was lost).

        Args:
            store: The store.
            progress: Called with the count of articles indexed so far.
            after_epoch: The epoch of the replica this one replaces (its chunks carry a
                later one, so that readers of the old one see them as new).

        Returns:
            How many articles were indexed.

        Raises:
            IndexUnwritableError: the index could not be written.
        """
        head = store.head()
        done = 0
        with self._writers() as (chunks, articles):
            epoch = max(self.state.epoch, after_epoch) + 1
            chunks.delete_all_documents()
            articles.delete_all_documents()
            # Writes that may still commit while the manifest is read are looked at again.
            since = store.in_flight_since(head)
            start = store.record(since)
            state = State(collection=self.state.collection, seq=since, epoch=epoch)
            state.build = uuid.uuid4().hex
            state.mark = start.mark if start is not None else ""
            batch: list[StoredArticle] = []
            for record in store.iter_articles():
                batch.append(record)
                if len(batch) >= _APPLY_BATCH:
                    done += self._build_batch(store, batch, chunks, articles, state)
                    batch = []
                    if progress:
                        progress(done)
            done += self._build_batch(store, batch, chunks, articles, state)
            if progress:
                progress(done)  # every article read, before the commit
            self._commit(chunks, articles, state)
        self.fresh = False
        self._reload_own()
        return done

    def _build_batch(
        self,
        store: ArchiveStore,
        batch: list[StoredArticle],
        chunks: Any,
        articles: Any,
        state: State,
    ) -> int:
        indexed = self._index(store, batch, chunks, articles, state.epoch, {})
        state.widen(indexed)
        return len(indexed)

    def apply(self, store: ArchiveStore, changes: list[Change], now: float | None = None) -> int:
        """Bring the articles named by `changes` (and pending ones) to their committed state.

        Returns:
            How many articles were (re)indexed or removed.

        Raises:
            IndexDamagedError: the replica (its state) cannot be read.
            IndexUnwritableError: it could not be written; it is as it was before.
        """
        now = now or time.time()
        with self._writers() as (chunks, articles):
            state = deepcopy(self.state)  # as the last writer left it; ours once committed
            state.epoch += 1
            pending = dict(state.pending)
            for entry in pending.values():
                entry.stale = False
            for change in changes:
                for doc_id, wanted in change.target.items():
                    pending[doc_id] = Pending(
                        change.seq, change.at, change.writer, pack_version(wanted)
                    )
            live = store.manifest(pending)
            mine = self.articles(pending)
            gone, indexed = self._index_changed(
                store, live, mine, pending, chunks, articles, state.epoch
            )
            state.narrow(gone)
            state.widen(indexed)
            state.pending = unsettled(pending, live, now)
            if changes and changes[-1].seq > state.seq:
                state.seq, state.mark = changes[-1].seq, changes[-1].mark
            self._commit(chunks, articles, state)
        self._reload_own()
        return len(indexed) + len([g for g in gone if g.doc_id not in live])

    def _index_changed(
        self,
        store: ArchiveStore,
        live: dict[str, StoredArticle],
        mine: dict[str, StoredArticle],
        pending: dict[str, Pending],
        chunks: Any,
        articles: Any,
        epoch: int,
    ) -> tuple[list[StoredArticle], list[StoredArticle]]:
        """Remove what the manifest no longer holds, index what it holds anew; returns the
        records removed or replaced, and the records indexed."""
        removed = [d for d in pending if d not in live and d in mine]
        for doc_id in removed:
            chunks.delete_documents_by_term("doc_id", doc_id)
            articles.delete_documents_by_term("doc_id", doc_id)
        stale = [live[d] for d in pending if d in live and outdated(mine.get(d), live[d])]
        for record in stale:
            if not store.sees_vectors(record):  # re-embedded by another process: wait for
                pending[record.doc_id].stale = True  # it to apply them, or a new client
        stale = [r for r in stale if not pending[r.doc_id].stale]
        indexed: list[StoredArticle] = []
        for begin in range(0, len(stale), _APPLY_BATCH):
            batch = stale[begin : begin + _APPLY_BATCH]
            indexed += self._index(store, batch, chunks, articles, epoch, pending)
        done = {r.doc_id for r in indexed}
        gone = [mine[d] for d in removed] + [mine[d] for d in done if d in mine]
        return gone, indexed

    def _index(
        self,
        store: ArchiveStore,
        batch: list[StoredArticle],
        chunks: Any,
        articles: Any,
        epoch: int,
        pending: dict[str, Pending],
    ) -> list[StoredArticle]:
        """Index a batch of committed versions; returns those indexed. A version this
        process cannot read yet (an embedded client opened before it was written) is
        marked and left for later."""
        if not batch:
            return []
        try:
            hits = store.chunks_of(batch)
        except StaleReaderError:
            if len(batch) == 1:
                if batch[0].doc_id in pending:
                    pending[batch[0].doc_id].stale = True
                return []
            return [
                r for a in batch for r in self._index(store, [a], chunks, articles, epoch, pending)
            ]
        by_doc: dict[str, list[ChunkHit]] = {}
        for hit in hits:
            by_doc.setdefault(hit.doc_id, []).append(hit)
        done = []
        for record in batch:
            rows = sorted(by_doc.get(record.doc_id, []), key=lambda h: h.index)
            if len(rows) != record.n_chunks:
                continue  # superseded while we read it: the next record for it says so
            chunks.delete_documents_by_term("doc_id", record.doc_id)
            articles.delete_documents_by_term("doc_id", record.doc_id)
            self.add(record, rows, chunks, articles, epoch)
            done.append(record)
        return done

    @contextmanager
    def _writers(self) -> Iterator[tuple[Any, Any]]:
        """Both indexes' writers, under the folder's lock (one process at a time, across
        processes), with the state the last writer left; dropped after."""
        with folder_lock(self.folder) if self.shared else nullcontext():
            if self.shared:
                state = State.load(self.state_path)
                if state is None and not self.fresh:
                    raise IndexDamagedError("has lost its state.json")
                if state is not None:
                    self._adopt(state)
            chunks, articles = self._open_writers()
            try:
                yield chunks, articles
            except BaseException as exc:
                for writer in (chunks, articles):
                    with suppress(ValueError):
                        writer.rollback()
                if isinstance(exc, ValueError) and failed_write(exc):
                    raise IndexUnwritableError(f"cannot be written ({reason(exc)})") from exc
                raise
            finally:
                for writer in (chunks, articles):
                    with suppress(ValueError):
                        writer.wait_merging_threads()

    def _commit(self, chunks: Any, articles: Any, state: State) -> None:
        """Commit both indexes, then the state that says what they hold.

        Raises:
            IndexUnwritableError: a write failed (disk full, read-only…).
        """
        try:
            chunks.commit()
            articles.commit()
            self._reload_own()
            state.counts = self.counts()
            state.save(self.state_path)
        except (ValueError, OSError) as exc:
            raise IndexUnwritableError(f"cannot be written ({reason(exc)})") from exc
        self.state = state

    def _reload_own(self) -> None:
        super()._reload_own()
        self._summary = None

    @reading
    def summary(self) -> StoreSummary:
        """Article and chunk counts, the publish-date range, outlets (most articles first) and
        the last ingest, without reading the archive: counts are the indexes' own, the date
        range is read from the publish-time column once per update (a few ms per million
        articles), outlets and the last ingest are kept up to date as articles are applied."""
        articles = int(self._articles.searcher().num_docs)
        chunks = int(self._chunks.searcher().num_docs)
        state = self.state
        if self._summary is None or self._summary[0] != state.epoch:
            self._summary = (state.epoch, self.date_range())
        oldest, newest = self._summary[1]
        outlets = sorted(state.outlets, key=lambda name: (-state.outlets[name], name))
        return StoreSummary(articles, chunks, oldest, newest, outlets, state.last_ingest)
