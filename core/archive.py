"""The live archive: the one owner, per process, of "what is committed, and how fresh".

`LiveArchive` holds the store (Chroma), the local index (`core.replica`) and what keeps them
current, and is started and stopped by the bot and `ask`:

- `sync()` follows the store's change log and applies what it names to the local index,
  at a cost proportional to what changed. The bot calls it every second from one thread
  (`start()`/`stop()`); `ask` calls it once. Writers (`ingest`) call it after each commit,
  so on one host a new article is answerable as soon as it is committed.
- An embedded Chroma client answers nearest-neighbour queries from the HNSW index it loaded
  and never sees vectors that another process wrote later (see FACTS.md). Chunks indexed
  since the client opened are therefore searched exactly, from the vectors in the local
  index (`Delta`), and the client is reopened only when that set grows large, or when the
  local index needs vectors the client cannot read. A Chroma server has no such lag.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from core.embeddings import REEMBEDDING, encoders_for, mismatch_hint
from core.errors import ModelMismatchError, StoreUnavailableError
from core.replica import INDEX_SCHEMA, LocalIndex, State
from core.settings import Settings
from core.store import Store, open_store

log = logging.getLogger(__name__)

SYNC_SECONDS = 1.0
STALE_GRACE_SECONDS = 10.0  # an embedded writer applies its own commits within milliseconds
DELTA_REOPEN_CHUNKS = 50_000  # past this, a new embedded client is cheaper than exact search


@dataclass
class Delta:
    """Chunks indexed after the embedded client opened, with their vectors, for exact search.

    Attributes:
        epoch: The local index's epoch covered so far.
        rows: (chunk id, doc id, content hash, publish time, outlet, url) per vector.
        blocks: The rows' unit vectors, one matrix per update (never copied as it grows).
    """

    epoch: int
    rows: list[tuple[str, str, str, int | None, str, str | None]] = field(default_factory=list)
    blocks: list[np.ndarray] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of every row to a unit vector."""
        if not self.blocks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate([block @ vector for block in self.blocks])

    def extended(self, local: LocalIndex) -> Delta:
        """This delta with what the local index added since `epoch` (a new object)."""
        if local.epoch <= self.epoch:
            return self
        added = local.delta(self.epoch)
        rows = self.rows + [
            (r.id, r.doc_id, r.content_hash, ts, source, url) for r, ts, source, url in added
        ]
        blocks = list(self.blocks)
        if added:
            blocks.append(np.vstack([r.vector for r, _, _, _ in added]).astype(np.float32))
        return Delta(local.epoch, rows, blocks)


