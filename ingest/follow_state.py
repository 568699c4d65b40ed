"""What `ingest follow` remembers between polls and restarts, in SQLite (FOLLOW_DB).

- `sources`: per feed, sitemap or homepage, its validators (ETag, Last-Modified), what it
  led to last time (sitemaps of an index, feeds of a homepage) and when it was polled.
- `pages`: per article URL, the modification date its source gave when it was last
  fetched, the content hash stored, failures in a row, and since when it answers 404/410.
- `hosts`: per host, the time before which it asked not to be asked again (Retry-After,
  backoff after 429 and 5xx).

A restart resumes from here: nothing is fetched again without a reason (a new URL, a newer
modification date, an earlier failure to retry).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    kind TEXT,
    children TEXT,
    polled_at REAL
);
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    modified TEXT,
    content_hash TEXT,
    fetched_at REAL,
    failures INTEGER NOT NULL DEFAULT 0,
    gone_since REAL,
    gone INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS hosts (
    host TEXT PRIMARY KEY,
    not_before REAL NOT NULL DEFAULT 0,
    strikes INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass
class SourceState:
    """A source's validators and what it listed when last read in full."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    kind: str | None = None
    children: list[str] | None = None
    polled_at: float | None = None


@dataclass
class PageState:
    """An article URL as last seen."""

    url: str
    modified: str | None = None
    content_hash: str | None = None
    fetched_at: float | None = None
    failures: int = 0
    gone_since: float | None = None
    gone: bool = False  # withdrawn (pruned) or given up on: fetched again only when re-dated


def _open(path: Path) -> sqlite3.Connection:
    """The state file, its tables created when new (DatabaseError when it is no database)."""
    db = sqlite3.connect(path, timeout=30)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


class FollowState:
    """The follow state file; each change is committed at once (a kill loses nothing)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = _open(path)
        except sqlite3.DatabaseError as exc:
            # What it holds can be learned again (validators, hashes: the next poll fetches
            # once more and ingest finds unchanged articles unchanged), so a damaged file is
            # set aside, not a reason to stop following.
            aside = path.with_name(f"{path.name}.damaged-{int(time.time())}")
            path.rename(aside)
            log.warning("%s could not be read (%s); moved to %s, starting afresh", path, exc, aside)
            self.db = _open(path)

    def close(self) -> None:
        """Close the file."""
        self.db.close()

    def source(self, url: str) -> SourceState:
        """A source's state (empty when never polled)."""
        row = self.db.execute(
            "SELECT etag, last_modified, kind, children, polled_at FROM sources WHERE url = ?",
            (url,),
        ).fetchone()
        if row is None:
            return SourceState(url)
        children = json.loads(row[3]) if row[3] else None
        return SourceState(url, row[0], row[1], row[2], children, row[4])

    def save_source(self, state: SourceState) -> None:
        """Record a source's validators and listing after a full read."""
        children = json.dumps(state.children) if state.children is not None else None
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?)",
                (
                    state.url,
                    state.etag,
                    state.last_modified,
                    state.kind,
                    children,
                    state.polled_at,
                ),
            )

    def touch_source(self, url: str) -> None:
        """Record that a source was polled (and had not changed)."""
        with self.db:
            self.db.execute("UPDATE sources SET polled_at = ? WHERE url = ?", (time.time(), url))

    def pages(self, urls: list[str]) -> dict[str, PageState]:
        """The states of those URLs that have one."""
        found: dict[str, PageState] = {}
        for start in range(0, len(urls), 500):
            batch = urls[start : start + 500]
            marks = ",".join("?" * len(batch))
            for row in self.db.execute(
                "SELECT url, modified, content_hash, fetched_at, failures, gone_since, gone "
                f"FROM pages WHERE url IN ({marks})",
                batch,
            ):
                found[row[0]] = _page(row)
        return found

    def retrying(self) -> list[PageState]:
        """Pages that failed last time or answered 404/410 and are not given up on."""
        rows = self.db.execute(
            "SELECT url, modified, content_hash, fetched_at, failures, gone_since, gone "
            "FROM pages WHERE gone = 0 AND (failures > 0 OR gone_since IS NOT NULL)"
        )
        return [_page(row) for row in rows]

    def save_page(self, page: PageState) -> None:
        """Record a page's state."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    page.url,
                    page.modified,
                    page.content_hash,
                    page.fetched_at,
                    page.failures,
                    page.gone_since,
                    int(page.gone),
                ),
            )

    def host_wait(self, host: str) -> tuple[float, int]:
        """Until when a host asked to be left alone, and its failures in a row."""
        row = self.db.execute(
            "SELECT not_before, strikes FROM hosts WHERE host = ?", (host,)
        ).fetchone()
        return (row[0], row[1]) if row else (0.0, 0)

    def save_host(self, host: str, not_before: float, strikes: int) -> None:
        """Record a host's back-off."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO hosts VALUES (?, ?, ?)", (host, not_before, strikes)
            )


def _page(row: tuple[object, ...]) -> PageState:
    url, modified, content_hash, fetched_at, failures, gone_since, gone = row
    return PageState(
        str(url),
        modified if isinstance(modified, str) else None,
        content_hash if isinstance(content_hash, str) else None,
        float(fetched_at) if isinstance(fetched_at, (int, float)) else None,
        int(failures) if isinstance(failures, int) else 0,
        float(gone_since) if isinstance(gone_since, (int, float)) else None,
        bool(gone),
    )
