"""THE Chroma contract: both `ingest` and the bot open the store through this module.

Three collections per name:

- `<name>` holds chunks (id `<key>:<hash12>:<index>`), embedded with the recorded model,
  cosine distance, metadata `doc_id`, `content_hash`, `chunk_index`, `start`, `end`, `title`,
  `source`, `published_at`, `published_ts`, `url`, `path`, `modified_at` (when known).
- `<name>.articles` is the manifest: one record per article. It is the commit point.
- `<name>.log` is the change log: one record per write (`seq` 1, 2, 3, …), naming the
  articles it commits or deletes and the versions they replace. Readers follow it to keep
  their local index current at a cost proportional to what changed (`core.search.replica`); the
  sweep follows it to clean up after interrupted writes without reading the archive.

Writing articles: (0) append their intent to the log, (1) upsert their chunks, (2) upsert
their manifest records (the commit), (3) delete the chunks of the versions they replace.
A chunk is live only when its `content_hash` is the one the manifest holds for its article,
so a process killed between any two steps leaves either the old article or the new one
visible, never half of one; `sweep()` removes what such a process left behind.

Re-embedding (`ingest --reembed`, `replace_vectors`) overwrites vectors in place and is
logged the same way; the manifest records say whose vectors each article holds (`vectors`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ModelMismatchError, StaleReaderError, StoreUnavailableError
from core.models import Article, Chunk, StoredArticle, StoreSummary
from core.settings import Settings

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
_PAGE = 2000
_ID_BATCH = 500
_LOG_PAGE = 50  # log records read per call when looking back
SWEEP_AFTER_SECONDS = 600.0  # an uncommitted write this old, from anywhere, was abandoned
_TRANSIENT_TRIES = 4


@dataclass(frozen=True)
class ChunkHit:
    """A chunk as the store returns it, with its metadata (and its vector when asked)."""

    id: str
    doc_id: str
    index: int
    text: str
    meta: dict[str, Any]
    embedding: np.ndarray | None = None


@dataclass(frozen=True)
class DenseHit:
    """A chunk from Chroma's nearest-neighbour index: id, metadata, cosine similarity."""

    id: str
    doc_id: str
    content_hash: str
    similarity: float
    meta: dict[str, Any]


@dataclass(frozen=True)
class Version:
    """One version of an article: its content hash and how many chunks it has."""

    content_hash: str
    n_chunks: int


@dataclass
class Change:
    """One log record: the state each named article should reach once the write commits.

    Attributes:
        seq: Position in the log (1, 2, …).
        at: When it was written (epoch seconds).
        target: doc_id -> the version being committed, or None for a deletion.
        replaced: doc_id -> the version it replaces (None when new), for the sweep.
        writer: `host:pid` of the writing process.
        mark: What tells this record from another with the same `seq` (a store restored
            from a backup logs other records under the numbers a replica has seen).
        unreadable: The record could not be parsed (written by something else): it names
            no article.
    """

    seq: int
    at: float
    target: dict[str, Version | None] = field(default_factory=dict)
    replaced: dict[str, Version | None] = field(default_factory=dict)
    writer: str = ""
    mark: str = ""
    unreadable: bool = False


def article_key(doc_id: str) -> str:
    """A short, id-safe key for an article's records."""
    return hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:20]


def chunk_ids(doc_id: str, version: Version) -> list[str]:
    """The ids of a version's chunks (they are derived, so no query is needed to find them)."""
    key, digest = article_key(doc_id), version.content_hash[:12]
    return [f"{key}:{digest}:{i}" for i in range(version.n_chunks)]


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


STORE_FILE = "chroma.sqlite3"  # what an embedded Chroma store's folder holds once created


