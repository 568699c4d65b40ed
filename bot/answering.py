"""A question answered and drawn: the core's answer, its failures as friendly notices,
and the message it becomes.

The core answers (with the channel's desk defaults applied); a failure of the store or of
the configuration becomes a notice the asker can act on, and a log line, never raw
exception text. An answer becomes a message with a fresh feedback id, remembered so that
only votes on answers the bot gave count; a model's written answer is added when one is
configured. Callers have passed the gate (`bot.gate`) first.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

from bot import notices
from bot.desks import Desks
from bot.outbox import Outbox
from bot.presentation import PLAIN, Presentation
from bot.questions import QuestionLog
from bot.render import Message, feedback_value, render_answer, render_notice
from bot.state import IssuedAnswer, IssuedAnswers
from bot.streaming import WrittenReplies
from core.errors import NewsroomError, StoreUnavailableError
from core.models import Answer

log = logging.getLogger(__name__)

Answerer = Callable[[str], Answer]


class Answering:
    """Answers questions and renders the answers.

    Args:
        answerer: question -> Answer (the real one wraps `core.answer.compose.answer_question`).
        desks: Per-channel defaults (DESKS): filters the search is scoped with.
        asked: Where asked questions are counted, for the editors' statistics.
        issued: The answers the bot gave, by feedback id.
        outbox: Whether the workspace takes Slack's feedback buttons.
        written: Adds a model's written answer (None: answers stay extractive).
    """

    def __init__(
        self,
        answerer: Answerer,
        desks: Desks,
        asked: QuestionLog,
        issued: IssuedAnswers,
        outbox: Outbox,
        written: WrittenReplies | None = None,
    ):
        self.answerer, self.desks, self.asked, self.issued = answerer, desks, asked, issued
        self.outbox, self.written = outbox, written

    def compose(
        self,
        question: str,
        shown: Presentation = PLAIN,
        *,
        channel: str | None = None,
        record: bool = True,
    ) -> Message:
        """Answer a question (with `shown.context`, the thread's earlier question) and
        render it; failures become a friendly notice.

        Args:
            question: The plain question.
            shown: How the answer is shown.
            channel: Where it was asked (its desk's defaults apply).
            record: Count it among the questions asked (a shared answer was counted).
        """
        found = self.answer(question, shown.context, channel=channel, record=record)
        return self.finish(found, question, shown)

    def finish(self, found: Answer | Message, question: str, shown: Presentation) -> Message:
        """The message for an answer (or the notice already made for a failure), with a
        model's written answer when one is configured, written in one go."""
        if not isinstance(found, Answer):
            return found
        if self.written is not None:
            self.written.attach(found, question, shown.context)
        return self.render(found, shown)

    def answer(
        self,
        question: str,
        context: str | None = None,
        *,
        channel: str | None = None,
        record: bool = True,
    ) -> Answer | Message:
        """The core's answer to a question (searched with its channel's desk defaults, and
        recorded for the editors' statistics), or the friendly notice for a failure."""
        searched = f"{context} {question}" if context else question
        searched, scoped = self.desks(channel).scope(searched)
        started = time.perf_counter()
        try:
            answer = self.answerer(searched)
        except StoreUnavailableError:
            log.warning("store unavailable while answering")
            return render_notice(notices.UNAVAILABLE)
        except NewsroomError:
            log.exception("cannot answer: configuration problem")
            return render_notice(notices.MISCONFIGURED)
        except Exception:
            log.exception("answering failed")
            return render_notice(notices.FAILED)
        log.info(
            "answered in %.0f ms: found=%s, %d passages, question of %d chars",
            (time.perf_counter() - started) * 1000,
            answer.found,
            len(answer.passages),
            len(searched),
        )
        if record:
            self.asked.record(question, answer.found)
        if scoped:
            answer = replace(answer, notes=[scoped, *answer.notes])
        return answer

    def render(self, answer: Answer, shown: Presentation) -> Message:
        """An answer as a message with a fresh feedback id, remembered so that only votes
        on answers the bot gave count."""
        answer_id = uuid.uuid4().hex[:16]
        value = json.loads(feedback_value(answer_id, answer))
        self.issued.remember(answer_id, IssuedAnswer(value["q"], value["a"]))
        return render_answer(answer, answer_id, shown, native_feedback=self.outbox.native_feedback)
