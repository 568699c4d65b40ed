"""`bot feedback --since 7d`: the 👎 answers, with their questions, for whoever tunes the archive.

Reads FEEDBACK_DB (votes and their reasons) and BOT_STATE_DB (questions asked) only: it
needs no Slack token and can run beside a serving bot.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from bot.feedback import FeedbackStore, Vote
from bot.questions import QuestionStats, printable, questions_table
from core.language.text import escape_controls

_SPAN = re.compile(r"(\d+)\s*([hdw])")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`7d`, `12h`, `2w` (ago) or an ISO date such as `2026-11-01` -> a UTC datetime.

    Raises:
        ValueError: with a message saying what is accepted.
    """
    now = now or datetime.now(UTC)
    span = _SPAN.fullmatch(text.strip().lower())
    if span:
        return now - timedelta(**{_UNITS[span.group(2)]: int(span.group(1))})
    try:
        day = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since takes a span such as 7d, 12h or 2w, or a date such as 2026-11-01 "
            f"(got {text!r})"
        ) from None
    return day if day.tzinfo else day.replace(tzinfo=UTC)


def feedback_report(
    store: FeedbackStore,
    since: datetime,
    everything: bool = False,
    questions: QuestionStats | None = None,
) -> str:
    """The report: counts, then each 👎 (or every vote) with its question, answer and
    reason, then the questions asked (when the bot's state file has them)."""
    tally = store.tally(since)
    shown = store.votes(since, None if everything else "down")
    day = since.strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Feedback since {day}: {tally.up} 👍, {tally.down} 👎 ({store.path})"]
    if not shown:
        lines.append("No 👎 in that time." if not everything else "No votes in that time.")
    for vote in reversed(shown):  # newest first
        lines += _entry(vote) + _reason(vote)
    if questions is not None:
        lines += ["", questions_table(questions)]
    return "\n".join(lines)


def feedback_json(
    store: FeedbackStore,
    since: datetime,
    questions: QuestionStats | None,
    everything: bool = False,
) -> str:
    """The same report as one JSON object, for programs."""
    tally = store.tally(since)
    votes = store.votes(since, None if everything else "down")
    report = {
        "since": since.isoformat(timespec="seconds"),
        "up": tally.up,
        "down": tally.down,
        "votes": [asdict(v) for v in reversed(votes)],
        "questions": questions.as_dict() if questions is not None else None,
    }
    return json.dumps(report, ensure_ascii=False, indent=2)


def _entry(vote: Vote) -> list[str]:
    mark = "👍" if vote.vote == "up" else "👎"
    # Ids come from a click's payload: whoever forged one chose every character of them.
    where = f" in {escape_controls(vote.channel_id)}" if vote.channel_id else ""
    return [
        "",
        f"{mark} {escape_controls(vote.clicked_at)} by {escape_controls(vote.user_id)}{where}",
        f"  question: {printable(vote.question)}",
        f"  answer:   {printable(vote.answer) or '(nothing found)'}",
    ]


def _reason(vote: Vote) -> list[str]:
    """The line saying why a 👎, when the voter said."""
    if not (vote.reason or vote.note):
        return []
    return [f"  reason:   {vote.reason or 'none'}: {printable(vote.note)}"]
