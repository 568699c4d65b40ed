"""Finding, and when needed rebuilding, this host's local index for a store; following a
store that another process re-embedded.

A local index is one folder per collection (and, for an embedded store, per store folder:
`replica_name`). One that was never built, or is damaged, is built aside from the store and
then swapped in under the folder's lock (`core.search.archive.LiveArchive` decides when).
May import `core.search.replicator`, `core.store`, `core.encode` and settings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from core.encode.embeddings import REEMBEDDING, encoders_for, mismatch_hint
from core.errors import ModelMismatchError, StoreUnavailableError
from core.search.processes import die_with_parent, log_to_parent, relay, return_freed_memory
from core.search.replica_state import INDEX_SCHEMA, IndexDamagedError, IndexUnwritableError
from core.search.replicator import LocalIndex
from core.sections import StoreSettings
from core.store import ArchiveStore, ChromaStore

log = logging.getLogger("core.search.rebuild")  # also when run as the child (`__main__`)

# From this many articles on, a Chroma store's index is built in a child process. Building
# in-process left ~4-8 KB of heap per chunk in the bot for good (freed pages the allocator
# keeps, reference cycles of the read-back, fragmented object arenas: docs/benchmarks.md,
# issue 24); a child returns all of it when it exits. Below, its start (~1 s) is not worth it.
CHILD_BUILD_ARTICLES = 200


def open_replica(folder: Path, store: ArchiveStore, dim: int) -> LocalIndex | None:
    """The local index in `folder`; None when nothing was built there yet.

    Raises:
        IndexDamagedError: it cannot be read, was built for another collection or
            version, or does not hold what its state says.
    """
    collection = store.collection_id
    local = LocalIndex(folder, collection, dim)
    if local.fresh:
        return None
    if local.state.schema != INDEX_SCHEMA or local.state.collection != collection:
        raise IndexDamagedError("was built by another version or for another collection")
    check_counts(local)
    check_against(local, store)
    return local


def rebuild_aside(
    store: ArchiveStore,
    folder: Path,
    reason: str | None,
    dim: int,
    after_epoch: int,
    progress: Callable[[int], None] | None = None,
    child_from: int = CHILD_BUILD_ARTICLES,
) -> LocalIndex:
    """Build the local index aside, then put it in the place of `folder`'s (under the
    folder's lock); its chunks carry epochs after `after_epoch`; `progress` is called with
    the count of articles indexed so far.

    Args:
        store: The store.
        folder: The local index's folder.
        reason: What is wrong with the index there (None: there is none yet).
        dim: The embedding dimension.
        after_epoch: The epoch of the replica it replaces.
        progress: Told the count of articles indexed so far (an in-process build only).
        child_from: A Chroma store with at least this many articles is read back and
            indexed by a child process, so that this one keeps none of the build's memory.

    Raises:
        IndexUnwritableError: it cannot be written.
        StoreUnavailableError: the store cannot be read.
    """
    if reason is None:
        log.info("building the local index in %s from the store (once per host)", folder)
    else:
        log.warning("the local index in %s %s; rebuilding it from the store", folder, reason)
    started = time.perf_counter()
    aside = folder.with_name(f"{folder.name}.new-{os.getpid()}")
    shutil.rmtree(aside, ignore_errors=True)
    try:
        if isinstance(store, ChromaStore) and store.article_count() >= child_from:
            count = build_in_child(store, aside, dim, after_epoch)
        else:
            count = None
        if count is None:
            count = build_aside(store, aside, dim, after_epoch, progress)
            return_freed_memory()  # else this process keeps what the build freed
        swap(aside, folder)
    except OSError as exc:
        raise IndexUnwritableError(f"cannot be written ({exc.strerror or exc})") from exc
    finally:
        shutil.rmtree(aside, ignore_errors=True)
    log.info("local index built: %d articles in %.1f s", count, time.perf_counter() - started)
    return LocalIndex(folder, store.collection_id, dim)


def build_aside(
    store: ArchiveStore,
    aside: Path,
    dim: int,
    after_epoch: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Build a local index of the store in `aside`, in this process; how many articles
    (`progress` is told the count so far)."""
    built = LocalIndex(aside, store.collection_id, dim, shared=False)
    return built.build(store, progress, after_epoch=after_epoch)