def store_exists(settings: Settings) -> bool:
    """Whether the embedded store's folder holds a store (opening one creates it there); a
    Chroma server is always taken to hold one: it is asked."""
    return settings.server_mode or (settings.chroma_path / STORE_FILE).is_file()


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
    """The error for a store that cannot be reached or fails, saying what to do."""
    cause = f" ({type(exc).__name__}: {str(exc)[:200]})" if exc else ""
    if settings.server_mode:
        where = f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}"
        if exc is not None and not _unreachable(exc):
            return StoreUnavailableError(
                f"{where[0].upper()}{where[1:]} failed a request{cause}. The server's log "
                "says more."
            )
        hint = (
            f"Cannot reach {where}. Start it with `chroma run --path {settings.chroma_path} "
            f"--port {settings.chroma_port}`, or unset CHROMA_HOST to use the embedded store."
        )
    else:
        free = _free_bytes(settings.chroma_path)
        if free is not None and free < _LOW_DISK_BYTES:  # Chroma's own error hides ENOSPC
            hint = (
                f"Cannot write the embedded store at {settings.chroma_path}{cause}: its disk "
                f"is full ({free // 1024} KB free). Free some space there, or set CHROMA_PATH."
            )
        else:
            hint = f"Cannot open the embedded store at {settings.chroma_path}{cause}."
            hint += " Check the folder's permissions, or set CHROMA_PATH."
    return StoreUnavailableError(hint)


_LOW_DISK_BYTES = 8 * 1024 * 1024  # under this, a failed write is put down to a full disk


def _free_bytes(folder: Path) -> int | None:
    """Bytes free on the disk holding `folder` (or its nearest existing parent)."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None


def _unreachable(exc: BaseException) -> bool:
    """Whether a Chroma client's error means no server answered (not that one refused)."""
    import httpx

    return isinstance(exc, httpx.TransportError | ConnectionError) or str(exc).startswith(
        "Could not connect to a Chroma server"
    )


