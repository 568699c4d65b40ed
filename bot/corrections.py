"""Answers follow corrections: an answer posted in a conversation is edited in place when
an article it quotes is corrected or withdrawn.

Each posted answer is followed for FOLLOW_ANSWERS_DAYS with the version (content hash) of
every article it quotes (`bot.state.FollowedAnswers`). The live archive calls `round` after
each sync: it reads only the change-log records the local index applied since the
position the host's bot processes share (no call at all when there are none), looks up
only the articles they name among the followed answers, and makes their edits due. Due
edits are claimed, at most FOLLOW_ANSWERS_PER_MINUTE a minute across processes, and made
on the answering pool: the question is answered again and the message replaced
(`chat.update`) with a note above it. Private answers (`/ask`, private desks) cannot be
edited and are not followed. A bot that was down catches up from the shared position.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from slack_sdk import WebClient

from bot.basics import Basics
from bot.following import Correction, FollowedAnswers
from bot.render import Message
from bot.state import PostedAnswer
from core.errors import StoreUnavailableError
from core.models import Answer
from core.search.archive import LiveArchive

log = logging.getLogger(__name__)

CORRECTED = "Updated: a source was corrected on {day}"
WITHDRAWN = "A quoted article was withdrawn"
LOOK_EVERY = 5.0  # seconds between looks for edits left due by the cap
SWEEP_EVERY = 600.0
# The message cannot be edited any more: it is no longer followed.
GONE = {
    "message_not_found",
    "cant_update_message",
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    "edit_window_closed",
}


def quoted_by(answer: Answer) -> dict[str, str]:
    """The articles an answer quotes: doc id -> the content hash of the version quoted."""
    passages = [answer.lead_passage, *answer.passages] if answer.found else []
    return {p.doc_id: p.content_hash for p in passages if p is not None and p.content_hash}


# An answer posted earlier, answered again with a note: the message and the articles it
# quotes now (None when the store failed): `bot.conversation.Conversations.reanswer`.
Reanswer = Callable[[str, PostedAnswer, str], "tuple[Message, dict[str, str]] | None"]


class Corrections:
    """Edits this bot's answers whose quoted articles changed.

    Args:
        basics: Whether the token was revoked, who the bot is, the outbox edits go through.
        followed: The answers followed, and their due edits.
        reanswer: Answers a followed answer's question again.
        later: Runs work on the answering pool (`bot.pools.Pools.later`).
        client: The Web API client the edits are made with.
        clock: Monotonic seconds (for pacing only).
    """

    def __init__(
        self,
        basics: Basics,
        followed: FollowedAnswers,
        reanswer: Reanswer,
        later: Callable[..., None],
        client: WebClient,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.basics, self.followed, self.reanswer, self.later = basics, followed, reanswer, later
        self.client, self.clock = client, clock
        self._busy = threading.Lock()
        self._looked = self._swept = float("-inf")
        self._applied: int | None = None  # the local index's position at the last look

    def round(self, archive: LiveArchive) -> None:
        """After a sync (in the sync thread): note the edits the applied changes call for,
        and start making due ones on the answering pool (one batch at a time)."""
        if self.basics.revoked:
            return
        try:
            noted = self._note_changes(archive)
        except StoreUnavailableError:
            return
        now = self.clock()
        if now - self._swept >= SWEEP_EVERY:
            self._swept = now
            self.followed.sweep()
        if (noted or now - self._looked >= LOOK_EVERY) and self._busy.acquire(blocking=False):
            self._looked = now
            self.later(self._edit_due)

    def _note_changes(self, archive: LiveArchive) -> bool:
        """Make due the edits of answers quoting an article the applied log records
        changed; True when some were."""
        local = archive.local
        if local is None or local.seq == self._applied:
            return False  # nothing applied since: no query at all
        self._applied = None  # looked at again next round if this one fails
        before = self.followed.position(local.seq)
        after, records = archive.applied_changes(before)
        if after == before:
            self._applied = local.seq
            return False
        changed: dict[str, str | None] = {}
        when: dict[str, float] = {}
        for record in records:
            for doc_id, version in record.target.items():
                changed[doc_id] = version.content_hash if version is not None else None
                when[doc_id] = record.at
        quoting = self.followed.quoting(changed) if changed else []
        corrected = {doc for _, _, doc in quoting if changed[doc] is not None}
        days = _days(archive, corrected, when)
        notes: dict[tuple[str, str], str] = {}
        for channel, ts, doc in quoting:
            note = WITHDRAWN if changed[doc] is None else CORRECTED.format(day=days[doc])
            if notes.get((channel, ts)) != WITHDRAWN:
                notes[(channel, ts)] = note
        moved = self.followed.due(before, after, notes)
        self._applied = after if after == local.seq else None  # more records: next round
        return moved and bool(notes)

    def _edit_due(self) -> None:
        try:
            for correction in self.followed.claim(self.basics.bot or ""):
                self._edit(correction)
        finally:
            self._busy.release()

    def _edit(self, correction: Correction) -> None:
        """Answer the question again and put it in the place of the old answer, with the note."""
        redone = self.reanswer(correction.channel, correction.answer, correction.note)
        if redone is None:
            return  # the store failed: the claim lapses and the edit is tried again later
        message, quoted = redone
        where, ts = correction.channel, correction.answer.answer_ts
        posted = self.basics.outbox.update(self.client, where, ts, message)
        if not posted.error:
            log.info("answer %s in %s edited: %s", ts, where, correction.note)
            self.followed.done(correction, quoted)
        elif posted.error in GONE:
            log.info(
                "answer %s in %s cannot be edited (%s); no longer followed", ts, where, posted.error
            )
            self.followed.done(correction, None)
        else:
            log.warning(
                "editing answer %s in %s failed (%s); tried again later", ts, where, posted.error
            )


def _days(archive: LiveArchive, doc_ids: set[str], when: dict[str, float]) -> dict[str, str]:
    """ "12 Nov" per corrected article: the day its outlet says it changed it, else the day
    the change reached the archive."""
    days = {d: _day(datetime.fromtimestamp(when[d], UTC)) for d in doc_ids}
    local = archive.local
    if not doc_ids or local is None:
        return days
    try:
        records = archive.read(lambda: local.articles(doc_ids))
    except Exception:  # the note falls back on the day of the change
        log.warning("could not read when corrected articles were modified", exc_info=True)
        return days
    for doc_id, record in records.items():
        try:
            modified = datetime.fromisoformat((record.modified_at or "").replace("Z", "+00:00"))
        except ValueError:
            continue
        days[doc_id] = _day(modified)
    return days


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b}"