def build_in_child(store: ChromaStore, aside: Path, dim: int, after_epoch: int) -> int | None:
    """`build_aside` in a child process (`python -m core.search.rebuild`, with a client of
    its own, dying with this process); how many articles, or None when no child could build
    (this interpreter cannot start one, or it failed: logged), so that this one builds.

    The child's log lines are logged here as this process's own; a failure comes back as
    its exception's type name only (a message may quote an article).

    Raises:
        IndexUnwritableError: it cannot be written.
        StoreUnavailableError: the store cannot be read.
    """
    job = {
        "settings": dataclasses.asdict(store.settings),
        "model": store.model_name,
        "aside": str(aside),
        "dim": dim,
        "after_epoch": after_epoch,
        "parent": os.getpid(),
        "log_level": log.getEffectiveLevel(),
    }
    code: int | None = None
    try:
        result, code = run_child(job)
    except OSError as exc:  # this interpreter cannot start a child
        result = {"failed": type(exc).__name__}
    if "count" in result:
        return int(result["count"])
    failed = str(result.get("failed", ""))
    if result.get("error") == "store":
        raise StoreUnavailableError(
            f"The store could not be read while this host's local index was built ({failed} "
            "in the process building it). Check that the store can be reached, then try again."
        )
    if result.get("error") == "index":
        raise IndexUnwritableError(f"cannot be written ({failed} in the process building it)")
    log.warning(
        "building the local index in a child process failed (%s); building it in this one",
        failed or f"exit code {code}",
    )
    shutil.rmtree(aside, ignore_errors=True)
    return None