def _writer_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Store:
    """The chunk collection, its manifest and its change log, for one model identity.

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
        self._log: Any = None
        self._unreadable: set[int] = set()  # log records already reported as unreadable
        self.opened_at = 0.0
        self.connect()

    # -- opening -------------------------------------------------------------------------

    def connect(self) -> None:
        """Open the client and the collections (readers find none in an empty store)."""
        self._client = _connect(self.settings)
        self.opened_at = time.time()
        self._chunks = self._manifest = self._log = None
        self._open_collections()

    def reopen(self) -> None:
        """Close the client and open a new one.

        An embedded Chroma client keeps serving the vector index it loaded: another
        process's writes reach its nearest-neighbour queries only through a new client.
        The old one is closed first, so its index memory is released (opening new clients
        without closing the old ones made a long-running bot grow without bound).
        """
        self.close()
        if not self.settings.server_mode:
            # Another client in this process may still hold the same Chroma system (one per
            # path); the next client must start a new one to see the files as they are now.
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient._identifier_to_system.pop(str(self.settings.chroma_path), None)
        self.connect()

    def close(self) -> None:
        """Release the client (and, when it was the last user, Chroma's system)."""
        client, self._client = self._client, None
        self._chunks = self._manifest = self._log = None
        if client is not None:
            try:
                client.close()
            except Exception:  # closing must never hide the reason we are closing
                log.debug("closing the Chroma client failed", exc_info=True)

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
                self._manifest, self._log = (
                    self._client.get_or_create_collection(
                        f"{name}{suffix}", embedding_function=None
                    )
                    for suffix in (".articles", ".log")
                )
            else:  # a reader writes nothing, not even an empty collection
                existing = {
                    c if isinstance(c, str) else c.name for c in self._client.list_collections()
                }
                if name not in existing:
                    return
                self._chunks, self._manifest, self._log = (
                    self._client.get_collection(full, embedding_function=None)
                    if full in existing
                    else None
                    for full in (name, f"{name}.articles", f"{name}.log")
                )
        except ValueError:
            raise
        except Exception as exc:
            raise unavailable(self.settings, exc) from exc
        if self.check_model:
            self._check_model()

    def _base_metadata(self) -> dict[str, Any]:
        return {"embedding_model": self.model_name, "dim": self.dim, "schema": SCHEMA_VERSION}

    def _check_model(self, built_with: str | None = None) -> None:
        if built_with is None:
            built_with = (self._chunks.metadata or {}).get("embedding_model")
        if built_with and built_with != self.model_name:
            from core.encode.embeddings import mismatch_hint

            raise ModelMismatchError(
                f"Collection '{self.settings.collection}' in {self.settings.store_label} holds "
                f"vectors of {built_with!r}, but the configured model and encoder make "
                f"{self.model_name!r}. "
                + mismatch_hint(built_with, self.model_name, self.settings.collection)
            )

    def recorded_model(self) -> str | None:
        """The model identity the collection records now, read afresh (`ingest --reembed`
        in another process changes it); None when there is no collection."""
        if not self.exists:
            return None
        collection = self._call(
            self._client.get_collection, self.settings.collection, embedding_function=None
        )
        return (collection.metadata or {}).get("embedding_model")

    def record_model(self, model_name: str) -> None:
        """Record another model identity in the collection (re-embedding). Writers of the
        old identity are refused from then on, readers follow it (`core.search.archive`)."""
        meta = {**(self._chunks.metadata or {}), "embedding_model": model_name}
        self._call(self._chunks.modify, metadata=meta)
        self._chunks = self._client.get_collection(
            self.settings.collection, embedding_function=None
        )

    def sees_vectors(self, article: StoredArticle) -> bool:
        """Whether this client reads the vectors `ingest --reembed` gave an article: an
        embedded client opened before another process overwrote them keeps returning the
        old ones (measured), as it does for its nearest-neighbour queries (FACTS.md)."""
        if self.settings.server_mode or not article.vectors_at:
            return True
        return article.vectors_by == _writer_id() or article.vectors_at < self.opened_at

    @property
    def exists(self) -> bool:
        """True when the chunk collection exists (a reader may find none yet)."""
        if self._chunks is None and self._client is not None:
            self._open_collections()
        return self._chunks is not None

    @property
    def collection_id(self) -> str:
        """The chunk collection's id: a local index built for another collection is stale."""
        return str(self._chunks.id) if self.exists else ""

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call Chroma; transient embedded-reader errors are retried, outages translated."""
        for attempt in range(_TRANSIENT_TRIES):
            try:
                return fn(*args, **kwargs)
            except (ValueError, TypeError):
                raise
            except Exception as exc:
                # An embedded reader can miss the index files for a moment while another
                # process writes them ("Nothing found on disk"): measured 65 of 5,160 queries.
                if "Nothing found on disk" in str(exc) and attempt + 1 < _TRANSIENT_TRIES:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                if "Error finding id" in str(exc) and not self.settings.server_mode:
                    raise StaleReaderError(
                        "This process's view of the store predates the chunks it asked for."
                    ) from exc
                raise unavailable(self.settings, exc) from exc
        raise AssertionError("unreachable")

    # -- the change log ------------------------------------------------------------------

    def _log_collection(self) -> Any:
        """The change log, looked for again when a reader opened the store before a writer
        created it."""
        if self._log is None and self.exists:
            try:
                self._log = self._client.get_collection(
                    f"{self.settings.collection}.log", embedding_function=None
                )
            except Exception:  # not created yet (or the store is down: the next call says)
                return None
        return self._log

    def head(self) -> int:
        """The log's last sequence number (0 when nothing was ever written)."""
        if self._log_collection() is None:
            return 0
        return int(self._call(self._log.count))

    def changes(self, after: int, limit: int = 200) -> list[Change]:
        """Log records after `after`, in order, at most `limit` (stops at the first gap)."""
        if self._log_collection() is None:
            return []
        wanted = [_log_id(seq) for seq in range(after + 1, after + 1 + limit)]
        page = self._call(self._log.get, ids=wanted, include=["documents"])
        found = dict(zip(page["ids"], page["documents"], strict=True))
        out = []
        for seq in range(after + 1, after + 1 + limit):
            document = found.get(_log_id(seq))
            if document is None:
                break
            change = _parse_change(seq, document)
            if change.unreadable and seq not in self._unreadable:
                self._unreadable.add(seq)
                log.warning(
                    "record %d of the change log of '%s' is not one this program wrote; "
                    "skipped (it names no article)",
                    seq,
                    self.settings.collection,
                )
            out.append(change)
        return out

    def record(self, seq: int) -> Change | None:
        """The log record at `seq`, or None when the log has none there."""
        found = self.changes(seq - 1, 1) if seq > 0 else []
        return found[0] if found else None

    def in_flight_since(self, head: int, now: float | None = None) -> int:
        """A log position at or before every record up to `head` whose write may still
        commit: records younger than `SWEEP_AFTER_SECONDS` (older ones were abandoned), read
        back from `head` a page at a time. Costs what was logged in that time, not the log."""
        now = time.time() if now is None else now
        after = head
        while after > 0:
            after = max(0, after - _LOG_PAGE)
            page = self.changes(after, _LOG_PAGE)
            if not page or now - page[0].at > SWEEP_AFTER_SECONDS:
                break
        return after

    def _append(
        self, target: dict[str, Version | None], replaced: dict[str, Version | None]
    ) -> int:
        """Append one record to the log; returns its sequence number.

        Two writers may pick the same next number: Chroma keeps the first `add` of an id
        and ignores the second, so each writer reads its record back and takes the next
        number when it lost.
        """
        body = {
            "at": time.time(),
            "writer": _writer_id(),
            "nonce": os.urandom(8).hex(),
            "target": {d: pack_version(v) for d, v in target.items()},
            "replaced": {d: pack_version(v) for d, v in replaced.items()},
        }
        document = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        seq = self.head() + 1
        for _ in range(1000):
            record_id = _log_id(seq)
            self._call(
                self._log.add,
                ids=[record_id],
                embeddings=np.ones((1, 1), dtype=np.float32),
                documents=[document],
                metadatas=[{"seq": seq}],
            )
            got = self._call(self._log.get, ids=[record_id], include=["documents"])
            if got["documents"] and got["documents"][0] == document:
                return seq
            seq += 1
        raise StoreUnavailableError("Could not append to the store's change log; try again.")

    # -- writing -------------------------------------------------------------------------

    def manifest(self, doc_ids: Iterable[str]) -> dict[str, StoredArticle]:
        """The committed records of the given articles (those that exist), by doc_id."""
        if self._manifest is None:
            return {}
        keys = sorted({article_key(d) for d in doc_ids})
        out: dict[str, StoredArticle] = {}
        for begin in range(0, len(keys), _ID_BATCH):
            page = self._call(
                self._manifest.get, ids=keys[begin : begin + _ID_BATCH], include=["metadatas"]
            )
            for meta in page["metadatas"]:
                record = _stored_article(meta)
                out[record.doc_id] = record
        return out

    def write_articles(
        self,
        entries: list[tuple[Article, list[Chunk], np.ndarray]],
        previous: dict[str, StoredArticle] | None = None,
    ) -> int:
        """Store several articles with four calls: intent, chunks, one commit, cleanup.

        Args:
            entries: (article, its chunks, their unit vectors) for each article.
            previous: The committed versions these replace (from `manifest`), by doc_id.

        Returns:
            The log sequence number of this write.
        """
        if not entries:
            return 0
        previous = previous or {}
        ids: list[str] = []
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        records: list[dict[str, Any]] = []
        centroids: list[np.ndarray] = []
        target: dict[str, Version | None] = {}
        replaced: dict[str, Version | None] = {}
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for article, chunks, vectors in entries:
            version = Version(article.content_hash, len(chunks))
            target[article.doc_id] = version
            replaced[article.doc_id] = _version(previous.get(article.doc_id))
            ids += chunk_ids(article.doc_id, version)
            texts += [c.text for c in chunks]
            common = _article_metadata(article)
            metas += [
                {**common, "chunk_index": c.index, "start": c.start, "end": c.end} for c in chunks
            ]
            centroid = vectors.mean(axis=0)
            centroids.append(centroid / (np.linalg.norm(centroid) or 1.0))
            records.append(
                {
                    **common,
                    "vectors": self.model_name,
                    "authors": "; ".join(article.authors),
                    "n_chunks": len(chunks),
                    "ingested_at": now,
                }
            )
        self._check_model(self.recorded_model())  # a re-embed may have begun since we opened
        seq = self._append(target, replaced)  # (0) the intent: readers and the sweep see it
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
            cid
            for doc_id, old in replaced.items()
            if old is not None and old != target[doc_id]
            for cid in chunk_ids(doc_id, old)
        ]
        self._delete_ids(stale)  # (3) superseded versions' chunks
        return seq

    def replace_vectors(
        self, entries: list[tuple[StoredArticle, list[str], np.ndarray]], identity: str
    ) -> int:
        """Give committed articles new vectors in place (re-embedding), logged like a write.

        (0) The intent names the articles at their current versions; (1) the chunks'
        vectors are overwritten (texts and metadata stay); (2) the commit: each manifest
        record gets its new centroid and says whose vectors its chunks now hold (`vectors`,
        with when and by whom); (3) a second record names the articles again, so that a
        reader that applied the intent before the commit picks the new vectors up
        (`core.search.replica` re-indexes an article whose `vectors` changed).

        Args:
            entries: (committed article, its chunk ids in order, their new unit vectors).
            identity: The identity of the new vectors (`core.encode.embeddings.identity`).

        Returns:
            The log sequence number of the last record.
        """
        if not entries:
            return 0
        versions: dict[str, Version | None] = {a.doc_id: _version(a) for a, _, _ in entries}
        self._append(versions, dict(versions))  # (0)
        ids = [cid for _, chunk_ids_, _ in entries for cid in chunk_ids_]
        vectors = np.concatenate([v for _, _, v in entries])
        for begin in range(0, len(ids), _PAGE):  # (1)
            end = begin + _PAGE
            self._call(self._chunks.update, ids=ids[begin:end], embeddings=vectors[begin:end])
        centroids = []
        for _, _, chunk_vectors in entries:
            centroid = chunk_vectors.mean(axis=0)
            centroids.append(centroid / (np.linalg.norm(centroid) or 1.0))
        stamp = {"vectors": identity, "vectors_at": time.time(), "vectors_by": _writer_id()}
        self._call(  # (2) the commit (metadata given is merged into the record's)
            self._manifest.update,
            ids=[article_key(a.doc_id) for a, _, _ in entries],
            embeddings=np.array(centroids),
            metadatas=[dict(stamp) for _ in entries],
        )
        return self._append(versions, dict(versions))  # (3)

    def delete_article(self, doc_id: str) -> bool:
        """Remove an article: logged, then the manifest (it disappears at once), then chunks.

        Returns:
            False when no such article is committed.
        """
        old = self.manifest([doc_id]).get(doc_id)
        if old is None:
            return False
        version = _version(old)
        self._append({doc_id: None}, {doc_id: version})
        self._call(self._manifest.delete, ids=[article_key(doc_id)])
        self._delete_ids(chunk_ids(doc_id, version) if version else [])
        return True

    def _delete_ids(self, ids: list[str]) -> None:
        for begin in range(0, len(ids), _PAGE):
            self._call(self._chunks.delete, ids=ids[begin : begin + _PAGE])

    def sweep(self, now: float | None = None) -> int:
        """Delete chunks that no committed article owns, left by interrupted or raced writes.

        Reads only the log records written since the last sweep, so it costs what changed,
        not the archive. A write that has not committed counts as abandoned once its
        process is gone (same host) or after `SWEEP_AFTER_SECONDS` (any host).

        Returns:
            How many chunk ids were deleted.
        """
        if not self.exists:
            return 0
        meta = dict(self._log.metadata or {})
        if meta.get("schema") != SCHEMA_VERSION:
            removed = self._sweep_everything()
            self._call(self._log.modify, metadata={"schema": SCHEMA_VERSION, "swept": self.head()})
            return removed
        swept, removed, settled = int(meta.get("swept", 0)), 0, True
        mark = swept
        while True:
            batch = self.changes(swept, _ID_BATCH)
            if not batch:
                break
            live = self.manifest(d for change in batch for d in change.target)
            ids: list[str] = []
            for change in batch:
                done, leftovers = _cleanup(change, live, now or time.time())
                ids += leftovers
                settled = settled and done
                mark = change.seq if settled else mark
            # A version can be named more than once (a re-embed logs it as target and as
            # replaced, twice), and Chroma refuses a request that repeats an id.
            left = self._existing(list(dict.fromkeys(ids)))  # most are gone: count the rest
            self._delete_ids(left)
            removed += len(left)
            swept = batch[-1].seq
        if mark != int(meta.get("swept", 0)):
            self._call(self._log.modify, metadata={"schema": SCHEMA_VERSION, "swept": mark})
        return removed

    def _existing(self, ids: list[str]) -> list[str]:
        out: list[str] = []
        for begin in range(0, len(ids), _ID_BATCH):
            page = self._call(self._chunks.get, ids=ids[begin : begin + _ID_BATCH], include=[])
            out += page["ids"]
        return out

    def _sweep_everything(self) -> int:
        """The sweep of a store written before the log existed: every chunk is checked once."""
        live = {a.doc_id: a.content_hash for a in self.articles()}
        orphans = [
            hit.id
            for hit in self.iter_chunks(include_documents=False)
            if live.get(hit.doc_id) != hit.meta.get("content_hash")
        ]
        self._delete_ids(orphans)
        return len(orphans)

    # -- reading -------------------------------------------------------------------------

    def nearest(self, vector: np.ndarray, k: int) -> list[DenseHit]:
        """The k chunks nearest to a unit vector by Chroma's HNSW index, nearest first.

        The index may hold chunks that are not live (superseded, or not yet committed):
        callers check `content_hash` against the committed article.
        """
        if not self.exists or k <= 0:
            return []
        result = self._call(
            self._chunks.query,
            query_embeddings=np.asarray(vector, dtype=np.float32)[None, :],
            n_results=k,
            include=["metadatas", "distances"],
        )
        hits = []
        for cid, meta, distance in zip(
            result["ids"][0], result["metadatas"][0], result["distances"][0], strict=True
        ):
            if meta:
                hits.append(
                    DenseHit(cid, meta["doc_id"], meta["content_hash"], 1.0 - distance, meta)
                )
        return hits

    def chunks_of(self, articles: list[StoredArticle]) -> list[ChunkHit]:
        """The chunks of the given committed versions, with their texts and vectors."""
        ids = [
            cid
            for a in articles
            for cid in chunk_ids(a.doc_id, Version(a.content_hash, a.n_chunks))
        ]
        out: list[ChunkHit] = []
        for begin in range(0, len(ids), _ID_BATCH):
            page = self._call(
                self._chunks.get,
                ids=ids[begin : begin + _ID_BATCH],
                include=["metadatas", "documents", "embeddings"],
            )
            out += _hits(page)
        return out

    def articles(self) -> list[StoredArticle]:
        """Every committed article, from the manifest (for listings; O(archive))."""
        return list(self.iter_articles())

    def iter_articles(self) -> Iterator[StoredArticle]:
        """Every committed article, page by page."""
        if self._manifest is None:
            return
        offset = 0
        while True:
            page = self._call(self._manifest.get, include=["metadatas"], limit=_PAGE, offset=offset)
            yield from (_stored_article(m) for m in page["metadatas"])
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    def iter_chunks(
        self, include_documents: bool = True, include_embeddings: bool = False
    ) -> Iterator[ChunkHit]:
        """Every chunk in the collection, live or not, page by page (O(archive))."""
        if self._chunks is None:
            return
        include = ["metadatas"]
        include += ["documents"] if include_documents else []
        include += ["embeddings"] if include_embeddings else []
        offset = 0
        while True:
            page = self._call(self._chunks.get, include=include, limit=_PAGE, offset=offset)
            yield from _hits(page)
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    def find_article(self, *candidates: str) -> StoredArticle | None:
        """The committed article with one of these ids, URLs or file paths (`ingest --delete`)."""
        found = self.manifest(candidates)
        for candidate in candidates:
            if candidate in found:
                return found[candidate]
        for key in ("url", "path"):
            for value in candidates:
                page = self._call(
                    self._manifest.get, where={key: value}, limit=1, include=["metadatas"]
                )
                if page["metadatas"]:
                    return _stored_article(page["metadatas"][0])
        return None

    def article_count(self) -> int:
        """How many articles are committed (one count, no read of the archive)."""
        return int(self._call(self._manifest.count)) if self._manifest is not None else 0

    def summary(self) -> StoreSummary:
        """Article and chunk counts and the publish-date range (reads the manifest)."""
        dates = sorted(a.published_at[:10] for a in self.iter_articles() if a.published_at)
        articles = self._call(self._manifest.count) if self._manifest is not None else 0
        chunks = self._call(self._chunks.count) if self._chunks is not None else 0
        return StoreSummary(
            articles, chunks, dates[0] if dates else None, dates[-1] if dates else None
        )


