"""The questions people asked and whether the archive had anything: the editors' view of
what the archive covers and where it falls short.

Kept in the bot's state database (BOT_STATE_DB) for `QUESTION_TTL` (a month), never in
the log: a question is recorded with its day and whether anything was found, and the
most-asked questions that found nothing are the archive's coverage gaps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.mrkdwn import clip, escape
from bot.state import SharedState

QUESTION_TTL = 31 * 24 * 3600.0
MAX_GAPS = 5
STORED_CHARS = 300

_SCHEMA = """
CREATE TABLE IF NOT EXISTS asked_questions (
    asked_at REAL NOT NULL,
    day      TEXT NOT NULL,
    question TEXT NOT NULL,
    found    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS asked_questions_at ON asked_questions (asked_at);
"""
_TRAILING = re.compile(r"[\s?!.]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Day:
    """One day's questions (UTC)."""

    day: str
    asked: int
    unanswered: int


@dataclass(frozen=True)
class Gap:
    """A question asked `times` times that found nothing."""

    question: str
    times: int


@dataclass
class QuestionStats:
    """Questions over a span: per day, the no-answer rate, and the coverage gaps."""

    days: list[Day] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def asked(self) -> int:
        return sum(d.asked for d in self.days)

    @property
    def unanswered(self) -> int:
        return sum(d.unanswered for d in self.days)

    @property
    def no_answer_rate(self) -> float:
        """The share of questions that found nothing (0 when none were asked)."""
        return self.unanswered / self.asked if self.asked else 0.0

    def as_dict(self) -> dict[str, Any]:
        """For `bot feedback --json`."""
        return {
            "asked": self.asked,
            "unanswered": self.unanswered,
            "no_answer_rate": round(self.no_answer_rate, 4),
            "per_day": [d.__dict__ for d in self.days],
            "gaps": [g.__dict__ for g in self.gaps],
        }


class QuestionLog:
    """Questions asked, in the shared state file, for `ttl` seconds."""

    def __init__(self, state: SharedState, ttl: float = QUESTION_TTL):
        self.state, self.ttl = state, ttl
        with state.connect() as db:
            db.executescript(_SCHEMA)
            db.execute("DELETE FROM asked_questions WHERE asked_at < ?", (state.clock() - ttl,))

    def record(self, question: str, found: bool) -> None:
        """Record a question as asked now, and whether the archive found anything."""
        now = self.state.clock()
        day = datetime.fromtimestamp(now, UTC).date().isoformat()
        with self.state.connect() as db:
            db.execute(
                "INSERT INTO asked_questions VALUES (?, ?, ?, ?)",
                (now, day, normalized(question)[:STORED_CHARS], int(found)),
            )
            # bounded in time: expired rows go as new ones come (an indexed range delete)
            db.execute("DELETE FROM asked_questions WHERE asked_at < ?", (now - self.ttl,))

    def stats(self, since: datetime, gaps: int = MAX_GAPS) -> QuestionStats:
        """Per-day counts since `since`, and its most-asked questions that found nothing."""
        start = since.timestamp()
        with self.state.connect() as db:
            days = db.execute(
                "SELECT day, count(*), sum(found = 0) FROM asked_questions "
                "WHERE asked_at >= ? GROUP BY day ORDER BY day",
                (start,),
            ).fetchall()
            missing = db.execute(
                "SELECT question, count(*) AS n FROM asked_questions "
                "WHERE asked_at >= ? AND found = 0 GROUP BY question "
                "ORDER BY n DESC, max(asked_at) DESC LIMIT ?",
                (start, gaps),
            ).fetchall()
        return QuestionStats(
            days=[Day(d, int(a), int(u or 0)) for d, a, u in days],
            gaps=[Gap(q, int(n)) for q, n in missing],
        )


def describe_questions(stats: QuestionStats) -> str:
    """The Home tab's section (mrkdwn): questions per day, the no-answer rate, the gaps."""
    lines = ["*Questions in the last 7 days* (only people who run me see this)"]
    if not stats.asked:
        return "\n".join([*lines, "No questions yet."])
    lines.append(
        f"{stats.asked} asked, {stats.unanswered} found nothing "
        f"({stats.no_answer_rate:.0%} no-answer rate)"
    )
    per_day = ", ".join(f"{d.day[5:]}: {d.asked}" for d in stats.days)
    lines.append(f"Per day: {per_day}")
    if stats.gaps:
        lines.append("*Asked most, found nothing* (what the archive lacks):")
        lines += [f"• {escape(clip(g.question, 150))} ({g.times}×)" for g in stats.gaps]
    return "\n".join(lines)


def questions_table(stats: QuestionStats) -> str:
    """`bot feedback`'s table of questions per day, and the gaps."""
    lines = [
        f"Questions: {stats.asked} asked, {stats.unanswered} found nothing "
        f"({stats.no_answer_rate:.0%} no-answer rate)",
        "",
        f"{'day':<10}  {'asked':>5}  {'nothing':>7}",
    ]
    lines += [f"{d.day:<10}  {d.asked:>5}  {d.unanswered:>7}" for d in stats.days]
    if stats.gaps:
        lines += ["", "Asked most, found nothing:"]
        lines += [f"{g.times:>5}×  {printable(g.question)}" for g in stats.gaps]
    return "\n".join(lines)


def printable(text: str) -> str:
    """One line, without control characters a terminal would act on."""
    return " ".join(_CONTROL.sub(" ", text).split())


def normalized(question: str) -> str:
    """One form for the same question asked twice: lower case, single spaces, no final
    punctuation."""
    return _TRAILING.sub("", " ".join(question.lower().split()))


def week_ago(now: datetime | None = None) -> datetime:
    """The start of the Home tab's week."""
    return (now or datetime.now(UTC)) - timedelta(days=7)
