"""The sweep: delete chunks no committed article owns, left by interrupted or raced writes.

It reads only the log records written since the last sweep (the log's metadata keeps where
it got to), so it costs what changed, not the archive. A write that has not committed counts
as abandoned once its process is gone (same host) or after `SWEEP_AFTER_SECONDS` (any host).
May import: `core.models`, `core.store.changelog`, `core.store.client`, `core.store.reads`,
`core.store.records`, `core.store.writes`.
"""

from __future__ import annotations

import time

from core.models import StoredArticle
from core.store.changelog import ChangeLog, abandoned
from core.store.client import SCHEMA_VERSION, Connection
from core.store.reads import ID_BATCH, existing, iter_articles, iter_chunks, manifest
from core.store.records import Change, chunk_ids, version_of
from core.store.writes import delete_ids


def leftovers(change: Change, live: dict[str, StoredArticle], now: float) -> tuple[bool, list[str]]:
    """What the sweep deletes for one log record, and whether that record is settled.

    Args:
        change: The log record.
        live: The committed records of the articles it names, by doc_id.
        now: The time (epoch seconds).

    Returns:
        (settled, chunk ids of the versions it named that are not live).
    """
    ids: list[str] = []
    settled = True
    for doc_id, wanted in change.target.items():
        current = version_of(live.get(doc_id))
        if current != wanted and not abandoned(change, now):
            settled = False
            continue
        for version in (wanted, change.replaced.get(doc_id)):
            if version is not None and version != current:
                ids += chunk_ids(doc_id, version)
    return settled, ids


def sweep(conn: Connection, changelog: ChangeLog, now: float | None = None) -> int:
    """Delete chunks that no committed article owns (see the module's docstring).

    Returns:
        How many chunk ids were deleted.
    """
    if not conn.exists:
        return 0
    log = conn.log_collection
    meta = dict(log.metadata or {})
    if meta.get("schema") != SCHEMA_VERSION:
        removed = _sweep_everything(conn)
        conn.call(log.modify, metadata={"schema": SCHEMA_VERSION, "swept": changelog.head()})
        return removed
    swept, removed, settled = int(meta.get("swept", 0)), 0, True
    mark = swept
    while True:
        batch = changelog.changes(swept, ID_BATCH)
        if not batch:
            break
        live = manifest(conn, (d for change in batch for d in change.target))
        ids: list[str] = []
        for change in batch:
            done, found = leftovers(change, live, now or time.time())
            ids += found
            settled = settled and done
            mark = change.seq if settled else mark
        # A version can be named more than once (a re-embed logs it as target and as
        # replaced, twice), and Chroma refuses a request that repeats an id.
        left = existing(conn, list(dict.fromkeys(ids)))  # most are gone: count the rest
        delete_ids(conn, left)
        removed += len(left)
        swept = batch[-1].seq
    if mark != int(meta.get("swept", 0)):
        conn.call(log.modify, metadata={"schema": SCHEMA_VERSION, "swept": mark})
    return removed


def _sweep_everything(conn: Connection) -> int:
    """The sweep of a store written before the log existed: every chunk is checked once."""
    live = {a.doc_id: a.content_hash for a in iter_articles(conn)}
    orphans = [
        hit.id
        for hit in iter_chunks(conn, include_documents=False)
        if live.get(hit.doc_id) != (hit.content_hash or None)  # None: none recorded
    ]
    delete_ids(conn, orphans)
    return len(orphans)