def _log_id(seq: int) -> str:
    return f"{seq:012d}"


def pack_version(version: Version | None) -> list[Any] | None:
    """A version as the log writes it: [content hash, chunk count], or None."""
    return None if version is None else [version.content_hash, version.n_chunks]


def _unpack(value: Any) -> Version | None:
    return None if not value else Version(str(value[0]), int(value[1]))


def _version(article: StoredArticle | None) -> Version | None:
    return None if article is None else Version(article.content_hash, article.n_chunks)


def _parse_change(seq: int, document: Any) -> Change:
    """A log record; one that is not what `_append` writes names no article (`unreadable`),
    so that following the log goes on past it."""
    mark = hashlib.sha1(str(document).encode("utf-8", "replace")).hexdigest()[:16]
    try:
        body = json.loads(document)
        return Change(
            seq=seq,
            at=float(body.get("at", 0.0)),
            target={str(d): _unpack(v) for d, v in body.get("target", {}).items()},
            replaced={str(d): _unpack(v) for d, v in body.get("replaced", {}).items()},
            writer=str(body.get("writer", "")),
            mark=mark,
        )
    except (
        ValueError,
        TypeError,
        AttributeError,
        KeyError,
        IndexError,
        RecursionError,
        OverflowError,
    ):  # a count of 1e400
        return Change(seq=seq, at=0.0, mark=mark, unreadable=True)


