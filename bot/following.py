"""The answers the bot follows for corrections, shared by every bot process on the host.

Each answer posted in a conversation is followed for FOLLOW_ANSWERS_DAYS with the version
(content hash) of every article it quotes. When the archive's change log names one of those
articles, the answer's edit becomes due; due edits are claimed by one process at a time, at
most FOLLOW_ANSWERS_PER_MINUTE a minute across processes (`bot.corrections` makes them).
The tables live in the shared state file (`bot.state.SharedState`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.state import PostedAnswer, SharedState

CLAIM_TTL = 300.0  # an edit claimed by a process that stopped is taken over after this
DAY = 24 * 3600.0


@dataclass(frozen=True)
class Correction:
    """An answer to edit because an article it quotes changed: where, why, and what was asked.

    Attributes:
        channel: Where the answer is.
        answer: The answer as posted (its ts, thread, asker, question and context).
        note: The line shown above the new answer.
        claim: This process's claim on the edit (`FollowedAnswers.done` needs it).
    """

    channel: str
    answer: PostedAnswer
    note: str
    claim: tuple[str, float]


class FollowedAnswers:
    """The answers posted lately, with the version of each article they quote, and the edits
    due because one of those articles changed.

    Every bot process on the host shares them: the log position up to which changes were
    looked at moves only forward, by one process at a time, and an edit is claimed in one
    transaction, so exactly one process makes it; at most `per_minute` edits are claimed a
    minute, across processes (the rest stay due, oldest first).

    Args:
        state: The shared file.
        days: How long after posting an answer is followed.
        per_minute: The most edits a minute.
        owner: Who claims (a process).
    """

    def __init__(self, state: SharedState, days: float, per_minute: int, owner: str):
        self.state, self.ttl, self.per_minute, self.owner = state, days * DAY, per_minute, owner

    def remember(
        self, channel: str, bot: str, answer: PostedAnswer, quoted: dict[str, str]
    ) -> None:
        """Follow an answer posted by `bot`, quoting `quoted` (doc id -> content hash)."""
        if not quoted:
            return
        now = self.state.clock()
        key = (channel, answer.answer_ts)
        with self.state.connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO followed_answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, bot, answer.thread_ts, answer.user, answer.question, answer.context, now),
            )
            self._quote(db, key, quoted, now)
            self.state.wrote(db)

    def _quote(
        self, db: sqlite3.Connection, key: tuple[str, str], quoted: dict[str, str], at: float
    ) -> None:
        db.execute("DELETE FROM quoted_articles WHERE channel = ? AND answer_ts = ?", key)
        db.executemany(
            "INSERT INTO quoted_articles VALUES (?, ?, ?, ?, ?)",
            [(*key, doc_id, digest, at) for doc_id, digest in quoted.items()],
        )

    def position(self, current: int) -> int:
        """The log position up to which changes were looked at (`current` the first time)."""
        with self.state.connect() as db:
            db.execute("INSERT OR IGNORE INTO log_position VALUES ('changes', ?)", (current,))
            row = db.execute("SELECT seq FROM log_position WHERE name = 'changes'").fetchone()
        return int(row[0])

    def quoting(self, changed: dict[str, str | None]) -> list[tuple[str, str, str]]:
        """(channel, answer ts, doc id) of the followed answers that quote another version
        of a changed article (`changed`: doc id -> its new content hash, None if deleted)."""
        since = self.state.clock() - self.ttl
        found: list[tuple[str, str, str]] = []
        ids = list(changed)
        with self.state.connect() as db:
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                marks = ",".join("?" * len(part))
                rows = db.execute(
                    "SELECT channel, answer_ts, doc_id, content_hash FROM quoted_articles "
                    f"WHERE doc_id IN ({marks}) AND at >= ?",
                    (*part, since),
                ).fetchall()
                found += [(c, ts, d) for c, ts, d, h in rows if changed[d] != h]
        return found

    def due(self, before: int, after: int, notes: dict[tuple[str, str], str]) -> bool:
        """Move the log position from `before` to `after`, making the edits `notes` names
        (channel, answer ts -> note) due; False (nothing done) when another process moved
        it first."""
        now = self.state.clock()
        with self.state.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            moved = db.execute(
                "UPDATE log_position SET seq = ? WHERE name = 'changes' AND seq = ?",
                (after, before),
            ).rowcount
            if not moved:
                return False
            db.executemany(
                "INSERT INTO corrections VALUES (?, ?, ?, ?, NULL, NULL, NULL) "
                "ON CONFLICT (channel, answer_ts) DO UPDATE SET note = excluded.note, "
                "due_at = excluded.due_at, claimed_by = NULL, done_at = NULL",
                [(c, ts, note, now) for (c, ts), note in notes.items()],
            )
        return True

    def claim(self, bot: str) -> list[Correction]:
        """The edits due on answers `bot` posted that this process makes now: as many as the
        minute's cap leaves, oldest first, each claimed by one process only."""
        now = self.state.clock()
        with self.state.connect() as db:
            if not db.execute(
                "SELECT EXISTS (SELECT 1 FROM corrections WHERE done_at IS NULL)"
            ).fetchone()[0]:
                return []  # nothing due: no write lock taken
            db.execute("BEGIN IMMEDIATE")
            used = db.execute(
                "SELECT COUNT(*) FROM corrections WHERE claimed_at >= ?", (now - 60,)
            ).fetchone()[0]
            room = self.per_minute - used
            if room <= 0:
                return []
            rows = db.execute(
                "SELECT c.channel, c.answer_ts, c.note, f.thread_ts, f.user_id, f.question, "
                "f.context FROM corrections c JOIN followed_answers f "
                "ON f.channel = c.channel AND f.answer_ts = c.answer_ts "
                "WHERE f.bot_id = ? AND f.at >= ? AND c.done_at IS NULL "
                "AND (c.claimed_by IS NULL OR c.claimed_at < ?) "
                "ORDER BY c.due_at LIMIT ?",
                (bot, now - self.ttl, now - CLAIM_TTL, room),
            ).fetchall()
            db.executemany(
                "UPDATE corrections SET claimed_by = ?, claimed_at = ? "
                "WHERE channel = ? AND answer_ts = ?",
                [(self.owner, now, row[0], row[1]) for row in rows],
            )
        return [
            Correction(
                channel, PostedAnswer(ts, thread, user, question, context), note, (self.owner, now)
            )
            for channel, ts, note, thread, user, question, context in rows
        ]

    def done(self, correction: Correction, quoted: dict[str, str] | None) -> None:
        """An edit made (`quoted`: what the new answer quotes), or impossible (None: the
        message is gone, so the answer is no longer followed)."""
        key = (correction.channel, correction.answer.answer_ts)
        with self.state.connect() as db:
            if quoted is None:
                for table in ("followed_answers", "quoted_articles", "corrections"):
                    db.execute(f"DELETE FROM {table} WHERE channel = ? AND answer_ts = ?", key)
                return
            db.execute(
                "UPDATE corrections SET done_at = ? WHERE channel = ? AND answer_ts = ? "
                "AND claimed_by = ? AND claimed_at = ?",
                (self.state.clock(), *key, *correction.claim),
            )
            at = db.execute(
                "SELECT at FROM followed_answers WHERE channel = ? AND answer_ts = ?", key
            ).fetchone()
            if at is not None:
                self._quote(db, key, quoted, at[0])

    def sweep(self) -> None:
        """Forget the answers posted more than `days` ago, and the edits due on them."""
        since = self.state.clock() - self.ttl
        with self.state.connect() as db:
            db.execute("DELETE FROM followed_answers WHERE at < ?", (since,))
            db.execute("DELETE FROM quoted_articles WHERE at < ?", (since,))
            db.execute(
                "DELETE FROM corrections WHERE NOT EXISTS (SELECT 1 FROM followed_answers f "
                "WHERE f.channel = corrections.channel AND f.answer_ts = corrections.answer_ts)"
            )
