"""`bot feedback --since 7d`: the 👎 answers, with their questions, for whoever tunes the archive.

Reads FEEDBACK_DB only: it needs no Slack token and can run beside a serving bot.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.feedback import FeedbackStore, Vote
from core.text import escape_controls

_SPAN = re.compile(r"(\d+)\s*([hdw])")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
# C0 and C1 controls, and the bidirectional overrides and isolates that reorder a line.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


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


def feedback_report(store: FeedbackStore, since: datetime, everything: bool = False) -> str:
    """The report: counts, then each 👎 (or every vote) with its question and answer."""
    tally = store.tally(since)
    shown = store.votes(since, None if everything else "down")
    day = since.strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Feedback since {day}: {tally.up} 👍, {tally.down} 👎 ({store.path})"]
    if not shown:
        lines.append("No 👎 in that time." if not everything else "No votes in that time.")
    for vote in reversed(shown):  # newest first
        lines += _entry(vote)
    return "\n".join(lines)


def _entry(vote: Vote) -> list[str]:
    mark = "👍" if vote.vote == "up" else "👎"
    # Ids come from a click's payload: whoever forged one chose every character of them.
    where = f" in {escape_controls(vote.channel_id)}" if vote.channel_id else ""
    return [
        "",
        f"{mark} {escape_controls(vote.clicked_at)} by {escape_controls(vote.user_id)}{where}",
        f"  question: {_printable(vote.question)}",
        f"  answer:   {_printable(vote.answer) or '(nothing found)'}",
    ]


def _printable(text: str) -> str:
    """One line, without control characters a terminal would act on."""
    return " ".join(_CONTROL.sub(" ", text).split())
