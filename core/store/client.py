"""The Chroma client's lifecycle and the model guard, for one collection name.

Owns: opening the client (embedded or server) and the three collections (`<name>` chunks,
`<name>.articles` the manifest, `<name>.log` the change log), reopening and closing it,
every call to Chroma (transient errors retried, outages turned into one clear error), and
the guard that refuses a collection built with another model identity.
May import: `core.errors`, `core.models`, `core.sections`, `core.store.records`.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

from core.errors import ModelMismatchError, StaleReaderError, StoreUnavailableError
from core.models import StoredArticle
from core.sections import StoreSettings
from core.store.records import writer_id

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
STORE_FILE = "chroma.sqlite3"  # what an embedded Chroma store's folder holds once created
_TRANSIENT_TRIES = 4
_LOW_DISK_BYTES = 8 * 1024 * 1024  # under this, a failed write is put down to a full disk


def store_exists(settings: StoreSettings) -> bool:
    """Whether the embedded store's folder holds a store (opening one creates it there); a
    Chroma server is always taken to hold one: it is asked."""
    return settings.server_mode or (settings.chroma_path / STORE_FILE).is_file()


def _connect(settings: StoreSettings) -> Any:
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


def unavailable(settings: StoreSettings, exc: BaseException | None = None) -> StoreUnavailableError:
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


def model_mismatch(settings: StoreSettings, built_with: str, configured: str) -> ModelMismatchError:
    """The error for a collection built with another model identity, saying what to do."""
    from core.encode.embeddings import mismatch_hint

    return ModelMismatchError(
        f"Collection '{settings.collection}' in {settings.label} holds vectors of "
        f"{built_with!r}, but the configured model and encoder make {configured!r}. "
        + mismatch_hint(built_with, configured, settings.collection)
    )


class Connection:
    """A Chroma client and the collections of one name, for one model identity.

    Args:
        settings: Where the store is and which collection to use.
        model_name: The embedding model's identity; a collection built with another is refused.
        dim: The model's embedding dimension.
        create: Create the collections when missing (ingest); readers pass False.
        check_model: Refuse a collection built with another model identity (only the
            re-embed command passes False).

    Attributes:
        chunk_collection, manifest_collection, log_collection: Chroma's collections, None
            while a reader finds none (the log is looked for again by `core.store.changelog`).
    """

    def __init__(
        self,
        settings: StoreSettings,
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
        self.client: Any = None
        self.chunk_collection: Any = None
        self.manifest_collection: Any = None
        self.log_collection: Any = None
        self.opened_at = 0.0
        self.connect()

    def connect(self) -> None:
        """Open the client and the collections (readers find none in an empty store)."""
        self.client = _connect(self.settings)
        self.opened_at = time.time()
        self.chunk_collection = self.manifest_collection = self.log_collection = None
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
        client, self.client = self.client, None
        self.chunk_collection = self.manifest_collection = self.log_collection = None
        if client is not None:
            try:
                client.close()
            except Exception:  # closing must never hide the reason we are closing
                log.debug("closing the Chroma client failed", exc_info=True)

    def _open_collections(self) -> None:
        name = self.settings.collection
        try:
            if self.create:
                self.chunk_collection = self.client.get_or_create_collection(
                    name,
                    metadata=self._base_metadata(),
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=None,
                )
                self.manifest_collection, self.log_collection = (
                    self.client.get_or_create_collection(f"{name}{suffix}", embedding_function=None)
                    for suffix in (".articles", ".log")
                )
            else:  # a reader writes nothing, not even an empty collection
                existing = {
                    c if isinstance(c, str) else c.name for c in self.client.list_collections()
                }
                if name not in existing:
                    return
                self.chunk_collection, self.manifest_collection, self.log_collection = (
                    self.client.get_collection(full, embedding_function=None)
                    if full in existing
                    else None
                    for full in (name, f"{name}.articles", f"{name}.log")
                )
        except ValueError:
            raise
        except Exception as exc:
            raise unavailable(self.settings, exc) from exc
        if self.check_model:
            self.guard_model()

    def _base_metadata(self) -> dict[str, Any]:
        return {"embedding_model": self.model_name, "dim": self.dim, "schema": SCHEMA_VERSION}

    def guard_model(self, built_with: str | None = None) -> None:
        """Refuse a collection built with another model identity than ours.

        Args:
            built_with: The identity the collection records (read from the collection as
                opened when not given).
        """
        if built_with is None:
            built_with = (self.chunk_collection.metadata or {}).get("embedding_model")
        if built_with and built_with != self.model_name:
            raise model_mismatch(self.settings, built_with, self.model_name)

    def recorded_model(self) -> str | None:
        """The model identity the collection records now, read afresh (`ingest --reembed`
        in another process changes it); None when there is no collection."""
        if not self.exists:
            return None
        collection = self.call(
            self.client.get_collection, self.settings.collection, embedding_function=None
        )
        return (collection.metadata or {}).get("embedding_model")

    def record_model(self, model_name: str) -> None:
        """Record another model identity in the collection (re-embedding). Writers of the
        old identity are refused from then on, readers follow it (`core.search.archive`)."""
        meta = {**(self.chunk_collection.metadata or {}), "embedding_model": model_name}
        self.call(self.chunk_collection.modify, metadata=meta)
        self.chunk_collection = self.client.get_collection(
            self.settings.collection, embedding_function=None
        )

    def sees_vectors(self, article: StoredArticle) -> bool:
        """Whether this client reads the vectors `ingest --reembed` gave an article: an
        embedded client opened before another process overwrote them keeps returning the
        old ones (measured), as it does for its nearest-neighbour queries (FACTS.md)."""
        if self.settings.server_mode or not article.vectors_at:
            return True
        return article.vectors_by == writer_id() or article.vectors_at < self.opened_at

    @property
    def exists(self) -> bool:
        """True when the chunk collection exists (a reader may find none yet)."""
        if self.chunk_collection is None and self.client is not None:
            self._open_collections()
        return self.chunk_collection is not None

    @property
    def collection_id(self) -> str:
        """The chunk collection's id: a local index built for another collection is stale."""
        return str(self.chunk_collection.id) if self.exists else ""

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
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
