"""The records of the search seam: what an engine hands the searcher, and the hard filters.

Owned by the seam (`core.search.index`), shared by every engine and by the searcher, so
that none of them imports another's internals. May import `core.language` and `core.models`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np

from core.language.text import words
from core.models import StoredArticle

# An undated article's publish time: the smallest 64-bit integer, below every real date
# (0001-01-01 is -62135596800), so articles published before 1970 keep their dates.
UNDATED = -(2**63)
EARLIEST = UNDATED + 1  # the lowest bound of a date filter: every dated article is above it


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
    """A live chunk as an engine holds it, and its BM25 score for the question."""

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
class Candidates:
    """Ranked candidate articles from each of an engine's signals, and their records.

    Attributes:
        lists: Signal name -> doc ids, best first (e.g. "doc_lexical", "chunk_lexical",
            "dense"); the searcher fuses them by rank.
        records: The committed record of every candidate (publish date, title, source…).
        published: Each record's publish time (epoch s; None when undated), parsed once
            by the engine, for the date window and freshness.
    """

    lists: dict[str, list[str]] = field(default_factory=dict)
    records: dict[str, StoredArticle] = field(default_factory=dict)
    published: dict[str, int | None] = field(default_factory=dict)
