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

import fcntl
import functools
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from copy import deepcopy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import numpy as np

from core.errors import StaleReaderError
from core.language.lexical import tokenize
from core.language.text import words
from core.models import StoredArticle, StoreSummary
from core.store import (
    ArchiveStore,
    Change,
    ChunkHit,
    abandoned,
    pack_version,
    to_timestamp,
)

log = logging.getLogger(__name__)

# Terms in at most this many chunks have their live chunks counted for IDF (`idf`).
LIVE_COUNT_UP_TO = 2_000
INDEX_SCHEMA = 2  # 2: undated articles hold UNDATED, not -1 (1969-12-31T23:59:59)
_WRITER_HEAP = 64_000_000
_LOCK_WAIT_SECONDS = 30.0
_APPLY_BATCH = 200  # articles fetched from the store per call
# An undated article's publish time: the smallest 64-bit integer, below every real date
# (0001-01-01 is -62135596800), so articles published before 1970 keep their dates.
UNDATED = -(2**63)
EARLIEST = UNDATED + 1  # the lowest bound of a date filter: every dated article is above it
_SCALE = np.dtype("<f4")  # a packed vector: its scale, then one int8 per dimension


class IndexBusyError(Exception):
    """Another process holds the replica's writer lock for longer than we wait."""


class IndexDamagedError(Exception):
    """The replica cannot be read, or is not a copy of this store: rebuild it.

    Its message completes "the local index in FOLDER …" (e.g. "has a damaged state.json").
    """


class IndexUnwritableError(Exception):
    """The replica cannot be written (disk full, read-only): it stays as it was, and
    catches up from the store's change log once it can be written again."""


P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Filters:
    """Hard filters of a question: publish-time bounds (epoch s) and outlets."""

    since: int | None = None
    before: int | None = None
    sources: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """True when anything is filtered."""
        return self.since is not None or self.before is not None or bool(self.sources)

    def admits(self, published_ts: int | None, source: str, url: str | None) -> bool:
        """The same test the index applies, for hits that come from elsewhere (Chroma)."""
        ts = UNDATED if published_ts is None else published_ts
        if self.since is not None and ts < self.since:
            return False
        if self.before is not None and not EARLIEST <= ts < self.before:
            return False
        if self.sources:
            terms = set(origin_terms(source, url))
            return any(s in terms for s in self.sources)
        return True


def origin_terms(source: str, url: str | None) -> list[str]:
    """What `source:` matches: the outlet's name, its words, the host and every suffix and
    label of it (`source:cnn.com`, `source:cnn` and `source:times` all work)."""
    terms = {source.lower().strip()} | set(words(source))
    host = (urlsplit(url).hostname or "") if url else ""
    labels = [p for p in host.lower().split(".") if p]
    terms |= {".".join(labels[i:]) for i in range(len(labels))} | set(labels)
    return sorted(t for t in terms if t)


@dataclass
class ChunkRow:
    """A live chunk as the replica stores it, and its BM25 score for the question."""

    id: str
    doc_id: str
    content_hash: str
    index: int
    start: int
    end: int
    text: str
    vector: np.ndarray
    lexical: float = 0.0


@dataclass
class Pending:
    """A log record naming an article whose write has not committed (yet)."""

    seq: int
    at: float
    writer: str
    wanted: list[Any] | None  # [content_hash, n_chunks] or None (a deletion)
    stale: bool = False  # committed, but this process's client could not read it

    def change(self) -> Change:
        """The record, as far as `abandoned()` needs it."""
        return Change(self.seq, self.at, writer=self.writer)

    @classmethod
    def parse(cls, body: Any) -> Pending:
        """A record as `state.json` holds it; ValueError/TypeError when it is not one."""
        wanted = body["wanted"]
        if wanted is not None:
            wanted = [str(wanted[0]), int(wanted[1])]
        stale = body.get("stale", False)
        if not isinstance(stale, bool):
            raise TypeError("stale")
        return cls(int(body["seq"]), float(body["at"]), str(body["writer"]), wanted, stale)


