"""A question as typed -> the text to search plus filters (dates, outlet).

Explicit filters: `since:2022-09-01`, `after:…`, `before:…`, `until:…`, `source:cnn.com`
(an outlet of several words in quotes, straight or curly as Slack sends them:
`source:"Los Angeles Times"`).
Relative phrases ("today", "this week", "this month", "this year", "yesterday", "last
week") become a soft date window relative to the time of asking: the search prefers
articles inside it and falls back to all dates when nothing relevant lies inside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

_FILTER = re.compile(
    r"\b(since|after|before|until|source|from):(\"[^\"]*\"|“[^”]*”|\S+)", re.IGNORECASE
)
_RELATIVE = {
    "today": 1,
    "recently": 14,
    "latest": 14,
    "yesterday": 2,
    "this week": 7,
    "last week": 14,
    "past week": 7,
    "this month": 31,
    "last month": 62,
    "this year": 366,
}
_RELATIVE_RE = re.compile(r"\b(" + "|".join(_RELATIVE) + r")\b", re.IGNORECASE)


@dataclass
class Query:
    """What to search for and within which bounds (epoch seconds, inclusive)."""

    text: str
    since: int | None = None
    before: int | None = None
    sources: list[str] = field(default_factory=list)
    soft_since: int | None = None  # from "this week" and friends
    notes: list[str] = field(default_factory=list)
    now: int = 0  # the time of asking (epoch s)
    as_of: bool = False  # asked "as of" a given time: later articles did not exist yet


def _day(value: str) -> int | None:
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _in_a_name(text: str, match: re.Match[str]) -> bool:
    """A capitalised phrase inside a sentence names something ("what did USA Today
    report?", "on the Today show", ABC's "This Week"): it says nothing about when."""
    if not match.group(0)[0].isupper():
        return False
    before = text[: match.start()].rstrip()
    return bool(before) and before[-1] not in '.!?:;"“(\n'


def parse_query(question: str, now: datetime | None = None) -> Query:
    """Split filters out of a question.

    Args:
        question: The question as the person typed it.
        now: The time of asking (default: now, UTC), for relative phrases. When given
            (replaying a question asked in the past), articles published more than a day
            after it are left out: they did not exist when it was asked.
    """
    query = Query(text=question, as_of=now is not None)
    now = now or datetime.now(UTC)
    query.now = int(now.timestamp())
    for match in _FILTER.finditer(question):
        key, value = match.group(1).lower(), match.group(2).strip(",.;").strip('"“”')
        if key in ("source", "from"):
            if value.strip():
                query.sources.append(" ".join(value.lower().split()))
            continue
        stamp = _day(value)
        if stamp is None:
            query.notes.append(f"ignored {match.group(0)!r}: dates are written YYYY-MM-DD")
        elif key in ("since", "after"):
            query.since = stamp
        else:
            query.before = stamp
    text = _FILTER.sub(" ", question)
    relative = next((m for m in _RELATIVE_RE.finditer(text) if not _in_a_name(text, m)), None)
    if relative and query.since is None:
        days = _RELATIVE[relative.group(1).lower()]
        query.soft_since = int((now - timedelta(days=days)).timestamp())
    query.text = " ".join(text.split()) or question.strip()
    if query.as_of and query.before is None:
        query.before = query.now + 86400
    return query
