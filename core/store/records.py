"""The store's typed records and the names derived from them: what crosses the store's edge.

Owns: `Version`, `Change` (one change-log record), `ChunkHit` and `DenseHit` (chunks as
reads return them, their metadata already typed), how ids are derived from an article and
its version, how the log writes a version, and publish dates as epoch seconds.
May import: `core.models`. Callers read these, never a Chroma metadata dict.
"""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from core.models import StoredArticle


@dataclass(frozen=True)
class ChunkHit:
    """A chunk as the store returns it (with its vector when asked).

    Attributes:
        content_hash: The version of its article it belongs to; the chunk is live only
            while the manifest holds that version.
        start, end: Its offsets in the article's text.
    """

    id: str
    doc_id: str
    index: int
    text: str
    content_hash: str
    start: int = 0
    end: int = 0
    embedding: np.ndarray | None = None


@dataclass(frozen=True)
class DenseHit:
    """A chunk from the nearest-neighbour index: its article's version, its cosine
    similarity, and what the hard filters read (publish time, outlet, URL)."""

    id: str
    doc_id: str
    content_hash: str
    similarity: float
    published_ts: int | None = None
    source: str = ""
    url: str | None = None


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


def version_of(article: StoredArticle | None) -> Version | None:
    """The version a committed article holds (None for no article)."""
    return None if article is None else Version(article.content_hash, article.n_chunks)


def pack_version(version: Version | None) -> list[Any] | None:
    """A version as the log writes it: [content hash, chunk count], or None."""
    return None if version is None else [version.content_hash, version.n_chunks]


def unpack_version(value: Any) -> Version | None:
    """A version as `pack_version` wrote it."""
    return None if not value else Version(str(value[0]), int(value[1]))


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


def writer_id() -> str:
    """This process, as the log and the manifest name a writer: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def centroid(vectors: np.ndarray) -> np.ndarray:
    """The unit mean of an article's chunk vectors (its manifest record's vector)."""
    mean = vectors.mean(axis=0)
    return mean / (np.linalg.norm(mean) or 1.0)