@dataclass
class State:
    """What `state.json` records: the log position applied, and the pending records."""

    schema: int = INDEX_SCHEMA
    collection: str = ""
    seq: int = 0
    epoch: int = 0  # counts applies; chunks carry the one that indexed them
    pending: dict[str, Pending] = field(default_factory=dict)
    outlets: dict[str, int] = field(default_factory=dict)  # articles per outlet
    last_ingest: str | None = None
    build: str = ""  # which build of the replica this is (a rebuild gets a new one)
    mark: str = ""  # the `mark` of the log record at `seq`: the log it follows
    counts: list[int] | None = None  # [chunks, articles] the indexes hold after the last update

    def widen(self, records: Iterable[StoredArticle]) -> None:
        """Count newly indexed articles into the summary."""
        for record in records:
            if record.source:
                self.outlets[record.source] = self.outlets.get(record.source, 0) + 1
            if record.ingested_at:
                self.last_ingest = max(self.last_ingest or "", record.ingested_at)

    def narrow(self, records: Iterable[StoredArticle]) -> None:
        """Count removed (or replaced) articles out."""
        for record in records:
            left = self.outlets.get(record.source, 0) - 1
            if left > 0:
                self.outlets[record.source] = left
            else:
                self.outlets.pop(record.source, None)

    @classmethod
    def load(cls, path: Path) -> State | None:
        """The state in `path`; None when there is none (nothing built there yet).

        Raises:
            IndexDamagedError: the file is there but cannot be read, or is not a state.
        """
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise IndexDamagedError(f"cannot read its state.json ({_reason(exc)})") from exc
        try:
            return cls.parse(json.loads(text))
        # OverflowError: a seq of 1e400; RecursionError: "[[[…" nested too deep.
        except (
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            IndexError,
            OverflowError,
            RecursionError,
        ) as exc:
            raise IndexDamagedError("has a damaged state.json") from exc

    @classmethod
    def parse(cls, body: Any) -> State:
        """A state from its JSON; ValueError, KeyError, TypeError… when it is not one."""
        if not isinstance(body, dict):
            raise TypeError("not an object")
        pending = body.get("pending", {})
        outlets = body.get("outlets", {})
        last, counts = body.get("last_ingest"), body.get("counts")
        if not isinstance(pending, dict) or not isinstance(outlets, dict):
            raise TypeError("pending, outlets")
        if not (last is None or isinstance(last, str)):
            raise TypeError("last_ingest")
        if counts is not None:
            counts = [int(counts[0]), int(counts[1])]
        seq, epoch = int(body["seq"]), int(body.get("epoch", 0))
        if seq < 0 or epoch < 0:
            raise ValueError("negative position")
        return cls(
            int(body["schema"]),
            str(body["collection"]),
            seq,
            epoch,
            {str(d): Pending.parse(p) for d, p in pending.items()},
            {str(k): _count_of(v) for k, v in outlets.items()},
            last,
            str(body.get("build", "")),
            str(body.get("mark", "")),
            counts,
        )

    def save(self, path: Path) -> None:
        body = {
            "schema": self.schema,
            "collection": self.collection,
            "seq": self.seq,
            "epoch": self.epoch,
            "pending": {d: asdict(p) for d, p in self.pending.items()},
            "outlets": self.outlets,
            "last_ingest": self.last_ingest,
            "build": self.build,
            "mark": self.mark,
            "counts": self.counts,
        }
        temp = path.with_suffix(f".{os.getpid()}.tmp")
        temp.write_text(json.dumps(body), encoding="utf-8")
        os.replace(temp, path)


