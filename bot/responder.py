"""What the bot does with a question: decide, guard, show progress, answer, post, remember.

Listeners only unpack Slack's payloads (`bot.inbound`) and call in here. Every surface
passes the one gate (`bot.gate`: revoked, outsider, allowed channel, rate limit, input
checks, in that order) before it computes, stores or shows anything; errors from the core
become friendly replies (and a log line), never raw exception text; posting failures are
told to the asker privately (`bot.outbox`).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from bot import notices, reasons
from bot.corrections import Corrections, quoted_by
from bot.desks import Desks, counts_as_question
from bot.feedback import FeedbackStore, Vote
from bot.gate import Gate, Knock, Problem, Refusal
from bot.guards import RateLimiter
from bot.home import MAX_DOWN_VOTES, HomeFacts, render_home, render_refusal_home
from bot.inbound import Question
from bot.intent import addressed_to_others, asks_for_help, reads_as_question
from bot.mrkdwn import clip
from bot.outbox import Outbox, Posted
from bot.policy import Policy
from bot.progress import PROGRESS_WORKERS, ArticleCount, Progress
from bot.questions import QuestionLog, week_ago
from bot.render import Message, feedback_value, render_answer, render_notice
from bot.state import (
    AnswerLog,
    FollowedAnswers,
    IssuedAnswer,
    IssuedAnswers,
    PostedAnswer,
    SharedState,
    ThreadMemory,
    Turn,
)
from bot.streaming import WrittenReplies
from core.errors import NewsroomError, StoreUnavailableError
from core.models import Answer, StoreSummary
from core.settings import Settings

log = logging.getLogger(__name__)

Answerer = Callable[[str], Answer]

SUGGESTED_PROMPTS = [
    {"title": "What's new this week?", "message": "What's new this week?"},
    {"title": "Who is in the news this month?", "message": "Who is in the news this month?"},
    {"title": "How do I ask?", "message": "help"},
]
# Answers are CPU-bound (embedding, BM25, numpy): more of them at once than cores only
# makes each slower. Questions beyond these wait their turn in the pool's queue.
ANSWER_WORKERS = 4


class Responder:
    """Turns questions into posted answers.

    Args:
        settings: Allowed channels, rate limit, follow-ups.
        answerer: question -> Answer (the real one wraps `core.answer.compose.answer_question`).
        feedback: Where 👍/👎 clicks go.
        policy: Who may ask where.
        state: What every bot process on the host remembers (threads, posted answers).
        summarize: What the archive holds, for the App Home tab (None: unreachable).
        on_revoked: Called once when Slack revokes the bot's token (the app was
            uninstalled); the bot then stays idle.
        written: Adds a model's written answer (None: answers stay extractive).
        desks: Per-channel defaults (DESKS): filters, auto-answer, private replies.
    """

    def __init__(
        self,
        settings: Settings,
        answerer: Answerer,
        feedback: FeedbackStore,
        policy: Policy,
        state: SharedState,
        summarize: Callable[[], StoreSummary | None] = lambda: None,
        on_revoked: Callable[[], None] | None = None,
        workers: int = ANSWER_WORKERS,
        written: WrittenReplies | None = None,
        desks: Desks | None = None,
    ):
        self.settings = settings
        self.answerer = answerer
        self.feedback = feedback
        self.policy = policy
        self.summarize = summarize
        self.written = written
        self.desks = desks or Desks()
        self.asked = QuestionLog(state)
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.threads = ThreadMemory(state)
        self.answers = AnswerLog(state)
        self.issued = IssuedAnswers(state)
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.followed = FollowedAnswers(
            state, settings.follow_answers_days, settings.follow_answers_per_minute, owner
        )
        self.gate = Gate(settings, policy, self.limiter, lambda: self.revoked)
        self.outbox = Outbox(self.revoke)
        self.revoked = False
        self._on_revoked = on_revoked
        self._revoke_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="bot-answer")
        # Clicks that must reach Slack within seconds (a 👎's trigger_id lives 3 s) never
        # queue behind answers being computed.
        self._clicks = ThreadPoolExecutor(2, thread_name_prefix="bot-click")
        self._progress_pool = ThreadPoolExecutor(
            PROGRESS_WORKERS, thread_name_prefix="bot-progress"
        )
        self._articles = ArticleCount(summarize)
        self.corrections: Corrections | None = None  # set by `bot.app` when answers follow

    @property
    def bot(self) -> str | None:
        """The bot's user id."""
        return self.policy.identity.bot_user_id

    def later(self, work: Callable[..., object], *args: Any) -> None:
        """Run `work(*args)` on the answering pool and return at once.

        Listeners hand their answering here, so Bolt's workers are free again in
        milliseconds: a `/ask` is acknowledged only once a Bolt worker runs its listener,
        and with every worker busy answering, acks waited seconds under load.
        """

        _submit(self._pool, "answering", work, args)

    def quickly(self, work: Callable[..., object], *args: Any) -> None:
        """As `later`, on the pool for clicks, which computes no answers."""

        _submit(self._clicks, "handling a click", work, args)

    # -- policy --------------------------------------------------------------------------

    def _knock(self, question: Question) -> Knock:
        return Knock(question.kind, question.user, question.team, question.channel)

    def _refused_in_conversation(
        self, client: WebClient, question: Question, problem: Problem | None = None
    ) -> bool:
        """The gate for a message: True (the asker told where they should be) when refused."""
        refusal = self.gate.check(client, self._knock(question), problem)
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

    def revoke(self, reason: str) -> None:
        """Slack revoked the token (uninstalled, or `reason` from a call): go idle, once."""
        with self._revoke_lock:
            if self.revoked:
                return
            self.revoked = True
        log.warning(
            "Slack revoked the bot's token (%s): no more answers. Reinstall the app, put its "
            "Bot User OAuth Token in SLACK_BOT_TOKEN and start the bot again.",
            reason,
        )
        if self._on_revoked is not None:
            self._on_revoked()

    def _is_follow_up(self, question: Question) -> bool:
        """A reply in a thread the bot answered, by the same person, that reads as a
        question to the bot (see `bot.intent`)."""
        if not (self.settings.answer_followups and question.thread_ts):
            return False
        earlier = self.threads.recall(question.channel, question.thread_ts)
        return (
            earlier is not None
            and earlier.user == question.user
            and not addressed_to_others(question.mentions, self.bot)
            and reads_as_question(question.text)
        )

    # -- conversations -------------------------------------------------------------------

    def ask(self, client: WebClient, question: Question) -> None:
        """A mention, DM, follow-up, assistant-thread message or question in an
        auto-answer desk channel: answer it if it is meant for the bot, in its thread (or
        at the top of a DM); privately where the channel's desk says so."""
        if question.kind == "follow_up" and not self._is_follow_up(question):
            return  # people talking among themselves: not a request to the bot
        if question.kind == "auto" and not counts_as_question(
            question.text, question.mentions, self.bot
        ):
            return  # chatter in an auto-answer channel
        problem = None
        if not question.text:
            empty = notices.FILES_ONLY if question.files else notices.EMPTY_QUESTION
            problem = Problem("no question", empty)
        if self._refused_in_conversation(client, question, problem):
            return
        if asks_for_help(question.text):
            self.outbox.post(client, question.channel, question.thread_ts, self._usage())
            return
        self._converse(client, question)

    def revise(self, client: WebClient, question: Question) -> None:
        """An edited message: update the bot's answer to it in place when the question
        changed, and do nothing otherwise. A mention added by the edit is a new question."""
        if self.revoked:
            return
        assert question.message_ts is not None
        earlier = self.answers.recall(question.channel, question.message_ts)
        if earlier is None:
            if question.kind in ("mention", "auto"):
                self.ask(client, question)
            return
        if _same(earlier.question, question.text) or not question.text:
            return
        if asks_for_help(question.text):
            return
        if self._refused_in_conversation(client, question):
            return
        with self._progress(client, question):
            found = self._answer(question.text, earlier.context, channel=question.channel)
            message = self._finish(
                found, question.text, context=earlier.context, note=notices.EDITED
            )
            updated = self.outbox.update(client, question.channel, earlier.answer_ts, message)
            if not updated.error:
                self._remember(question, earlier.answer_ts, earlier.context, found)
        if updated.error:  # e.g. the answer was deleted meanwhile
            log.info("updating answer %s failed; posting anew", earlier.answer_ts)
            self._converse(client, question)

    def _converse(self, client: WebClient, question: Question) -> None:
        """Answer in the conversation: progress, answer, post (a written answer streams
        into a thread), remember; a post Slack refuses is told to the asker privately."""
        earlier = self.threads.recall(question.channel, question.thread_ts or "")
        context = earlier.question if earlier and question.thread_ts else None
        note = notices.FILES_NOT_READ if question.files else None
        with self._progress(client, question) as progress:
            found = self._answer(question.text, context, channel=question.channel)
            if self.written is not None and isinstance(found, Answer):
                progress.reading(len(found.passages))
            if question.thread_ts:  # before posting: the asker may reply at once
                self.threads.remember(
                    question.channel, question.thread_ts, Turn(question.user, question.text)
                )
            posted = self._deliver(client, question, found, context, note)
            private = self._private(question)
            if posted.ts and not private:  # before the hourglass goes: an edit may follow
                self._remember(question, posted.ts, context, found)
        if not posted.ts and not self.revoked:
            log.warning("answer not posted in %s: %s", question.channel, posted.error)
            text = notices.not_posted(posted.error or "", question.channel, self.bot)
            self.outbox.tell(
                client, question.user, text, channel=question.channel, thread_ts=question.thread_ts
            )

    def _deliver(
        self,
        client: WebClient,
        question: Question,
        found: Answer | Message,
        context: str | None,
        note: str | None,
    ) -> Posted:
        """Post the answer where it was asked; with a model, stream it into a thread."""
        channel, thread_ts = question.channel, question.thread_ts
        if self._private(question):
            message = self._finish(found, question.text, context=context, note=note, share=True)
            return self.outbox.post_privately(client, channel, question.user, thread_ts, message)
        if self.written is None or thread_ts is None or not isinstance(found, Answer):
            message = self._finish(found, question.text, context=context, note=note)
            return self.outbox.post(client, channel, thread_ts, message)

        def render(answer: Answer, streamed: bool) -> Message:
            return self._render(answer, context=context, note=note, streamed=streamed)

        return self.written.stream(
            client,
            self.outbox,
            channel=channel,
            thread_ts=thread_ts,
            user=question.user,
            # the asker's team, not the app's: Slack streams to that person in that team
            # (docs.slack.dev/reference/methods/chat.startStream, recipient_team_id)
            team=question.team or self.policy.identity.team_id,
            answer=found,
            question=question.text,
            earlier=context,
            render=render,
            post=lambda message: self.outbox.post(client, channel, thread_ts, message),
        )

    def _private(self, question: Question) -> bool:
        """Whether this answer is for the asker's eyes only (a private desk channel)."""
        return question.kind != "direct" and self.desks(question.channel).private

    def _remember(
        self,
        question: Question,
        answer_ts: str,
        context: str | None,
        found: Answer | Message | None = None,
    ) -> None:
        """Record an answer posted to a question: for edits, for follow-ups in its
        thread (a DM answer starts a thread of its own), and with the articles it quotes,
        to edit it when one of them is corrected (`bot.corrections`)."""
        turn = Turn(question.user, question.text)
        self.threads.remember(question.channel, question.thread_ts or answer_ts, turn)
        answer = PostedAnswer(answer_ts, question.thread_ts, question.user, question.text, context)
        if question.message_ts:
            self.answers.remember(question.channel, question.message_ts, answer)
        if isinstance(found, Answer) and self.bot and self.settings.follow_answers_days > 0:
            self.followed.remember(question.channel, self.bot, answer, quoted_by(found))

    def reanswer(
        self, channel: str, posted: PostedAnswer, note: str
    ) -> tuple[Message, dict[str, str]] | None:
        """An answer posted earlier, answered again (an article it quoted changed), with
        `note` above it, and the articles it now quotes; None when the store failed (the
        old answer is better than a notice that it did)."""
        found = self._answer(posted.question, posted.context, channel=channel, record=False)
        if not isinstance(found, Answer):
            return None
        message = self._finish(found, posted.question, context=posted.context, note=note)
        return message, quoted_by(found)

    def _progress(self, client: WebClient, question: Question) -> Progress:
        return Progress(self._progress_pool, self.outbox, client, question, self._articles)

    # -- /ask and buttons ----------------------------------------------------------------

    def ask_privately(
        self, client: WebClient, question: Question, response_url: str, shareable: bool
    ) -> str:
        """`/ask`: the text to acknowledge it with; the answer follows to `response_url`."""
        problem = None
        if not question.text:
            problem = Problem("no question", notices.EMPTY_QUESTION)
        elif not response_url:
            problem = Problem("no response_url", notices.INCOMPLETE, forged=True)
        refusal = self.gate.check(client, self._knock(question), problem)
        if refusal is not None:
            return refusal.notice
        if asks_for_help(question.text):
            return notices.usage(self.bot)
        self.later(self._answer_privately, question.text, response_url, shareable, question.channel)
        return notices.searching(question.text)

    def decides_at_once(self, question: Question) -> bool:
        """Whether the gate can decide on `question` without a call to Slack, so that `/ask`
        can be acknowledged with the outcome within Slack's 3 seconds."""
        return self.revoked or self.policy.knows(question.user, question.team)

    def ask_privately_later(
        self, client: WebClient, question: Question, response_url: str, shareable: bool
    ) -> None:
        """`/ask` already acknowledged: what the ack would have said goes to `response_url`
        (the gate may need `users.info`, which can take longer than Slack waits for an ack)."""
        text = self.ask_privately(client, question, response_url, shareable)
        if text and response_url:
            self.outbox.respond(
                response_url, response_type="ephemeral", replace_original=False, text=text
            )

    def _answer_privately(
        self,
        question: str,
        response_url: str,
        shareable: bool,
        channel: str | None = None,
        note: str | None = None,
    ) -> bool:
        """The answer only the asker sees, with a button to share it where sharing works;
        False when the response_url took none of its forms."""
        message = self._compose(question, share=shareable, channel=channel, note=note)
        for form in message.forms():
            sent = self.outbox.respond(
                response_url, response_type="ephemeral", replace_original=False, **form.as_kwargs()
            )
            if sent:
                return True
        return False

    def ask_about(
        self, client: WebClient, question: Question, response_url: str, shareable: bool
    ) -> None:
        """The message shortcut: answer about the message pointed at, privately, through
        the shortcut's response_url (as `/ask` does)."""
        problem = None
        if not question.text:
            problem = Problem("shortcut on a message without text", notices.NOTHING_TO_ASK)
        elif not response_url:
            problem = Problem("shortcut without a response_url", notices.INCOMPLETE, forged=True)
        refusal = self.gate.check(client, self._knock(question), problem)
        if refusal is not None:
            self._tell_clicker(client, question.user, question.channel, None, response_url, refusal)
            return
        note = f"About the message: “{clip(question.text, 200)}”"
        if not self._answer_privately(
            question.text, response_url, shareable, question.channel, note
        ):
            self.outbox.tell(client, question.user, notices.SHORTCUT_FAILED)

    def share(
        self, client: WebClient, question: Question, response_url: str, channel_name: str
    ) -> None:
        """The share button: post the answer in the channel, with who asked what."""
        problem = None
        if not question.text:
            problem = Problem("share without a question", notices.STALE_BUTTON, forged=True)
        elif not response_url:
            problem = Problem("share without a response_url", notices.INCOMPLETE, forged=True)
        knock = Knock("share", question.user, question.team, question.channel)
        refusal = self.gate.check(client, knock, problem)
        if refusal is not None:
            self._tell_clicker(client, question.user, question.channel, None, response_url, refusal)
            return
        message = self._compose(
            question.text, asked_by=question.user, channel=question.channel, record=False
        )
        posted = self.outbox.post(client, question.channel, None, message)
        if not posted.ts:
            why = notices.cannot_share(question.channel, self.bot, channel_name)
            self.outbox.tell(client, question.user, why, response_url=response_url)
            return
        self.threads.remember(question.channel, posted.ts, Turn(question.user, question.text))
        self.outbox.respond(response_url, delete_original=True)

    def vote(
        self,
        client: WebClient,
        vote: Vote,
        team: str | None,
        thread_ts: str | None,
        response_url: str | None,
        trigger_id: str | None = None,
    ) -> None:
        """Store a 👍/👎 on an answer the bot gave, with what it said (not what the click
        claims), and thank the voter, privately: the click's response_url first. A 👎
        also opens the optional reason modal with the click's `trigger_id`."""
        issued = self.issued.recall(vote.answer_id) if vote.answer_id else None
        problem = None
        if issued is None:
            problem = Problem("vote for an answer I did not give", notices.STALE_BUTTON, True)
        knock = Knock("vote", vote.user_id, team, vote.channel_id)
        refusal = self.gate.check(client, knock, problem)
        if refusal is not None:
            self._tell_clicker(
                client, vote.user_id, vote.channel_id, thread_ts, response_url, refusal
            )
            return
        assert issued is not None  # the gate refuses a vote without one
        vote = replace(vote, question=issued.question, answer=issued.answer)
        self.feedback.record(vote)
        log.info("feedback %s on answer %s from %s", vote.vote, vote.answer_id, vote.user_id)
        if vote.vote == "down" and trigger_id:  # first: the trigger expires in 3 s
            self.outbox.open_view(client, trigger_id, reasons.reason_modal(vote.answer_id))
        self.outbox.tell(
            client,
            vote.user_id,
            notices.THANKS,
            channel=vote.channel_id,
            thread_ts=thread_ts,
            response_url=response_url,
            dm=False,
        )

    def explain_vote(self, client: WebClient, reason: reasons.Reason) -> None:
        """A 👎's reason: stored with the vote, and posted to FEEDBACK_CHANNEL when set."""
        vote = self.feedback.vote_of(reason.answer_id, reason.user)
        problem = None
        if vote is None or vote.vote != "down":
            problem = Problem("a reason for a 👎 never given", "", forged=True)
        refusal = self.gate.check(client, Knock("reason", reason.user, reason.team), problem)
        if refusal is not None:
            return  # the modal is closed already: nothing to show it in
        assert vote is not None
        self.feedback.explain(reason.answer_id, reason.user, reason.reason, reason.note)
        log.info(
            "feedback reason %s on answer %s from %s",
            reason.reason or "none",
            reason.answer_id,
            reason.user,
        )
        editors = self.settings.feedback_channel
        if editors:
            message = reasons.render_for_editors(vote, reason)
            posted = self.outbox.post(client, editors, None, message)
            if not posted.ts:
                log.warning("a 👎 reason did not reach FEEDBACK_CHANNEL: %s", posted.error)

    def _tell_clicker(
        self,
        client: WebClient,
        user: str,
        channel: str | None,
        thread_ts: str | None,
        response_url: str | None,
        refusal: Refusal,
    ) -> None:
        """Tell whoever clicked a button why nothing happened, privately (if at all)."""
        if refusal.notice:
            self.outbox.tell(
                client,
                user,
                refusal.notice,
                channel=channel,
                thread_ts=thread_ts,
                response_url=response_url or None,
                dm=False,
            )

    # -- answering -----------------------------------------------------------------------

    def _compose(
        self,
        question: str,
        *,
        context: str | None = None,
        share: bool = False,
        asked_by: str | None = None,
        note: str | None = None,
        channel: str | None = None,
        record: bool = True,
    ) -> Message:
        """Answer a question and render it; failures become a friendly notice. Callers
        have passed the gate first.

        Args:
            question: The plain question.
            context: The thread's earlier question, searched together with this one.
            share: Add a "Share in channel" button (private answers).
            asked_by: Show who asked above the answer (shared answers).
            note: A remark of ours above the answer.
            channel: Where it was asked (its desk's defaults apply).
            record: Count it among the questions asked (a shared answer was counted).
        """
        return self._finish(
            self._answer(question, context, channel=channel, record=record),
            question,
            context=context,
            share=share,
            asked_by=asked_by,
            note=note,
        )

    def _finish(
        self,
        found: Answer | Message,
        question: str,
        *,
        context: str | None = None,
        share: bool = False,
        asked_by: str | None = None,
        note: str | None = None,
    ) -> Message:
        """The message for an answer (or the notice already made for a failure), with a
        model's written answer when one is configured, written in one go."""
        if not isinstance(found, Answer):
            return found
        if self.written is not None:
            self.written.attach(found, question, context)
        return self._render(found, share=share, asked_by=asked_by, context=context, note=note)

    def _answer(
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

    def _render(
        self,
        answer: Answer,
        *,
        share: bool = False,
        asked_by: str | None = None,
        context: str | None = None,
        note: str | None = None,
        streamed: bool = False,
    ) -> Message:
        """An answer as a message with a fresh feedback id, remembered so that only votes
        on answers the bot gave count (`streamed`: its written part is streamed above the
        blocks)."""
        answer_id = uuid.uuid4().hex[:16]
        shown = json.loads(feedback_value(answer_id, answer))
        self.issued.remember(answer_id, IssuedAnswer(shown["q"], shown["a"]))
        return render_answer(
            answer,
            answer_id,
            native_feedback=self.outbox.native_feedback,
            share=share,
            asked_by=asked_by,
            context_question=context,
            note=note,
            streamed=streamed,
        )

    def _usage(self) -> Message:
        return render_notice(notices.usage(self.bot))

    # -- App Home and the assistant view -------------------------------------------------

    def show_home(self, client: WebClient, user: str) -> None:
        """Publish the App Home tab for `user` (the feedback summary for admins only);
        someone from another organisation sees only that the bot is not theirs."""
        refusal = self.gate.check(client, Knock("home", user, None))
        if refusal is not None:
            if refusal.notice:
                self.outbox.publish(client, user, render_refusal_home(refusal.notice))
            return
        facts = HomeFacts(self.bot, self.summarize())
        if self.policy.admin(client, user):
            week = datetime.now(UTC) - timedelta(days=7)
            facts.tally = self.feedback.tally(week)
            down = self.feedback.votes(week, "down", latest=MAX_DOWN_VOTES)
            facts.recent_down = list(reversed(down))
            facts.questions = self.asked.stats(week_ago())
        self.outbox.publish(client, user, render_home(facts))

    def greet(self, client: WebClient, user: str, channel: str, thread_ts: str) -> None:
        """A new assistant thread: say hello and offer suggested prompts."""
        refusal = self.gate.check(client, Knock("greeting", user, None, channel))
        if refusal is not None:
            if refusal.notice:
                self.outbox.post(client, channel, thread_ts, render_notice(refusal.notice))
            return
        self.outbox.post(client, channel, thread_ts, render_notice(notices.ASSISTANT_GREETING))
        self.outbox.suggest(client, channel, thread_ts, SUGGESTED_PROMPTS)

    def welcome(self, client: WebClient, user: str, channel: str) -> None:
        """The Messages tab opened in the agent experience: suggested prompts for the DM,
        without a thread (nothing is posted: the tab opens often)."""
        if self.gate.check(client, Knock("greeting", user, None, channel)) is not None:
            return
        self.outbox.suggest(client, channel, None, SUGGESTED_PROMPTS)


def _same(before: str, after: str) -> bool:
    """The same question, give or take case and spacing."""
    return " ".join(before.lower().split()) == " ".join(after.lower().split())


def _submit(
    pool: ThreadPoolExecutor, what: str, work: Callable[..., object], args: tuple[Any, ...]
) -> None:
    """Run `work(*args)` on `pool`; a failure is logged (`what` failed), never raised."""

    def run() -> None:
        try:
            work(*args)
        except Exception:
            log.exception("%s failed", what)

    pool.submit(run)
