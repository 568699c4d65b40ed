"""The live archive: the one owner, per process, of "what is committed, and how fresh".

`LiveArchive` holds the store (Chroma), the local index (`core.search.replicator`) and what keeps
them current, and is started and stopped by the bot and `ask`:

- `sync()` follows the store's change log and applies what it names to the local index,
  at a cost proportional to what changed. The bot calls it every second from one thread
  (`start()`/`stop()`); `ask` calls it once. Writers (`ingest`) call it after each commit,
  so on one host a new article is answerable as soon as it is committed.
- An embedded Chroma client answers nearest-neighbour queries from the HNSW index it loaded
  and never sees vectors that another process wrote later (see FACTS.md). Chunks indexed
  since the client opened are therefore searched exactly, from the vectors in the local
  index (`Delta`), and the client is reopened only when that set grows large, or when the
  local index needs vectors the client cannot read. A Chroma server has no such lag.
- The local index is only a copy of the store. One that is damaged, or follows another
  log than the store's (a store restored from a backup), is reported in one line and
  rebuilt from the store, aside, then swapped in under the folder's lock, so processes
  sharing `INDEX_PATH` rebuild it once. One that cannot be written (disk full) stays as
  it is and is read as it is; `problem` says so, for `/healthz`.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from core.errors import NewsroomError, StoreUnavailableError
from core.search.delta import Delta, ReadWriteLock
from core.search.rebuild import (
    check_follows,
    followed_model,
    open_replica,
    rebuild_aside,
    remove_leftovers,
    replica_name,
)
from core.search.replica_state import (
    IndexBusyError,
    IndexDamagedError,
    IndexUnwritableError,
    folder_lock,
)
from core.search.replicator import LocalIndex
from core.sections import IndexSettings, StoreSettings
from core.store import ArchiveStore, Change

log = logging.getLogger(__name__)
R = TypeVar("R")

SYNC_SECONDS = 1.0
STALE_GRACE_SECONDS = 10.0  # an embedded writer applies its own commits within milliseconds
DELTA_REOPEN_CHUNKS = 50_000  # past this, a new embedded client is cheaper than exact search
REBUILD_WAIT_SECONDS = 3600.0  # another process rebuilding the same index: wait for its copy


class LiveArchive:
    """The store and the local index of one process, kept current.

    Args:
        stores: Where the store is (its section of the settings).
        index: Where this host's local index is.
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
        connect: Opens the store when none was passed (the wiring, `core.service`, gives
            it; the first `sync()` calls it).
    """

    def __init__(
        self,
        stores: StoreSettings,
        index: IndexSettings,
        model_name: str,
        dim: int,
        store: ArchiveStore | None = None,
        build_missing: bool = True,
        answers_questions: bool = True,
        connect: Callable[[], ArchiveStore] | None = None,
    ):
        self.stores = stores
        self.index = index
        self.connect = connect
        self.model_name = model_name
        self.dim = dim
        self.store = store
        self.local: LocalIndex | None = None
        self.build_missing = build_missing
        self.answers_questions = answers_questions
        self.delta = Delta(0)
        self.lock = ReadWriteLock()
        self.healthy: bool | None = None
        self.index_problem: str | None = None  # why the local index cannot follow the store
        self.failure: str | None = None  # why the last sync in the background failed
        self.stale_grace = STALE_GRACE_SECONDS
        self.build_progress: Callable[[int], None] | None = None  # articles built so far
        self._sync_lock = threading.Lock()
        self._watchers: list[weakref.WeakMethod[Callable[[LiveArchive], object]]] = []
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
                except (StoreUnavailableError, IndexBusyError):
                    pass  # logged once by mark(); another process updates the index
                except Exception as exc:
                    self._failed(exc)
                else:
                    self.failure = None
                    self._tell_watchers()

        self._thread = threading.Thread(target=loop, name="archive-sync", daemon=True)
        self._thread.start()

    def watch(self, watcher: Callable[[LiveArchive], object]) -> None:
        """Call `watcher(self)` (a bound method, held weakly: its object's owner decides how long
        it lives) in the sync thread after each round that reached the store. It should be
        quick; `applied_changes` tells it what changed."""
        self._watchers.append(weakref.WeakMethod(watcher))  # type: ignore[arg-type]

    def _tell_watchers(self) -> None:
        self._watchers[:] = [ref for ref in self._watchers if ref() is not None]
        for watcher in [w for w in (ref() for ref in self._watchers) if w is not None]:
            try:
                watcher(self)
            except Exception:
                log.exception("a watcher of the store's changes failed")

    def applied_changes(self, after: int, limit: int = 200) -> tuple[int, list[Change]]:
        """The change log's records after position `after` that the local index has
        applied (so a search sees what they name), at most `limit`, and the position they
        reach. Costs no call to the store when nothing was applied beyond `after` (this
        process's index may lag behind another's: nothing then, until it catches up).

        Raises:
            StoreUnavailableError: the store cannot be reached.
        """
        local, store = self.local, self.store
        if local is None or store is None:
            return after, []
        applied = local.seq
        if applied <= after:
            return after, []
        with self.lock.reading():
            records = store.changes(after, min(limit, applied - after))
        return (records[-1].seq if records else after), records

    def _failed(self, exc: Exception) -> None:
        """Note why following the store failed: logged (with its traceback) when the reason
        changes, not every round."""
        reason = f"cannot follow the store ({type(exc).__name__})"
        if reason != self.failure:
            log.exception("updating the local index failed; trying again every round")
        self.failure = reason

    @property
    def problem(self) -> str | None:
        """One short line (no paths) saying why this process cannot follow the store while
        the store answers, or None; the log says more."""
        return self.index_problem or self.failure

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
        store = self.open_store()
        if not store.exists:
            return 0
        recorded = followed_model(store, self.model_name, self.stores.collection)
        if recorded is not None:  # `ingest --reembed` by another process has finished
            self.model_name = store.model_name = recorded
        try:
            local = self._open_local(store)
            if local is None:
                return 0
            try:
                changed = self._catch_up(store, local)
            except IndexDamagedError as exc:
                local = self._repair(store, local.folder, str(exc), suspect=local.state.build)
                changed = self._catch_up(store, local)
        except IndexUnwritableError as exc:
            self._note_index(str(exc))
            return 0
        except IndexBusyError:
            if not self.answers_questions or self.local is None:
                raise
            # Another process holds the index (a rebuild takes minutes): it applies the
            # same records; questions meanwhile are answered from what the index holds.
            log.info("the local index is busy in another process; answering from it as it is")
            return 0
        self._note_index(None)
        if self.answers_questions and not self.stores.server_mode:
            delta = self.delta.extended(local)
            if len(delta) > DELTA_REOPEN_CHUNKS:
                self._reopen(store, local)
            else:
                self.delta = delta
        return changed

    def _catch_up(self, store: ArchiveStore, local: LocalIndex) -> int:
        """Apply the log records beyond the local index's position, and the pending ones."""
        local.reload()
        check_follows(local, store)
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
        return changed

    def read(self, question: Callable[[], R]) -> R:
        """Run a read of the local index; when it finds the index damaged, rebuild it from
        the store (once, whichever thread or process gets there first) and run it again.

        Raises:
            NewsroomError: it is damaged and could not be rebuilt.
        """
        local = self.local
        try:
            return question()
        except IndexDamagedError as exc:
            if local is None or self.store is None:
                raise
            with self._sync_lock:
                if self.local is local:  # not rebuilt by another thread meanwhile
                    try:
                        self._repair(self.store, local.folder, str(exc), local.state.build)
                    except IndexUnwritableError as failed:
                        raise NewsroomError(
                            f"The local index in {self.index.folder} {exc}, and it "
                            f"{failed}: free space there (or delete it), then try again."
                        ) from failed
            return question()

    def _note_index(self, failure: str | None) -> None:
        """Say once that the local index cannot be written (`failure`: what the index does,
        e.g. "cannot be written (no space left on device)"), and once that it can again."""
        problem = None if failure is None else f"local index {failure}"
        if problem is not None and self.index_problem is None:
            if self.local is None and self.answers_questions:
                pass  # nothing to answer from: the question says so (`core.search.hybrid`)
            elif self.local is None:
                log.warning("the local index in %s %s", self.index.folder, failure)
            else:
                log.warning(
                    "the local index in %s %s; it stays as it is, and catches up from the "
                    "store's change log once it can be written",
                    self.index.folder,
                    failure,
                )
        elif problem is None and self.index_problem is not None:
            log.info("the local index is written again and catches up with the store")
        self.index_problem = problem

    def open_store(self) -> ArchiveStore:
        """The store, opened on first use (raises `StoreUnavailableError` when down)."""
        if self.store is None:
            assert self.connect is not None, "a LiveArchive needs a store or a way to open one"
            self.store = self.connect()
        return self.store

    def _open_local(self, store: ArchiveStore) -> LocalIndex | None:
        collection = store.collection_id
        if self.local is not None and self.local.state.collection == collection:
            return self.local
        folder = self.index.folder / replica_name(self.stores, collection)
        if not self.build_missing and not (folder / "state.json").exists():
            return None
        try:
            local = open_replica(folder, store, self.dim)
        except IndexDamagedError as exc:
            return self._repair(store, folder, str(exc))
        if local is None:
            return self._repair(store, folder, None)
        return self._use(local)

    def _repair(
        self, store: ArchiveStore, folder: Path, reason: str | None, suspect: str | None = None
    ) -> LocalIndex:
        """Rebuild the local index from the store, unless another process did it meanwhile.

        Args:
            store: The store.
            folder: The local index's folder.
            reason: What is wrong with it (None: there is none yet).
            suspect: The build found damaged while reading it: when the folder still holds
                that build, it is rebuilt even if it looks sound (a garbled stored field
                shows only when read).

        Raises:
            IndexUnwritableError: it cannot be written.
            IndexBusyError: another process held its lock for `REBUILD_WAIT_SECONDS`.
        """
        with folder_lock(folder, REBUILD_WAIT_SECONDS):
            remove_leftovers(folder)
            try:
                local = open_replica(folder, store, self.dim)
                if local is not None:
                    check_follows(local, store)
                if local is not None and (suspect is None or local.state.build != suspect):
                    return self._use(local)  # rebuilt by another process, or sound after all
            except IndexDamagedError as exc:
                reason = reason if suspect is not None else str(exc)
            after = max(self.delta.epoch, self.local.epoch if self.local else 0)
            rebuilt = rebuild_aside(store, folder, reason, self.dim, after, self.build_progress)
            return self._use(rebuilt, rebuilt=reason is not None)

    def _use(self, local: LocalIndex, rebuilt: bool = False) -> LocalIndex:
        if not rebuilt or self.local is None:
            # The client, opened before, sees all indexed so far.
            self.delta = Delta(local.epoch)
        # Else the delta keeps the epoch it had: the rebuilt chunks carry a later one, and
        # are searched exactly until the client is reopened.
        self.local = local
        return local

    def _needs_new_client(self, local: LocalIndex) -> bool:
        """True when the local index waits for vectors this (embedded) client cannot read,
        and their writer has had time to apply them itself."""
        if self.stores.server_mode:
            return False
        now = time.time()
        pending = local.state.pending.values()
        return any(p.stale and now - p.at > self.stale_grace for p in pending)

    def _reopen(self, store: ArchiveStore, local: LocalIndex) -> None:
        started = time.perf_counter()
        with self.lock.writing():
            store.reopen()
            self.delta = Delta(local.epoch)
        log.info("reopened the embedded store in %.2f s", time.perf_counter() - started)

    def mark(self, healthy: bool) -> None:
        """Record whether the store answered at the last try (logged when it changes)."""
        if healthy != self.healthy:
            if healthy:
                log.info("store reachable: %s", self.stores.label)
            else:
                log.warning("store unavailable: %s; will keep trying", self.stores.label)
        self.healthy = healthy