class _ReadWriteLock:
    """Many readers or one writer (questions read the store; reopening it writes)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._readers:
                self._cond.wait()
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class LiveArchive:
    """The store and the local index of one process, kept current.

    Args:
        settings: Where the store and the local index are.
        model_name: The identity of the vectors questions are embedded into (the store
            refuses another, and a re-embed by another process changes it).
        dim: Its dimension.
        store: A store this process already opened (a writer passes its own).
        build_missing: Build the local index from the store when this host has none. A
            writer in server mode passes False: it updates a replica that exists on this
            host and does not build one nobody here reads.
        answers_questions: False for a writer (`ingest`): nothing here searches, so the
            chunks its Chroma client cannot see are not gathered for exact search (`Delta`)
            after every commit, nor is the client reopened when they grow many.
    """

    def __init__(
        self,
        settings: Settings,
        model_name: str,
        dim: int,
        store: Store | None = None,
        build_missing: bool = True,
        answers_questions: bool = True,
    ):
        self.settings = settings
        self.model_name = model_name
        self.dim = dim
        self.store = store
        self.local: LocalIndex | None = None
        self.build_missing = build_missing
        self.answers_questions = answers_questions
        self.delta = Delta(0)
        self.lock = _ReadWriteLock()
        self.healthy: bool | None = None
        self.stale_grace = STALE_GRACE_SECONDS
        self._sync_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------------

    def start(self, interval: float = SYNC_SECONDS) -> None:
        """Sync every `interval` seconds in a daemon thread until `stop()`."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.sync()
                except StoreUnavailableError:
                    pass  # logged once by _mark; tried again next round
                except Exception:
                    log.exception("updating the local index failed; trying again")

        self._thread = threading.Thread(target=loop, name="archive-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop syncing and release the store's client."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        with self.lock.writing():
            if self.store is not None:
                self.store.close()

    # -- freshness -----------------------------------------------------------------------

    def sync(self) -> int:
        """Apply what the store's change log holds beyond the local index; how many articles
        changed. Opens the store and the local index first when needed.

        Raises:
            StoreUnavailableError: the store cannot be reached.
        """
        with self._sync_lock:
            try:
                changed = self._sync()
            except StoreUnavailableError:
                self.mark(False)
                raise
            self.mark(True)
            return changed

    def _sync(self) -> int:
        store = self._open_store()
        if not store.exists:
            return 0
        self._follow_model(store)
        local = self._open_local(store)
        if local is None:
            return 0
        local.reload()
        changed = 0
        while True:
            changes = store.changes(local.seq)
            if not changes and not local.state.pending:
                break
            changed += local.apply(store, changes)
            if len(changes) < 200:
                break
        if self._needs_new_client(local):
            self._reopen(store, local)
            changed += local.apply(store, [])
        if self.answers_questions and not self.settings.server_mode:
            delta = self.delta.extended(local)
            if len(delta) > DELTA_REOPEN_CHUNKS:
                self._reopen(store, local)
            else:
                self.delta = delta
        return changed

    def _follow_model(self, store: Store) -> None:
        """Follow `ingest --reembed` run by another process: once it has finished, the store's
        vectors are another encoder's, and so must the questions' be (`core.search.Searcher`
        embeds them with the encoder of `model_name`). While it runs, questions keep the
        old encoder: the articles not yet re-embedded still hold its vectors."""
        recorded = store.recorded_model()
        if not recorded or recorded == self.model_name or recorded.endswith(REEMBEDDING):
            return
        if not (encoders_for(recorded) and encoders_for(self.model_name)):
            raise ModelMismatchError(
                f"Collection '{self.settings.collection}' now holds vectors of {recorded!r}, "
                f"not {self.model_name!r}. "
                + mismatch_hint(recorded, self.model_name, self.settings.collection)
            )
        log.warning(
            "The store was re-embedded: its vectors are now %r, and questions are embedded "
            "to match. Set EMBEDDING_ENCODER=%s in the configuration: the next start with "
            "the old one refuses the store.",
            recorded,
            " or ".join(encoders_for(recorded)),
        )
        self.model_name = store.model_name = recorded

    def _open_store(self) -> Store:
        if self.store is None:
            self.store = open_store(self.settings, self.model_name, self.dim, create=False)
        return self.store

    def _open_local(self, store: Store) -> LocalIndex | None:
        collection = store.collection_id
        if self.local is not None and self.local.state.collection == collection:
            return self.local
        folder = self.settings.index_folder / _replica_name(self.settings, collection)
        state = State.load(folder / "state.json")
        if state is None and not self.build_missing:
            return None
        if state is not None and (state.schema != INDEX_SCHEMA or state.collection != collection):
            shutil.rmtree(folder, ignore_errors=True)
            state = None
        local = LocalIndex(folder, collection, self.dim)
        if local.fresh:
            started = time.perf_counter()
            log.info("building the local index in %s from the store (once per host)", folder)
            count = local.build(store)
            log.info(
                "local index built: %d articles in %.1f s", count, time.perf_counter() - started
            )
        self.delta = Delta(local.epoch)  # the client, opened before, sees all indexed so far
        self.local = local
        return local

    def _needs_new_client(self, local: LocalIndex) -> bool:
        """True when the local index waits for vectors this (embedded) client cannot read,
        and their writer has had time to apply them itself."""
        if self.settings.server_mode:
            return False
        now = time.time()
        pending = local.state.pending.values()
        return any(p.stale and now - p.at > self.stale_grace for p in pending)

    def _reopen(self, store: Store, local: LocalIndex) -> None:
        started = time.perf_counter()
        with self.lock.writing():
            store.reopen()
            self.delta = Delta(local.epoch)
        log.info("reopened the embedded store in %.2f s", time.perf_counter() - started)

    def mark(self, healthy: bool) -> None:
        """Record whether the store answered at the last try (logged when it changes)."""
        if healthy != self.healthy:
            if healthy:
                log.info("store reachable: %s", self.settings.store_label)
            else:
                log.warning("store unavailable: %s; will keep trying", self.settings.store_label)
        self.healthy = healthy


def _replica_name(settings: Settings, collection: str) -> str:
    """The local index's folder name: the collection id, and for an embedded store also its
    folder (a copied store keeps its collection id, but its own log from then on)."""
    if settings.server_mode:
        return collection
    where = str(settings.chroma_path.resolve()).encode("utf-8")
    return f"{hashlib.sha1(where).hexdigest()[:8]}-{collection}"
