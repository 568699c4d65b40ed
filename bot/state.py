"""What the bot remembers between events, shared by every bot process on the host and kept
across restarts: the deliveries it handled, the threads it answered in, and the answers it
posted (so that an edited question updates its answer in place), and the answers whose
👍/👎 buttons it handed out (a vote for any other id is forged). The answers followed for
corrections are kept in the same file (`bot.following`).

Slack spreads one app's Socket Mode events over up to 10 connections, and retries an event
unacknowledged for 3 seconds, so a retry can reach another process than the first
delivery. All processes therefore share one SQLite file (WAL mode; `BOT_STATE_DB`, beside
the feedback database by default). Deciding that an event is new is one atomic INSERT, so
two processes can never both take the same event. Rows older than their time to live are
swept when a process opens the file and as new ones are written. SQLite's locking needs
one host: processes on several hosts each keep their own file (see docs/slack.md).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

Clock = Callable[[], float]

EVENT_TTL = 3600.0  # Slack retries within minutes
THREAD_TTL = 24 * 3600.0  # follow-ups and edits are honoured for a day
VOTE_TTL = 30 * 24 * 3600.0  # 👍/👎 on an answer are taken for a month
SWEEP_EVERY = 200  # writes between sweeps of expired rows

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_events (
    event_id TEXT PRIMARY KEY,
    seen_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS thread_turns (
    channel   TEXT NOT NULL,
    thread_ts TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    question  TEXT NOT NULL,
    at        REAL NOT NULL,
    PRIMARY KEY (channel, thread_ts)
);
CREATE TABLE IF NOT EXISTS answers (
    channel     TEXT NOT NULL,
    question_ts TEXT NOT NULL,
    answer_ts   TEXT NOT NULL,
    thread_ts   TEXT,
    user_id     TEXT NOT NULL,
    question    TEXT NOT NULL,
    context     TEXT,
    at          REAL NOT NULL,
    PRIMARY KEY (channel, question_ts)
);
CREATE TABLE IF NOT EXISTS issued_answers (
    answer_id TEXT PRIMARY KEY,
    question  TEXT NOT NULL,
    answer    TEXT NOT NULL,
    at        REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS followed_answers (
    channel   TEXT NOT NULL,
    answer_ts TEXT NOT NULL,
    bot_id    TEXT NOT NULL,
    thread_ts TEXT,
    user_id   TEXT NOT NULL,
    question  TEXT NOT NULL,
    context   TEXT,
    at        REAL NOT NULL,
    PRIMARY KEY (channel, answer_ts)
);
CREATE TABLE IF NOT EXISTS quoted_articles (
    channel      TEXT NOT NULL,
    answer_ts    TEXT NOT NULL,
    doc_id       TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    at           REAL NOT NULL,
    PRIMARY KEY (channel, answer_ts, doc_id)
);
CREATE INDEX IF NOT EXISTS quoted_by_article ON quoted_articles (doc_id);
CREATE TABLE IF NOT EXISTS corrections (
    channel    TEXT NOT NULL,
    answer_ts  TEXT NOT NULL,
    note       TEXT NOT NULL,
    due_at     REAL NOT NULL,
    claimed_by TEXT,
    claimed_at REAL,
    done_at    REAL,
    PRIMARY KEY (channel, answer_ts)
);
CREATE INDEX IF NOT EXISTS corrections_claimed ON corrections (claimed_at);
CREATE INDEX IF NOT EXISTS corrections_open ON corrections (done_at);
CREATE TABLE IF NOT EXISTS log_position (
    name TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Turn:
    """The last question answered in a thread, and who asked it."""

    user: str
    question: str


@dataclass(frozen=True)
class PostedAnswer:
    """An answer the bot posted to a message, to update when that message is edited.

    Attributes:
        answer_ts: The answer's own ts (what `chat.update` needs).
        thread_ts: The thread it was posted in, if any.
        user: Who asked.
        question: The question as answered (plain text).
        context: The thread's earlier question the search also used, if any.
    """

    answer_ts: str
    thread_ts: str | None
    user: str
    question: str
    context: str | None = None


class SharedState:
    """The SQLite file every bot process on the host shares.

    Args:
        path: The database file (created with its folder on first use).
        clock: Wall-clock seconds (shared across processes, unlike a monotonic clock).
    """

    def __init__(self, path: Path, clock: Clock = time.time):
        self.path, self.clock = path, clock
        self._writes = 0
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            self._sweep(db)  # a process may stop before its SWEEP_EVERY-th write

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in a transaction, committed on success (one per call: any thread)."""
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable enough, and fast
        try:
            with db:
                yield db
        finally:
            db.close()

    def wrote(self, db: sqlite3.Connection) -> None:
        """Count a write; every `SWEEP_EVERY` writes, drop expired rows."""
        with self._lock:
            self._writes += 1
            sweep = self._writes % SWEEP_EVERY == 0
        if sweep:
            self._sweep(db)

    def _sweep(self, db: sqlite3.Connection) -> None:
        """Drop the rows past their time to live."""
        now = self.clock()
        db.execute("DELETE FROM seen_events WHERE seen_at < ?", (now - EVENT_TTL,))
        db.execute("DELETE FROM thread_turns WHERE at < ?", (now - THREAD_TTL,))
        db.execute("DELETE FROM answers WHERE at < ?", (now - THREAD_TTL,))
        db.execute("DELETE FROM issued_answers WHERE at < ?", (now - VOTE_TTL,))


