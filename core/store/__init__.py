"""The archive store: THE contract both `ingest` and the bot open the archive through.

Owns: the seam (`base.ArchiveStore`) and its typed records (`records`); the Chroma store
(`chroma`, put together from `client`, `changelog`, `writes`, `sweep` and `reads`); an
in-memory store for fast tests (`memory`).
May import: `core.errors`, `core.models`, `core.sections`, and `core.encode` (the model
guard's hint).

The names below are the package's public API: import them from `core.store`.
"""

from core.store.base import ArchiveStore
from core.store.changelog import SWEEP_AFTER_SECONDS, abandoned
from core.store.chroma import ChromaStore, open_store
from core.store.client import store_exists
from core.store.records import (
    Change,
    ChunkHit,
    DenseHit,
    Version,
    article_key,
    chunk_ids,
    pack_version,
    to_timestamp,
)

__all__ = [
    "SWEEP_AFTER_SECONDS",
    "ArchiveStore",
    "Change",
    "ChromaStore",
    "ChunkHit",
    "DenseHit",
    "Version",
    "abandoned",
    "article_key",
    "chunk_ids",
    "open_store",
    "pack_version",
    "store_exists",
    "to_timestamp",
]
