"""The change log: one record per write (`seq` 1, 2, 3, …) in the `<name>.log` collection.

Each record names the articles a write commits or deletes and the versions they replace.
Readers follow it to keep their local index current at a cost proportional to what changed
(`core.search.replicator`); the sweep follows it to clean up after interrupted writes without
reading the archive.

Owns: appending a record (two writers may race for a number), reading records in order,
parsing them (one this program did not write names no article), and when an uncommitted
write counts as abandoned.
May import: `core.store.client`, `core.store.records`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from core.errors import StoreUnavailableError
from core.store.client import Connection
from core.store.records import Change, Version, pack_version, unpack_version, writer_id

log = logging.getLogger(__name__)

SWEEP_AFTER_SECONDS = 600.0  # an uncommitted write this old, from anywhere, was abandoned
_LOG_PAGE = 50  # log records read per call when looking back


def log_id(seq: int) -> str:
    """The id of the log record at `seq`."""
    return f"{seq:012d}"


def change_document(target: dict[str, Version | None], replaced: dict[str, Version | None]) -> str:
    """A new log record as the log stores it (JSON; `nonce` tells two racing writers apart)."""
    body = {
        "at": time.time(),
        "writer": writer_id(),
        "nonce": os.urandom(8).hex(),
        "target": {d: pack_version(v) for d, v in target.items()},
        "replaced": {d: pack_version(v) for d, v in replaced.items()},
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def parse_change(seq: int, document: Any) -> Change:
    """A log record; one that is not what `change_document` writes names no article
    (`unreadable`), so that following the log goes on past it."""
    mark = hashlib.sha1(str(document).encode("utf-8", "replace")).hexdigest()[:16]
    try:
        body = json.loads(document)
        return Change(
            seq=seq,
            at=float(body.get("at", 0.0)),
            target={str(d): unpack_version(v) for d, v in body.get("target", {}).items()},
            replaced={str(d): unpack_version(v) for d, v in body.get("replaced", {}).items()},
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


def warn_unreadable(seq: int, collection: str) -> None:
    """Say once that a log record is not one this program wrote (never what it holds)."""
    log.warning(
        "record %d of the change log of '%s' is not one this program wrote; "
        "skipped (it names no article)",
        seq,
        collection,
    )


def in_flight_since(
    changes: Callable[[int, int], list[Change]], head: int, now: float | None = None
) -> int:
    """A log position at or before every record up to `head` whose write may still commit:
    records younger than `SWEEP_AFTER_SECONDS` (older ones were abandoned), read back from
    `head` a page at a time with `changes(after, limit)`. Costs what was logged in that
    time, not the log."""
    now = time.time() if now is None else now
    after = head
    while after > 0:
        after = max(0, after - _LOG_PAGE)
        page = changes(after, _LOG_PAGE)
        if not page or now - page[0].at > SWEEP_AFTER_SECONDS:
            break
    return after


class ChangeLog:
    """The change log of a Chroma connection's collection."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self._unreadable: set[int] = set()  # records already reported as unreadable

    def collection(self) -> Any:
        """The log's collection, looked for again when a reader opened the store before a
        writer created it; None when there is none."""
        conn = self.connection
        if conn.log_collection is None and conn.exists:
            try:
                conn.log_collection = conn.client.get_collection(
                    f"{conn.settings.collection}.log", embedding_function=None
                )
            except Exception:  # not created yet (or the store is down: the next call says)
                return None
        return conn.log_collection

    def head(self) -> int:
        """The log's last sequence number (0 when nothing was ever written)."""
        collection = self.collection()
        if collection is None:
            return 0
        return int(self.connection.call(collection.count))

    def changes(self, after: int, limit: int = 200) -> list[Change]:
        """Log records after `after`, in order, at most `limit` (stops at the first gap)."""
        collection = self.collection()
        if collection is None:
            return []
        wanted = [log_id(seq) for seq in range(after + 1, after + 1 + limit)]
        page = self.connection.call(collection.get, ids=wanted, include=["documents"])
        found = dict(zip(page["ids"], page["documents"], strict=True))
        out = []
        for seq in range(after + 1, after + 1 + limit):
            document = found.get(log_id(seq))
            if document is None:
                break
            change = parse_change(seq, document)
            if change.unreadable and seq not in self._unreadable:
                self._unreadable.add(seq)
                warn_unreadable(seq, self.connection.settings.collection)
            out.append(change)
        return out

    def record(self, seq: int) -> Change | None:
        """The log record at `seq`, or None when the log has none there."""
        found = self.changes(seq - 1, 1) if seq > 0 else []
        return found[0] if found else None

    def in_flight_since(self, head: int, now: float | None = None) -> int:
        """See `in_flight_since` (the function)."""
        return in_flight_since(self.changes, head, now)

    def append(self, target: dict[str, Version | None], replaced: dict[str, Version | None]) -> int:
        """Append one record to the log; returns its sequence number.

        Two writers may pick the same next number: Chroma keeps the first `add` of an id
        and ignores the second, so each writer reads its record back and takes the next
        number when it lost.
        """
        document = change_document(target, replaced)
        seq = self.head() + 1
        collection, call = self.connection.log_collection, self.connection.call
        for _ in range(1000):
            record_id = log_id(seq)
            call(
                collection.add,
                ids=[record_id],
                embeddings=np.ones((1, 1), dtype=np.float32),
                documents=[document],
                metadatas=[{"seq": seq}],
            )
            got = call(collection.get, ids=[record_id], include=["documents"])
            if got["documents"] and got["documents"][0] == document:
                return seq
            seq += 1
        raise StoreUnavailableError("Could not append to the store's change log; try again.")