def _schema(stored: tuple[str, ...], epoch: bool = False) -> Any:
    """The fields both indexes share (id, BM25 terms, outlet terms, publish time), then the
    chunk's update epoch when asked, then the stored-only byte fields named."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("doc_id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("terms", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("origin", tokenizer_name="whitespace", index_option="basic")
    builder.add_integer_field("ts", stored=False, indexed=True, fast=True)
    if epoch:
        builder.add_integer_field("epoch", stored=False, indexed=True, fast=True)
    for name in stored:
        builder.add_bytes_field(name, stored=True, indexed=False, fast=False)
    return builder.build()


def _reading(method: Callable[P, R]) -> Callable[P, R]:
    """A read of the replica: tantivy's errors (a truncated or garbled file) become
    `IndexDamagedError`, which its owner answers by rebuilding it."""

    @functools.wraps(method)
    def read(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except ValueError as exc:
            raise IndexDamagedError(f"cannot be read ({_reason(exc)})") from exc

    return read


class LocalIndex:
    """The replica of one collection in one folder.

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
        import tantivy

        self._t = tantivy
        self.folder = folder
        self.dim = dim
        self.shared = shared
        try:
            for path in (folder, folder / "chunks", folder / "articles"):
                path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexUnwritableError(f"cannot be written ({_reason(exc)})") from exc
        self.chunk_schema = _schema(("row", "vector"), epoch=True)
        self.article_schema = _schema(("record",))
        self.state_path = folder / "state.json"
        state = State.load(self.state_path)
        self._open_indexes()
        self.state = state or State(collection=collection)
        self.fresh = state is None  # nothing applied yet: it must be built from the store
        self._summary: tuple[int, tuple[str | None, str | None]] | None = None

    def _open_indexes(self) -> None:
        t = self._t
        try:
            self._chunks = t.Index(self.chunk_schema, path=str(self.folder / "chunks"))
            self._articles = t.Index(self.article_schema, path=str(self.folder / "articles"))
        except ValueError as exc:
            raise IndexDamagedError(
                f"has index files that cannot be read ({_reason(exc)})"
            ) from exc

    @property
    def seq(self) -> int:
        """The log position this replica has applied."""
        return self.state.seq

    @property
    def epoch(self) -> int:
        """How many times the replica was updated (chunks carry the update that added them)."""
        return self.state.epoch

    # -- is it a copy of the store? ------------------------------------------------------------

    def check(self) -> None:
        """Compare what the indexes hold with what the state recorded at the last update (a
        lost `meta.json` leaves an empty index behind, silently). Cheap: two counts.

        Raises:
            IndexDamagedError: they differ. A writer in another process between its commit
                and its state holds the folder's lock: check again under it before acting.
        """
        if self.fresh:
            return
        held = self.counts()
        recorded = self.state.counts
        if recorded is not None and held != recorded:
            raise IndexDamagedError(
                f"holds {held[0]} chunks and {held[1]} articles where its state.json "
                f"records {recorded[0]} and {recorded[1]}"
            )
        if recorded is None and (held[0] == 0) != (held[1] == 0):
            raise IndexDamagedError(f"holds {held[0]} chunks of {held[1]} articles")

    def check_against(self, store: ArchiveStore) -> None:
        """At open, for a state that records no counts (written by an older version): an
        index with no articles at a log position past 0 while the store holds some has
        lost its files. One count of the store's manifest.

        Raises:
            IndexDamagedError: so.
        """
        if self.fresh or self.state.counts is not None or self.state.seq == 0:
            return
        if self.counts()[1] == 0 and store.article_count() > 0:
            raise IndexDamagedError("holds no articles while the store holds some")

    def follows(self, store: ArchiveStore) -> None:
        """Check that the store's change log holds the record this replica applied last
        (one read of one record).

        Raises:
            IndexDamagedError: the log ends before it (or holds another record there), as
                when the store was restored from a backup or replaced by another.
        """
        seq = self.state.seq
        if seq <= 0:
            return
        record = store.record(seq)
        if record is None:
            raise IndexDamagedError(
                f"has applied the store's change log up to record {seq}, which the log does "
                f"not hold (it ends at {store.head()}: a store restored from a backup?)"
            )
        if self.state.mark and record.mark != self.state.mark:
            raise IndexDamagedError(
                f"has applied another record {seq} than the one the store's change log holds "
                "(a store restored from a backup?)"
            )

    def counts(self) -> list[int]:
        """[chunks, articles] the indexes hold."""
        try:
            return [
                int(self._chunks.searcher().num_docs),
                int(self._articles.searcher().num_docs),
            ]
        except ValueError as exc:
            raise IndexDamagedError(f"cannot be read ({_reason(exc)})") from exc

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
            state.pending = _unsettled(pending, live, now)
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
        stale = [live[d] for d in pending if d in live and _outdated(mine.get(d), live[d])]
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
            self._add(record, rows, chunks, articles, epoch)
            done.append(record)
        return done

    def _add(
        self, record: StoredArticle, rows: list[ChunkHit], chunks: Any, articles: Any, epoch: int
    ) -> None:
        t = self._t
        ts = to_timestamp(record.published_at)
        ts = UNDATED if ts is None else ts
        origin = " ".join(origin_terms(record.source, record.url))
        article_terms = tokenize(f"{record.title}\n{record.source}")
        for hit in rows:
            terms = tokenize(f"{record.title}\n{hit.text}")
            article_terms += terms
            row = [hit.id, record.content_hash, hit.index, hit.start, hit.end, hit.text]
            chunks.add_document(
                t.Document(
                    doc_id=record.doc_id,
                    terms=" ".join(terms),
                    origin=origin,
                    ts=ts,
                    epoch=epoch,
                    row=json.dumps(row, ensure_ascii=False).encode("utf-8"),
                    vector=pack_vector(hit.embedding),
                )
            )
        articles.add_document(
            t.Document(
                doc_id=record.doc_id,
                terms=" ".join(article_terms),
                origin=origin,
                ts=ts,
                record=json.dumps(asdict(record), ensure_ascii=False).encode("utf-8"),
            )
        )

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
                if isinstance(exc, ValueError) and _failed_write(exc):
                    raise IndexUnwritableError(f"cannot be written ({_reason(exc)})") from exc
                raise
            finally:
                for writer in (chunks, articles):
                    with suppress(ValueError):
                        writer.wait_merging_threads()

    def _open_writers(self) -> tuple[Any, Any]:
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        chunks = None
        while True:
            try:
                chunks = chunks or self._chunks.writer(_WRITER_HEAP, 1)
                return chunks, self._articles.writer(_WRITER_HEAP, 1)
            except ValueError as exc:
                if "LockBusy" not in str(exc):
                    raise IndexUnwritableError(f"cannot be written ({_reason(exc)})") from exc
                if time.monotonic() > deadline:
                    del chunks
                    raise IndexBusyError(
                        f"Another process is updating the index in {self.folder}; try again."
                    ) from exc
                time.sleep(0.1)

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
            raise IndexUnwritableError(f"cannot be written ({_reason(exc)})") from exc
        self.state = state

    def _reload_own(self) -> None:
        self._chunks.reload()
        self._articles.reload()
        self._summary = None

    # -- reading -------------------------------------------------------------------------------

    @_reading
    def search_articles(self, terms: list[str], filters: Filters, k: int) -> list[str]:
        """Doc ids of the k articles with the best whole-article BM25, best first."""
        index, schema = self._articles, self.article_schema
        hits = self._search(index, schema, terms, filters, k)
        searcher = index.searcher()
        return [searcher.doc(address)["doc_id"][0] for _, address in hits]

    @_reading
    def search_chunks(self, terms: list[str], filters: Filters, k: int) -> list[str]:
        """Doc ids of the k chunks with the best BM25, best first (one entry per chunk)."""
        index, schema = self._chunks, self.chunk_schema
        hits = self._search(index, schema, terms, filters, k)
        searcher = index.searcher()
        return [searcher.doc(address)["doc_id"][0] for _, address in hits]

    def _search(
        self, index: Any, schema: Any, terms: list[str], filters: Filters, k: int
    ) -> list[tuple[float, Any]]:
        query = self._terms_query(schema, terms)
        if query is None:
            return []
        restrict = self._filter_query(schema, filters)
        if restrict is not None:
            t = self._t
            query = t.Query.boolean_query([(t.Occur.Must, query), (t.Occur.Must, restrict)])
        return list(index.searcher().search(query, k, count=False).hits)

    def _terms_query(self, schema: Any, terms: list[str]) -> Any:
        t = self._t
        unique = list(dict.fromkeys(terms))
        if not unique:
            return None
        clauses = [(t.Occur.Should, t.Query.term_query(schema, "terms", w)) for w in unique]
        counts = {w: terms.count(w) for w in unique}
        if any(c > 1 for c in counts.values()):  # a repeated question word counts again
            clauses = [
                (t.Occur.Should, t.Query.boost_query(q, float(counts[w])))
                for w, (_, q) in zip(unique, clauses, strict=True)
            ]
        return t.Query.boolean_query(clauses)

    def _filter_query(self, schema: Any, filters: Filters) -> Any:
        t = self._t
        clauses = []
        if filters.since is not None or filters.before is not None:
            low = filters.since if filters.since is not None else EARLIEST
            high = filters.before - 1 if filters.before is not None else None
            clauses.append(
                (t.Occur.Must, t.Query.range_query(schema, "ts", t.FieldType.Integer, low, high))
            )
        if filters.sources:
            origin = t.Query.term_set_query(schema, "origin", list(filters.sources))
            clauses.append((t.Occur.Must, origin))
        return t.Query.boolean_query(clauses) if clauses else None

    @_reading
    def articles(self, doc_ids: Iterable[str]) -> dict[str, StoredArticle]:
        """The indexed records of the given articles, by doc_id."""
        wanted = list(dict.fromkeys(doc_ids))
        if not wanted:
            return {}
        t = self._t
        searcher = self._articles.searcher()
        query = t.Query.term_set_query(self.article_schema, "doc_id", wanted)
        out = {}
        for _, address in searcher.search(query, len(wanted), count=False).hits:
            record = StoredArticle(**json.loads(searcher.doc(address)["record"][0]))
            out[record.doc_id] = record
        return out

    @_reading
    def chunks(self, doc_ids: list[str], terms: list[str]) -> dict[str, list[ChunkRow]]:
        """Every chunk of the given articles, in order, with its BM25 score for `terms`."""
        if not doc_ids:
            return {}
        t = self._t
        schema = self.chunk_schema
        searcher = self._chunks.searcher()
        members = t.Query.term_set_query(schema, "doc_id", list(doc_ids))
        limit = _count(searcher, members)
        if not limit:
            return {}
        out: dict[str, list[ChunkRow]] = {}
        rows: dict[tuple[int, int], ChunkRow] = {}
        for _, address in searcher.search(members, limit, count=False).hits:
            doc = searcher.doc(address)
            cid, digest, index, start, end, text = json.loads(doc["row"][0])
            vector = unpack_vector(doc["vector"][0], self.dim)
            row = ChunkRow(cid, doc["doc_id"][0], digest, index, start, end, text, vector)
            rows[(address.segment_ord, address.doc)] = row
            out.setdefault(row.doc_id, []).append(row)
        scored = self._terms_query(schema, terms)
        if scored is not None:
            query = t.Query.boolean_query([(t.Occur.Must, members), (t.Occur.Must, scored)])
            for score, address in searcher.search(query, limit, count=False).hits:
                rows[(address.segment_ord, address.doc)].lexical = float(score)
        for group in out.values():
            group.sort(key=lambda r: r.index)
        return out

    @_reading
    def delta(self, after: int) -> list[tuple[ChunkRow, int | None, str, str | None]]:
        """Chunks indexed by updates after epoch `after`, for a vector index that predates
        them: (row, publish time, outlet, url) each."""
        t = self._t
        searcher = self._chunks.searcher()
        query = t.Query.range_query(
            self.chunk_schema, "epoch", t.FieldType.Integer, after + 1, None
        )
        count = _count(searcher, query)
        if not count:
            return []
        hits = searcher.search(query, count, count=False).hits
        docs = [searcher.doc(address) for _, address in hits]
        records = self.articles(d["doc_id"][0] for d in docs)
        out = []
        for doc in docs:
            record = records.get(doc["doc_id"][0])
            if record is None:
                continue
            cid, digest, index, start, end, text = json.loads(doc["row"][0])
            vector = unpack_vector(doc["vector"][0], self.dim)
            row = ChunkRow(cid, record.doc_id, digest, index, start, end, "", vector)
            out.append((row, to_timestamp(record.published_at), record.source, record.url))
        return out

    @_reading
    def idf(self, term: str) -> float:
        """Inverse document frequency of an index term over chunks (high for rare names)."""
        searcher = self._chunks.searcher()
        size = searcher.num_docs
        df = searcher.doc_freq("terms", term)
        if 0 < df <= LIVE_COUNT_UP_TO:
            # doc_freq counts deleted chunks until their segment is merged away, so each
            # correction of an article made its rare words look more common; counting the
            # live postings of a rare term costs well under a millisecond.
            query = self._t.Query.term_query(self.chunk_schema, "terms", term)
            df = _count(searcher, query)
        return float(np.log(1 + (size - df + 0.5) / (df + 0.5)))

    @_reading
    def count(self, filters: Filters) -> int:
        """How many articles pass the filters."""
        searcher = self._articles.searcher()
        query = self._filter_query(self.article_schema, filters)
        if query is None:
            return int(searcher.num_docs)
        return _count(searcher, query)

    @_reading
    def summary(self) -> StoreSummary:
        """Article and chunk counts, the publish-date range, outlets (most articles first) and
        the last ingest, without reading the archive: counts are the indexes' own, the date
        range is read from the publish-time column once per update (a few ms per million
        articles), outlets and the last ingest are kept up to date as articles are applied."""
        articles = int(self._articles.searcher().num_docs)
        chunks = int(self._chunks.searcher().num_docs)
        state = self.state
        if self._summary is None or self._summary[0] != state.epoch:
            self._summary = (state.epoch, self._date_range())
        oldest, newest = self._summary[1]
        outlets = sorted(state.outlets, key=lambda name: (-state.outlets[name], name))
        return StoreSummary(articles, chunks, oldest, newest, outlets, state.last_ingest)

    def _date_range(self) -> tuple[str | None, str | None]:
        """The oldest and newest publish dates, by a pass over the articles' date column."""
        t = self._t
        searcher = self._articles.searcher()
        dated = t.Query.range_query(self.article_schema, "ts", t.FieldType.Integer, EARLIEST, None)
        ends: list[str | None] = []
        for order in (t.Order.Asc, t.Order.Desc):
            hits = searcher.search(dated, 1, count=False, order_by_field="ts", order=order).hits
            if hits:
                record = json.loads(searcher.doc(hits[0][1])["record"][0])
                ends.append((record.get("published_at") or "")[:10] or None)
        return (ends[0], ends[-1]) if ends else (None, None)


