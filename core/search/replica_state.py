"""The replica's bookkeeping on disk: `state.json`, the records still pending, the folder's
lock, and the errors a replica reports.

`state.json` records the change-log position a replica has applied, the pending records,
and what its indexes should hold; `<collection id>.lock` beside the replica's folder is
held by whoever writes it, or replaces it with one rebuilt aside (`core.search.replicator`).
May import records and `core.store` (the change log's records).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.models import StoredArticle
from core.store import Change, abandoned

INDEX_SCHEMA = 2  # 2: undated articles hold UNDATED, not -1 (1969-12-31T23:59:59)
LOCK_WAIT_SECONDS = 30.0


class IndexBusyError(Exception):
    """Another process holds the replica's writer lock for longer than we wait."""


class IndexDamagedError(Exception):
    """The replica cannot be read, or is not a copy of this store: rebuild it.

    Its message completes "the local index in FOLDER …" (e.g. "has a damaged state.json").
    """


class IndexUnwritableError(Exception):
    """The replica cannot be written (disk full, read-only): it stays as it was, and
    catches up from the store's change log once it can be written again."""


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
            raise IndexDamagedError(f"cannot read its state.json ({reason(exc)})") from exc
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


def unsettled(
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
def folder_lock(folder: Path, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold `<folder>.lock`: whoever writes a replica, or replaces it, holds it.

    Raises:
        IndexBusyError: another process held it for longer than `wait` seconds.
        IndexUnwritableError: the lock file cannot be created.
    """
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder.with_name(f"{folder.name}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise IndexUnwritableError(f"cannot be written ({reason(exc)})") from exc
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


def reason(exc: BaseException) -> str:
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


def failed_write(exc: ValueError) -> bool:
    """Whether tantivy's error is a failed write (its writer thread dies of an I/O error
    while adding documents; a commit reports the I/O error itself)."""
    text = str(exc)
    return "os error" in text or "writer was killed" in text or "IoError" in text


def _count_of(value: Any) -> int:
    """An article count as `state.json` holds it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("count")
    return value


def outdated(mine: StoredArticle | None, live: StoredArticle) -> bool:
    """True when the indexed copy of an article is not the committed one: another version,
    or the same version with other vectors (`ingest --reembed`)."""
    if mine is None or mine.content_hash != live.content_hash:
        return True
    return (mine.vectors, mine.vectors_at) != (live.vectors, live.vectors_at)
