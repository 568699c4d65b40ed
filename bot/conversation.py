"""Questions in a conversation: mentions, DMs, follow-ups, assistant threads, auto-answer
desk channels, and edits of any of them.

Each passes the gate (`bot.gate`) first; then the answer is worked out with progress shown,
posted where it was asked (streamed into a thread when a model writes it, privately where
the channel's desk says so), and remembered: for follow-ups in its thread, for edits of
the question, and with the articles it quotes, so that a correction edits it
(`bot.corrections`). A post Slack refuses is told to the asker privately.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient

from bot import notices
from bot.answering import Answering
from bot.basics import Basics, knock_of
from bot.corrections import quoted_by
from bot.desks import Desks, counts_as_question
from bot.following import FollowedAnswers
from bot.gate import Problem
from bot.inbound import Question
from bot.intent import addressed_to_others, asks_for_help, reads_as_question
from bot.outbox import Posted
from bot.presentation import Presentation
from bot.progress import Progress
from bot.render import Message, render_notice
from bot.state import AnswerLog, PostedAnswer, ThreadMemory, Turn
from core.models import Answer
from core.sections import SlackSettings

log = logging.getLogger(__name__)


class Conversations:
    """Answers questions asked in conversations, and keeps the answers current.

    Args:
        slack: ANSWER_FOLLOWUPS and FOLLOW_ANSWERS_DAYS.
        basics: The gate, the outbox, who the bot is.
        answering: Answers and renders.
        threads: Who asked what in each thread the bot answered.
        answers: The answer posted to each question, for edits.
        followed: Posted answers followed for corrections.
        desks: Per-channel defaults (auto-answer, private replies).
        progress: Shows a question's progress while it is answered.
    """

    def __init__(
        self,
        slack: SlackSettings,
        basics: Basics,
        answering: Answering,
        threads: ThreadMemory,
        answers: AnswerLog,
        followed: FollowedAnswers,
        desks: Desks,
        progress: Callable[[WebClient, Question], Progress],
    ):
        self.slack, self.basics, self.answering = slack, basics, answering
        self.threads, self.answers, self.followed = threads, answers, followed
        self.desks, self.progress = desks, progress
        self.outbox = basics.outbox

    def ask(self, client: WebClient, question: Question) -> None:
        """A mention, DM, follow-up, assistant-thread message or question in an
        auto-answer desk channel: answer it if it is meant for the bot, in its thread (or
        at the top of a DM); privately where the channel's desk says so."""
        if question.kind == "follow_up" and not self._is_follow_up(question):
            return  # people talking among themselves: not a request to the bot
        if question.kind == "auto" and not counts_as_question(
            question.text, question.mentions, self.basics.bot
        ):
            return  # chatter in an auto-answer channel
        problem = None
        if not question.text:
            empty = notices.FILES_ONLY if question.files else notices.EMPTY_QUESTION
            problem = Problem("no question", empty)
        if self._refused(client, question, problem):
            return
        if asks_for_help(question.text):
            usage = render_notice(notices.usage(self.basics.bot))
            self.outbox.post(client, question.channel, question.thread_ts, usage)
            return
        self._converse(client, question)

    def revise(self, client: WebClient, question: Question) -> None:
        """An edited message: update the bot's answer to it in place when the question
        changed, and do nothing otherwise. A mention added by the edit is a new question."""
        assert question.message_ts is not None
        earlier = self.answers.recall(question.channel, question.message_ts)
        if earlier is None:
            if question.kind in ("mention", "auto"):
                self.ask(client, question)
            return
        if _same(earlier.question, question.text) or not question.text:
            return
        if asks_for_help(question.text) or self._refused(client, question):
            return
        shown = Presentation(context=earlier.context, note=notices.EDITED)
        with self.progress(client, question):
            found = self.answering.answer(question.text, earlier.context, channel=question.channel)
            message = self.answering.finish(found, question.text, shown)
            updated = self.outbox.update(client, question.channel, earlier.answer_ts, message)
            if not updated.error:
                self._remember(question, earlier.answer_ts, earlier.context, found)
        if updated.error:  # e.g. the answer was deleted meanwhile
            log.info("updating answer %s failed; posting anew", earlier.answer_ts)
            self._converse(client, question)

    def reanswer(
        self, channel: str, posted: PostedAnswer, note: str
    ) -> tuple[Message, dict[str, str]] | None:
        """An answer posted earlier, answered again (an article it quoted changed), with
        `note` above it, and the articles it now quotes; None when the store failed (the
        old answer is better than a notice that it did)."""
        found = self.answering.answer(
            posted.question, posted.context, channel=channel, record=False
        )
        if not isinstance(found, Answer):
            return None
        shown = Presentation(context=posted.context, note=note)
        return self.answering.finish(found, posted.question, shown), quoted_by(found)

    def _refused(
        self, client: WebClient, question: Question, problem: Problem | None = None
    ) -> bool:
        """The gate for a message: True (the asker told where they should be) when refused."""
        refusal = self.basics.gate.check(client, knock_of(question), problem)
        if refusal is None:
            return False
        channel, user, thread = question.channel, question.user, question.thread_ts
        if not refusal.notice:
            return True
        if refusal.step == "outsider":
            self.outbox.tell(client, user, refusal.notice, channel=channel, dm=False)
        elif refusal.step == "channel":
            if question.kind == "mention":
                self.outbox.whisper(client, channel, user, refusal.notice)
        elif refusal.step == "rate":
            self.outbox.whisper(client, channel, user, refusal.notice, thread)
        else:
            self.outbox.post(client, channel, thread, render_notice(refusal.notice))
        return True

    def _is_follow_up(self, question: Question) -> bool:
        """A reply in a thread the bot answered, by the same person, that reads as a
        question to the bot (see `bot.intent`)."""
        if not (self.slack.answer_followups and question.thread_ts):
            return False
        earlier = self.threads.recall(question.channel, question.thread_ts)
        return (
            earlier is not None
            and earlier.user == question.user
            and not addressed_to_others(question.mentions, self.basics.bot)
            and reads_as_question(question.text)
        )

    def _converse(self, client: WebClient, question: Question) -> None:
        """Answer in the conversation: progress, answer, post (a written answer streams
        into a thread), remember; a post Slack refuses is told to the asker privately."""
        earlier = self.threads.recall(question.channel, question.thread_ts or "")
        context = earlier.question if earlier and question.thread_ts else None
        note = notices.FILES_NOT_READ if question.files else None
        shown = Presentation(context=context, note=note)
        with self.progress(client, question) as progress:
            found = self.answering.answer(question.text, context, channel=question.channel)
            if self.answering.written is not None and isinstance(found, Answer):
                progress.reading(len(found.passages))
            if question.thread_ts:  # before posting: the asker may reply at once
                self.threads.remember(
                    question.channel, question.thread_ts, Turn(question.user, question.text)
                )
            posted = self._deliver(client, question, found, shown)
            if posted.ts and not self._private(question):  # before the hourglass goes
                self._remember(question, posted.ts, context, found)
        if not posted.ts and not self.basics.revoked:
            log.warning("answer not posted in %s: %s", question.channel, posted.error)
            text = notices.not_posted(posted.error or "", question.channel, self.basics.bot)
            self.outbox.tell(
                client, question.user, text, channel=question.channel, thread_ts=question.thread_ts
            )

    def _deliver(
        self, client: WebClient, question: Question, found: Answer | Message, shown: Presentation
    ) -> Posted:
        """Post the answer where it was asked; with a model, stream it into a thread."""
        channel, thread_ts = question.channel, question.thread_ts
        written = self.answering.written
        if self._private(question):
            private = Presentation(context=shown.context, note=shown.note, share=True)
            message = self.answering.finish(found, question.text, private)
            return self.outbox.post_privately(client, channel, question.user, thread_ts, message)
        if written is None or thread_ts is None or not isinstance(found, Answer):
            message = self.answering.finish(found, question.text, shown)
            return self.outbox.post(client, channel, thread_ts, message)
        return written.stream(
            client,
            self.outbox,
            channel=channel,
            thread_ts=thread_ts,
            user=question.user,
            # the asker's team, not the app's: Slack streams to that person in that team
            # (docs.slack.dev/reference/methods/chat.startStream, recipient_team_id)
            team=question.team or self.basics.policy.identity.team_id,
            answer=found,
            question=question.text,
            earlier=shown.context,
            render=lambda answer, streamed: self.answering.render(
                answer, shown.streaming() if streamed else shown
            ),
            post=lambda message: self.outbox.post(client, channel, thread_ts, message),
        )

    def _private(self, question: Question) -> bool:
        """Whether this answer is for the asker's eyes only (a private desk channel)."""
        return question.kind != "direct" and self.desks(question.channel).private

    def _remember(
        self, question: Question, answer_ts: str, context: str | None, found: Answer | Message
    ) -> None:
        """Record an answer posted to a question: for edits, for follow-ups in its
        thread (a DM answer starts a thread of its own), and with the articles it quotes,
        to edit it when one of them is corrected (`bot.corrections`)."""
        turn = Turn(question.user, question.text)
        self.threads.remember(question.channel, question.thread_ts or answer_ts, turn)
        answer = PostedAnswer(answer_ts, question.thread_ts, question.user, question.text, context)
        if question.message_ts:
            self.answers.remember(question.channel, question.message_ts, answer)
        bot = self.basics.bot
        if isinstance(found, Answer) and bot and self.slack.follow_answers_days > 0:
            self.followed.remember(question.channel, bot, answer, quoted_by(found))


def _same(before: str, after: str) -> bool:
    """The same question, give or take case and spacing."""
    return " ".join(before.lower().split()) == " ".join(after.lower().split())