def pack_vector(vector: Any) -> bytes:
    """A chunk's vector as the replica stores it: int8 per dimension and one float32 scale.

    A quarter of float32's bytes. The vector is only read back to pick an article's best
    chunks (`core.search.searcher`) and to search chunks newer than an embedded client exactly
    (`core.search.archive.Delta`); the rounding moves a unit vector's cosine by well under 0.01
    (`tests/test_search_index.py`), and the dev sets rank the same (docs/benchmarks.md).
    """
    v = np.asarray(vector, dtype=np.float32).ravel()
    peak = float(np.abs(v).max()) if v.size else 0.0
    scale = peak / 127.0 if peak > 0 else 1.0
    q = np.clip(np.rint(v / scale), -127, 127).astype(np.int8)
    return np.array([scale], dtype=_SCALE).tobytes() + q.tobytes()


def unpack_vector(data: bytes, dim: int) -> np.ndarray:
    """A stored vector of `dim` dimensions as float32: packed (`pack_vector`, 4 + dim bytes),
    or the plain float32 that replicas built before packing hold (4 × dim bytes)."""
    if len(data) == 4 * dim:
        return np.frombuffer(data, dtype=np.float32)
    scale = np.frombuffer(data[: _SCALE.itemsize], dtype=_SCALE)[0]
    return np.frombuffer(data[_SCALE.itemsize :], dtype=np.int8).astype(np.float32) * scale