def abandoned(change: Change, now: float) -> bool:
    """True when an uncommitted write can no longer commit: its process is gone, or it is
    older than `SWEEP_AFTER_SECONDS`."""
    if now - change.at > SWEEP_AFTER_SECONDS:
        return True
    host, _, pid = change.writer.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    return not os.path.exists(f"/proc/{pid}")


def _cleanup(change: Change, live: dict[str, StoredArticle], now: float) -> tuple[bool, list[str]]:
    """What the sweep deletes for one log record, and whether that record is settled."""
    ids: list[str] = []
    settled = True
    for doc_id, wanted in change.target.items():
        current = _version(live.get(doc_id))
        if current != wanted and not abandoned(change, now):
            settled = False
            continue
        for version in (wanted, change.replaced.get(doc_id)):
            if version is not None and version != current:
                ids += chunk_ids(doc_id, version)
    return settled, ids


def _hits(page: dict[str, Any]) -> list[ChunkHit]:
    count = len(page["ids"])
    docs = page.get("documents") or [""] * count
    vectors = page.get("embeddings")
    vectors = [None] * count if vectors is None else vectors
    return [
        ChunkHit(cid, meta["doc_id"], int(meta["chunk_index"]), text or "", meta, vector)
        for cid, meta, text, vector in zip(
            page["ids"], page["metadatas"], docs, vectors, strict=True
        )
    ]


def _article_metadata(article: Article) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "doc_id": article.doc_id,
        "content_hash": article.content_hash,
        "title": article.title,
        "source": article.source,
    }
    for name in ("published_at", "url", "path", "modified_at"):
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
        vectors=meta.get("vectors", ""),
        vectors_at=float(meta.get("vectors_at", 0.0)),
        vectors_by=meta.get("vectors_by", ""),
        modified_at=meta.get("modified_at"),
    )


def open_store(
    settings: Settings, model_name: str, dim: int, create: bool = True, check_model: bool = True
) -> Store:
    """Open the configured store (embedded or server) for one embedding model."""
    return Store(settings, model_name, dim, create=create, check_model=check_model)
