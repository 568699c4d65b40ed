"""What questions read while the live archive changes: the chunks an embedded Chroma client
cannot see yet (`Delta`, searched exactly), and the lock between questions and a reopen.

May import records and `core.search.replicator`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from core.search.replicator import LocalIndex


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


class ReadWriteLock:
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