def _outdated(mine: StoredArticle | None, live: StoredArticle) -> bool:
    """True when the indexed copy of an article is not the committed one: another version,
    or the same version with other vectors (`ingest --reembed`)."""
    if mine is None or mine.content_hash != live.content_hash:
        return True
    return (mine.vectors, mine.vectors_at) != (live.vectors, live.vectors_at)


def _count(searcher: Any, query: Any) -> int:
    """How many documents match (tantivy wants a positive limit even to count)."""
    return int(searcher.search(query, 1, count=True).count or 0)  # type: ignore[attr-defined]


def _unsettled(
    pending: dict[str, Pending], live: dict[str, StoredArticle], now: float
) -> dict[str, Pending]:
    """The records still worth looking at again: not committed yet, or committed but not
    readable by this process yet, and not abandoned."""
    out = {}
    for doc_id, entry in pending.items():
        record = live.get(doc_id)
        current = None if record is None else [record.content_hash, record.n_chunks]
        if entry.stale or (current != entry.wanted and not abandoned(entry.change(), now)):
            out[doc_id] = entry
    return out


@contextmanager
def folder_lock(folder: Path, wait: float = _LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold `<folder>.lock`: whoever writes a replica, or replaces it, holds it.

    Raises:
        IndexBusyError: another process held it for longer than `wait` seconds.
        IndexUnwritableError: the lock file cannot be created.
    """
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder.with_name(f"{folder.name}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise IndexUnwritableError(f"cannot be written ({_reason(exc)})") from exc
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise IndexBusyError(
                        f"Another process is updating the index in {folder}; try again."
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def _reason(exc: BaseException) -> str:
    """A short reason for an index error, without the paths and contents tantivy quotes."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = str(exc)
    found = re.search(r"([A-Za-z][A-Za-z ]*) \(os error \d+\)", text)
    if found:
        return found.group(1).strip().lower()
    if "FileDoesNotExist" in text:
        return "a file is missing"
    if "corrupt" in text.lower() or "magic" in text.lower():
        return "a file is corrupted"
    if "writer was killed" in text:
        return "a write failed"
    return "a file is unreadable"


def _failed_write(exc: ValueError) -> bool:
    """Whether tantivy's error is a failed write (its writer thread dies of an I/O error
    while adding documents; a commit reports the I/O error itself)."""
    text = str(exc)
    return "os error" in text or "writer was killed" in text or "IoError" in text


def _count_of(value: Any) -> int:
    """An article count as `state.json` holds it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("count")
    return value
