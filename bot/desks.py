"""Desks: per-channel defaults a newsroom sets once (DESKS), applied to what is asked there.

DESKS is a JSON object (or the path of a file holding one) keyed by channel id:

    {"C0SPORTS": {"sources": ["Riverside Gazette"], "days": 365},
     "C0ASK":    {"auto_answer": true},
     "C0LEGAL":  {"private": true, "since": "2020-01-01"}}

- `sources` (outlets, as `source:` takes them), `since`/`before` (YYYY-MM-DD) and `days`
  (a rolling window ending now) are default filters: a question asked in the channel is
  searched with them unless it carries a filter of the same kind itself (the question's
  own `source:`, `since:` or `before:` wins).
- `auto_answer`: every top-level message in the channel that reads as a question to the
  bot is answered in its thread, without a mention (see `counts_as_question`).
- `private`: answers in the channel are ephemeral (only the asker sees them), with a
  button to share them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.intent import addressed_to_others, reads_as_question
from core.errors import ConfigError
from core.search.query import parse_query

_KEYS = {"sources", "since", "before", "days", "auto_answer", "private"}
# A rolling window longer than any archive (about 270 years): beyond it the window's first
# day cannot be computed (Python's dates end at year 1) and every question there would fail.
MAX_DAYS = 100_000
# Events name a conversation by its ID (C..., G... for older private channels, D... for DMs):
# a desk keyed by a name such as "#sports" would never apply.
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")


@dataclass(frozen=True)
class Desk:
    """One channel's defaults.

    Attributes:
        sources: Outlets searched by default (any of them).
        since: Only articles published on or after this day, by default.
        before: Only articles published before this day, by default.
        days: Only articles of the last `days` days, by default (`since` wins).
        auto_answer: Answer top-level questions without a mention.
        private: Answer privately (ephemeral), with a Share button.
    """

    sources: tuple[str, ...] = ()
    since: date | None = None
    before: date | None = None
    days: int | None = None
    auto_answer: bool = False
    private: bool = False

    def scope(self, question: str, now: datetime | None = None) -> tuple[str, str | None]:
        """The question with the desk's filters its own do not override, and a note saying
        which were applied (None: none)."""
        own = parse_query(question)
        added: list[str] = []
        if self.sources and not own.sources:
            added += [f'source:"{s}"' for s in self.sources]
        since = self.since
        if since is None and self.days:
            since = ((now or datetime.now(UTC)) - timedelta(days=self.days)).date()
        if since is not None and own.since is None:
            added.append(f"since:{since.isoformat()}")
        if self.before is not None and own.before is None:
            added.append(f"before:{self.before.isoformat()}")
        if not added:
            return question, None
        shown = ", ".join(a.replace('"', "") for a in added)
        # In front: a long question is cut at its end, and the filters must survive that.
        return f"{' '.join(added)} {question}", f"This channel's desk searches {shown}."


NO_DESK = Desk()


class Desks:
    """The configured desks, by channel id."""

    def __init__(self, desks: dict[str, Desk] | None = None):
        self._desks = desks or {}

    def __call__(self, channel: str | None) -> Desk:
        """The desk of a channel (no defaults where none is configured)."""
        return self._desks.get(channel or "", NO_DESK)

    @classmethod
    def parse(cls, text: str, allowed: Collection[str] = ()) -> Desks:
        """DESKS as configured: JSON, or the path of a JSON file.

        Args:
            text: The setting.
            allowed: ALLOWED_CHANNELS (empty: every channel): a desk elsewhere would
                never answer.

        Raises:
            ConfigError: one line saying what is wrong and what is expected.
        """
        text = text.strip()
        if not text:
            return cls()
        if not text.startswith("{"):
            try:
                text = Path(text).expanduser().read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(
                    f"DESKS: cannot read {text} ({type(exc).__name__}); give a JSON object "
                    "or the path of a file holding one (see .env.example)"
                ) from None
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"DESKS is not valid JSON ({exc.msg}); see .env.example") from None
        except RecursionError:
            raise ConfigError("DESKS is nested too deeply; see .env.example") from None
        if not isinstance(raw, dict):
            raise ConfigError("DESKS must be a JSON object keyed by channel id")
        for channel in raw:
            if not _CHANNEL_ID.fullmatch(channel):
                raise ConfigError(
                    f"DESKS: {channel!r} is not a channel ID; key each desk by a channel ID "
                    "such as C0123ABCD (channel details -> About, at the bottom)"
                )
            if allowed and channel not in allowed and not channel.startswith("D"):
                raise ConfigError(
                    f"DESKS: {channel} is not in ALLOWED_CHANNELS, so the bot would never "
                    "answer there; add it to ALLOWED_CHANNELS or remove its desk"
                )
        return cls({str(channel): _desk(str(channel), value) for channel, value in raw.items()})


def _desk(channel: str, value: Any) -> Desk:
    if not isinstance(value, dict):
        raise ConfigError(f'DESKS[{channel}] must be an object such as {{"days": 365}}')
    unknown = set(value) - _KEYS
    if unknown:
        known = ", ".join(sorted(_KEYS))
        raise ConfigError(f"DESKS[{channel}]: unknown key {sorted(unknown)[0]!r}; known: {known}")
    sources = value.get("sources", [])
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not all(isinstance(s, str) and s.strip() for s in sources):
        raise ConfigError(f"DESKS[{channel}].sources must be a list of outlet names")
    if any('"' in s for s in sources):  # it would end `source:"..."` and add filters of its own
        raise ConfigError(f'DESKS[{channel}].sources: an outlet name cannot hold a quote (")')
    days = value.get("days")
    if days is not None and (
        not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS
    ):
        raise ConfigError(f"DESKS[{channel}].days must be a whole number of days, 1 to {MAX_DAYS}")
    since = _day(channel, "since", value.get("since"))
    before = _day(channel, "before", value.get("before"))
    if since is not None and before is not None and since >= before:
        raise ConfigError(f"DESKS[{channel}].since must be before its before (nothing is found)")
    return Desk(
        sources=tuple(" ".join(s.split()) for s in sources),
        since=since,
        before=before,
        days=days,
        auto_answer=_flag(channel, "auto_answer", value.get("auto_answer", False)),
        private=_flag(channel, "private", value.get("private", False)),
    )


def _day(channel: str, key: str, value: Any) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"DESKS[{channel}].{key} is written YYYY-MM-DD (got {value!r})") from None


def _flag(channel: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"DESKS[{channel}].{key} must be true or false")
    return value


def counts_as_question(text: str, mentions: set[str], bot_user_id: str | None) -> bool:
    """Whether a top-level message in an auto-answer channel is a question for the bot: it
    reads as a question or a request (`bot.intent.reads_as_question`: a question mark, or a
    question word or request verb among its first words) and mentions nobody but the bot.
    "thanks all", "lunch at 1" and "@maria did you see this?" are not."""
    return bool(text.strip()) and (
        reads_as_question(text) and not addressed_to_others(mentions, bot_user_id)
    )