def run_child(job: dict) -> tuple[dict, int]:
    """Run `python -m core.search.rebuild JOB`, relaying its log lines; its result (the
    last JSON object it printed that is not a log line: {} if none) and exit code."""
    root = str(Path(__file__).resolve().parents[2])  # where `core` is, for the child
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    result: dict = {}
    with subprocess.Popen(
        [sys.executable, "-m", "core.search.rebuild", json.dumps(job, default=str)],
        env={**os.environ, "PYTHONPATH": path},
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            result = relay(line) or result
    return (result if child.returncode == 0 else {}), child.returncode


def build_from(job: dict) -> dict:
    """In the child: open the store (read only; the parent checked its model) and build.
    A failure is told by kind and exception type, never by message."""
    given = job["settings"]
    settings = StoreSettings(**{**given, "chroma_path": Path(given["chroma_path"])})
    try:
        store = ChromaStore(settings, job["model"], job["dim"], create=False, check_model=False)
        try:
            return {"count": build_aside(store, Path(job["aside"]), job["dim"], job["after_epoch"])}
        finally:
            store.close()
    except StoreUnavailableError as exc:
        return {"error": "store", "failed": type(exc).__name__}
    except (IndexUnwritableError, OSError) as exc:  # as `rebuild_aside` maps an OSError
        return {"error": "index", "failed": type(exc).__name__}
    except Exception as exc:  # the parent builds instead; a traceback may quote an article
        return {"error": "other", "failed": type(exc).__name__}


def child_main(argv: list[str]) -> int:
    """The child of `build_in_child`: die with the parent, log through it, build, and
    print the result as the last line."""
    job = json.loads(argv[1])
    die_with_parent(int(job["parent"]))
    log_to_parent(int(job["log_level"]))
    log.info("building the local index in a child process (pid %d)", os.getpid())
    print(json.dumps(build_from(job)), flush=True)
    return 0


def swap(aside: Path, folder: Path) -> None:
    """Put the index built in `aside` in the place of `folder` (under the folder's lock)."""
    old = folder.with_name(f"{folder.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.rename(folder, old)
    try:
        os.rename(aside, folder)
    except OSError:  # a reader created the folder in between: it holds nothing yet
        shutil.rmtree(folder, ignore_errors=True)
        os.rename(aside, folder)
    shutil.rmtree(old, ignore_errors=True)


def remove_leftovers(folder: Path) -> None:
    """Remove copies that a process killed while rebuilding `folder` left beside it."""
    for path in folder.parent.glob(f"{folder.name}.*-*"):
        kind, _, pid = path.name.rpartition("-")
        if kind.endswith((".new", ".old")) and pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(path, ignore_errors=True)


def replica_name(settings: StoreSettings, collection: str) -> str:
    """The local index's folder name: the collection id, and for an embedded store also its
    folder (a copied store keeps its collection id, but its own log from then on)."""
    if settings.server_mode:
        return collection
    where = str(settings.chroma_path.resolve()).encode("utf-8")
    return f"{hashlib.sha1(where).hexdigest()[:8]}-{collection}"


def followed_model(store: ArchiveStore, model_name: str, collection: str) -> str | None:
    """The encoder identity questions must now use, after an `ingest --reembed` run by
    another process has finished (None: keep `model_name`). Once it has, the store's vectors
    are another encoder's, and so must the questions' be (`Searcher` embeds them with the
    encoder of `LiveArchive.model_name`). While it runs, questions keep the old encoder:
    the articles not yet re-embedded still hold its vectors.

    Raises:
        ModelMismatchError: the store now holds vectors no encoder here can match.
    """
    recorded = store.recorded_model()
    if not recorded or recorded == model_name or recorded.endswith(REEMBEDDING):
        return None
    if not (encoders_for(recorded) and encoders_for(model_name)):
        raise ModelMismatchError(
            f"Collection '{collection}' now holds vectors of {recorded!r}, "
            f"not {model_name!r}. " + mismatch_hint(recorded, model_name, collection)
        )
    log.warning(
        "The store was re-embedded: its vectors are now %r, and questions are embedded "
        "to match. Set EMBEDDING_ENCODER=%s in the configuration: the next start with "
        "the old one refuses the store.",
        recorded,
        " or ".join(encoders_for(recorded)),
    )
    return recorded


def check_counts(local: LocalIndex) -> None:
    """Compare what the indexes hold with what the state recorded at the last update (a
    lost `meta.json` leaves an empty index behind, silently). Cheap: two counts.

    Raises:
        IndexDamagedError: they differ. A writer in another process between its commit
            and its state holds the folder's lock: check again under it before acting.
    """
    if local.fresh:
        return
    held = local.counts()
    recorded = local.state.counts
    if recorded is not None and held != recorded:
        raise IndexDamagedError(
            f"holds {held[0]} chunks and {held[1]} articles where its state.json "
            f"records {recorded[0]} and {recorded[1]}"
        )
    if recorded is None and (held[0] == 0) != (held[1] == 0):
        raise IndexDamagedError(f"holds {held[0]} chunks of {held[1]} articles")


def check_against(local: LocalIndex, store: ArchiveStore) -> None:
    """At open, for a state that records no counts (written by an older version): an
    index with no articles at a log position past 0 while the store holds some has
    lost its files. One count of the store's manifest.

    Raises:
        IndexDamagedError: so.
    """
    if local.fresh or local.state.counts is not None or local.state.seq == 0:
        return
    if local.counts()[1] == 0 and store.article_count() > 0:
        raise IndexDamagedError("holds no articles while the store holds some")


def check_follows(local: LocalIndex, store: ArchiveStore) -> None:
    """Check that the store's change log holds the record this replica applied last
    (one read of one record).

    Raises:
        IndexDamagedError: the log ends before it (or holds another record there), as
            when the store was restored from a backup or replaced by another.
    """
    seq = local.state.seq
    if seq <= 0:
        return
    record = store.record(seq)
    if record is None:
        raise IndexDamagedError(
            f"has applied the store's change log up to record {seq}, which the log does "
            f"not hold (it ends at {store.head()}: a store restored from a backup?)"
        )
    if local.state.mark and record.mark != local.state.mark:
        raise IndexDamagedError(
            f"has applied another record {seq} than the one the store's change log holds "
            "(a store restored from a backup?)"
        )


if __name__ == "__main__":
    sys.exit(child_main(sys.argv))