class SeenEvents:
    """Event ids already taken by some process, so a retried delivery is answered once."""

    def __init__(self, state: SharedState, ttl: float = EVENT_TTL):
        self.state, self.ttl = state, ttl

    def first_time(self, event_id: str) -> bool:
        """True for exactly one caller, in any process, per event id within `ttl`."""
        now = self.state.clock()
        with self.state.connect() as db:
            db.execute(
                "DELETE FROM seen_events WHERE event_id = ? AND seen_at < ?",
                (event_id, now - self.ttl),
            )
            taken = db.execute(
                "INSERT OR IGNORE INTO seen_events VALUES (?, ?)", (event_id, now)
            ).rowcount
            self.state.wrote(db)
        return taken == 1


class ThreadMemory:
    """Threads the bot answered in: (channel, thread ts) -> the last question asked there."""

    def __init__(self, state: SharedState, ttl: float = THREAD_TTL):
        self.state, self.ttl = state, ttl

    def remember(self, channel: str, thread_ts: str, turn: Turn) -> None:
        """Record the question just answered in a thread."""
        with self.state.connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO thread_turns VALUES (?, ?, ?, ?, ?)",
                (channel, thread_ts, turn.user, turn.question, self.state.clock()),
            )
            self.state.wrote(db)

    def recall(self, channel: str, thread_ts: str) -> Turn | None:
        """The thread's last question, or None when the bot has not answered there lately."""
        with self.state.connect() as db:
            row = db.execute(
                "SELECT user_id, question FROM thread_turns "
                "WHERE channel = ? AND thread_ts = ? AND at >= ?",
                (channel, thread_ts, self.state.clock() - self.ttl),
            ).fetchone()
        return Turn(*row) if row else None


class AnswerLog:
    """The answers the bot posted, by the message they answer."""

    def __init__(self, state: SharedState, ttl: float = THREAD_TTL):
        self.state, self.ttl = state, ttl

    def remember(self, channel: str, question_ts: str, answer: PostedAnswer) -> None:
        """Record (or replace) the answer to the message `question_ts`."""
        with self.state.connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    channel,
                    question_ts,
                    answer.answer_ts,
                    answer.thread_ts,
                    answer.user,
                    answer.question,
                    answer.context,
                    self.state.clock(),
                ),
            )
            self.state.wrote(db)

    def recall(self, channel: str, question_ts: str) -> PostedAnswer | None:
        """The answer posted to that message lately, if any."""
        with self.state.connect() as db:
            row = db.execute(
                "SELECT answer_ts, thread_ts, user_id, question, context FROM answers "
                "WHERE channel = ? AND question_ts = ? AND at >= ?",
                (channel, question_ts, self.state.clock() - self.ttl),
            ).fetchone()
        return PostedAnswer(*row) if row else None


@dataclass(frozen=True)
class IssuedAnswer:
    """An answer the bot rendered with feedback buttons: what a vote on it records."""

    question: str
    answer: str


class IssuedAnswers:
    """The feedback ids of the answers the bot gave, with their question and lead, so a
    vote records what the bot said rather than what a click's value claims."""

    def __init__(self, state: SharedState, ttl: float = VOTE_TTL):
        self.state, self.ttl = state, ttl

    def remember(self, answer_id: str, issued: IssuedAnswer) -> None:
        """Record an answer's feedback id."""
        with self.state.connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO issued_answers VALUES (?, ?, ?, ?)",
                (answer_id, issued.question, issued.answer, self.state.clock()),
            )
            self.state.wrote(db)

    def recall(self, answer_id: str) -> IssuedAnswer | None:
        """The answer given under that id lately, or None (never given, or too old)."""
        with self.state.connect() as db:
            row = db.execute(
                "SELECT question, answer FROM issued_answers WHERE answer_id = ? AND at >= ?",
                (answer_id, self.state.clock() - self.ttl),
            ).fetchone()
        return IssuedAnswer(*row) if row else None
