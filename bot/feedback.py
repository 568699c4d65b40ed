"""The feedback store: 👍/👎 clicks with the question, the answer and who clicked (SQLite).

One row per person and answer: clicking again changes the vote instead of adding one.
A 👎 can carry a reason and a line of text (`bot.reasons`), added after the click.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    answer_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    vote       TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    question   TEXT NOT NULL,
    answer     TEXT NOT NULL,
    channel_id TEXT,
    message_ts TEXT,
    clicked_at TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (answer_id, user_id)
);
CREATE INDEX IF NOT EXISTS feedback_clicked_at ON feedback (clicked_at);
"""


@dataclass(frozen=True)
class Vote:
    """One person's verdict on one answer."""

    answer_id: str
    user_id: str
    vote: str
    question: str
    answer: str
    channel_id: str | None = None
    message_ts: str | None = None
    clicked_at: str = ""
    reason: str = ""
    note: str = ""


@dataclass(frozen=True)
class Tally:
    """Counts of 👍 and 👎."""

    up: int
    down: int


class FeedbackStore:
    """Votes in a SQLite file; a connection per call, so any thread may record.

    Args:
        path: The database file (created with its folder on first use).
    """

    def __init__(self, path: Path):
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(feedback)")}
            for added in ("reason", "note") if "reason" not in columns else ():
                db.execute(f"ALTER TABLE feedback ADD COLUMN {added} TEXT NOT NULL DEFAULT ''")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:
                yield db
        finally:
            db.close()

    def record(self, vote: Vote) -> None:
        """Store a click, replacing the same person's earlier vote on that answer."""
        clicked_at = vote.clicked_at or datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as db:
            db.execute(
                "INSERT INTO feedback (answer_id, user_id, vote, question, answer, channel_id, "
                "message_ts, clicked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote, "
                "clicked_at = excluded.clicked_at, "
                # a reason explains one verdict: a changed vote drops it
                "reason = iif(vote = excluded.vote, reason, ''), "
                "note = iif(vote = excluded.vote, note, '')",
                (
                    vote.answer_id,
                    vote.user_id,
                    vote.vote,
                    vote.question,
                    vote.answer,
                    vote.channel_id,
                    vote.message_ts,
                    clicked_at,
                ),
            )

    def votes(
        self, since: datetime | None = None, vote: str | None = None, latest: int | None = None
    ) -> list[Vote]:
        """Stored votes, oldest first: all, or those clicked since `since`, of one kind; only
        the `latest` most recent of them when given (the Home tab shows a few)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT answer_id, user_id, vote, question, answer, channel_id, message_ts, "
                "clicked_at, reason, note FROM feedback "
                "WHERE clicked_at >= ? AND vote = coalesce(?, vote) "
                "ORDER BY clicked_at DESC, rowid DESC LIMIT ?",
                (_start(since), vote, -1 if latest is None else latest),
            ).fetchall()
        return [Vote(*row) for row in reversed(rows)]

    def vote_of(self, answer_id: str, user_id: str) -> Vote | None:
        """One person's stored vote on one answer, if any."""
        with self._connect() as db:
            row = db.execute(
                "SELECT answer_id, user_id, vote, question, answer, channel_id, message_ts, "
                "clicked_at, reason, note FROM feedback WHERE answer_id = ? AND user_id = ?",
                (answer_id, user_id),
            ).fetchone()
        return Vote(*row) if row else None

    def explain(self, answer_id: str, user_id: str, reason: str, note: str) -> None:
        """Add why to a person's vote on an answer."""
        with self._connect() as db:
            db.execute(
                "UPDATE feedback SET reason = ?, note = ? WHERE answer_id = ? AND user_id = ?",
                (reason, note, answer_id, user_id),
            )

    def tally(self, since: datetime | None = None) -> Tally:
        """How many 👍 and 👎 were clicked since `since` (ever, without it)."""
        with self._connect() as db:
            counts = dict(
                db.execute(
                    "SELECT vote, count(*) FROM feedback WHERE clicked_at >= ? GROUP BY vote",
                    (_start(since),),
                ).fetchall()
            )
        return Tally(counts.get("up", 0), counts.get("down", 0))


def _start(since: datetime | None) -> str:
    """`since` as stored `clicked_at` values compare ("" for the beginning of time)."""
    return since.astimezone(UTC).isoformat(timespec="seconds") if since else ""
