"""What the bot does with a question: guard, show progress, answer, post, remember.

Listeners only unpack Slack's payloads into a `Question` and call in here; errors from the
core become friendly replies (and a log line), never raw exception text.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.feedback import FeedbackStore
from bot.guards import RateLimiter, ThreadMemory, Turn
from bot.mrkdwn import escape
from bot.render import Message, render_answer, render_notice
from bot.retries import create_retry_handlers
from bot.streaming import WrittenReplies
from core.errors import NewsroomError, StoreUnavailableError
from core.models import Answer
from core.settings import Settings

log = logging.getLogger(__name__)

Answerer = Callable[[str], Answer]

PROGRESS_REACTION = "hourglass_flowing_sand"

UNAVAILABLE = (
    "Search is unavailable right now: I can't reach the article archive. "
    "I'll keep trying by myself; please ask again in a minute."
)
FAILED = "Sorry, something went wrong on my side while answering. Please try again."
MISCONFIGURED = (
    "I can't search the archive: it is set up wrongly on my side. "
    "Whoever runs me will find the reason in my logs."
)
EMPTY_QUESTION = "Ask me a question about the archive, e.g. _who was Salvador Cienfuegos?_"
NOT_IN_CHANNEL = (
    "I can't post in this conversation. Invite me first (`/invite @archive`), then share again."
)
# Answers are CPU-bound (embedding, BM25, numpy): more of them at once than cores only
# makes each slower. Questions beyond these wait their turn in the pool's queue.
ANSWER_WORKERS = 4


@dataclass(frozen=True)
class Question:
    """A question as it arrived from Slack.

    Attributes:
        text: The plain question (markup already removed).
        user: Who asked.
        channel: Where.
        message_ts: The asking message (gets the progress reaction); None for `/ask`.
        thread_ts: Where to reply: a thread's root ts, or None for the top level (DMs).
    """

    text: str
    user: str
    channel: str
    message_ts: str | None
    thread_ts: str | None


def rate_limited_text(seconds: float, per_minute: int) -> str:
    """The friendly notice for someone asking too fast."""
    return (
        f"You're asking faster than I can keep up with ({per_minute} questions a minute). "
        f"Please try again in about {max(int(seconds + 0.999), 1)} seconds."
    )


def not_allowed_text(channels: list[str]) -> str:
    """The notice for a question asked where the bot does not answer."""
    where = ", ".join(f"<#{c}>" for c in channels if c.isalnum())
    return f"I only answer questions in {where} and in direct messages. Ask me there!"


class Responder:
    """Turns questions into posted answers.

    Args:
        settings: Allowed channels, rate limit, follow-ups.
        answerer: question -> Answer (the real one wraps `core.answer.answer_question`).
        feedback: Where 👍/👎 clicks go.
        written: Adds a model's written answer (None: answers stay extractive).
    """

    def __init__(
        self,
        settings: Settings,
        answerer: Answerer,
        feedback: FeedbackStore,
        workers: int = ANSWER_WORKERS,
        written: WrittenReplies | None = None,
    ):
        self.settings = settings
        self.answerer = answerer
        self.feedback = feedback
        self.written = written
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.threads = ThreadMemory()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="bot-answer")

    def later(self, work: Callable[..., object], *args: Any) -> None:
        """Run `work(*args)` on the answering pool and return at once.

        Listeners hand their answering here, so Bolt's workers are free again in
        milliseconds: a `/ask` is acknowledged only once a Bolt worker runs its listener,
        and with every worker busy answering, acks waited seconds under load.
        """

        def run() -> None:
            try:
                work(*args)
            except Exception:
                log.exception("answering failed")

        self._pool.submit(run)

    # -- policy --------------------------------------------------------------------------

    def allowed(self, channel: str) -> bool:
        """True where the bot answers: anywhere when ALLOWED_CHANNELS is empty, and in DMs."""
        allowed = self.settings.allowed_channels
        return not allowed or channel in allowed or channel.startswith("D")

    def rate_notice(self, user: str) -> str | None:
        """None when the user may ask now; else the notice, or "" when it was already given."""
        wait = self.limiter.wait_time(user)
        if not wait:
            return None
        log.info("rate limited user %s for %.0f s", user, wait)
        if not self.limiter.first_refusal(user):
            return ""
        return rate_limited_text(wait, self.settings.rate_limit_per_minute)

    # -- answering -----------------------------------------------------------------------

    def compose(
        self,
        question: str,
        *,
        context: str | None = None,
        share: bool = False,
        asked_by: str | None = None,
    ) -> Message:
        """Answer a question and render it; failures become a friendly notice.

        Args:
            question: The plain question.
            context: The thread's earlier question, searched together with this one.
            share: Add a "Share in channel" button (private answers).
            asked_by: Show who asked above the answer (shared answers).
        """
        answer = self.answer(question, context)
        if not isinstance(answer, Answer):
            return answer
        if self.written is not None:
            self.written.attach(answer, question, context)
        return self.render(answer, share=share, asked_by=asked_by, context=context)

    def answer(self, question: str, context: str | None = None) -> Answer | Message:
        """The core's answer to a question, or the friendly notice for a failure."""
        searched = f"{context} {question}" if context else question
        started = time.perf_counter()
        try:
            answer = self.answerer(searched)
        except StoreUnavailableError:
            log.warning("store unavailable while answering")
            return render_notice(UNAVAILABLE)
        except NewsroomError:
            log.exception("cannot answer: configuration problem")
            return render_notice(MISCONFIGURED)
        except Exception:
            log.exception("answering failed")
            return render_notice(FAILED)
        log.info(
            "answered in %.0f ms: found=%s, %d passages, question of %d chars",
            (time.perf_counter() - started) * 1000,
            answer.found,
            len(answer.passages),
            len(searched),
        )
        return answer

    def render(
        self,
        answer: Answer,
        *,
        share: bool = False,
        asked_by: str | None = None,
        context: str | None = None,
    ) -> Message:
        """An answer as a message with a fresh feedback id."""
        return render_answer(
            answer, uuid.uuid4().hex[:16], share=share, asked_by=asked_by, context_question=context
        )

    def reply(self, client: WebClient, question: Question, context: str | None = None) -> None:
        """Answer a message (mention, DM, follow-up): react, answer, post, remember."""
        notice = self.rate_notice(question.user)
        if notice is not None:
            if notice:
                self.whisper(client, question.channel, question.user, notice, question.thread_ts)
            return
        if not question.text:
            self.post(client, question.channel, question.thread_ts, render_notice(EMPTY_QUESTION))
            return
        self._react(client, "reactions_add", question)
        try:
            turn = Turn(question.user, question.text)
            if question.thread_ts:  # before posting: the asker may reply at once
                self.threads.remember(question.channel, question.thread_ts, turn)
            if self.written is not None and question.thread_ts:
                posted_ts = self._stream(client, question, context)
            else:
                message = self.compose(question.text, context=context)
                posted_ts = self.post(client, question.channel, question.thread_ts, message)
            if posted_ts and not question.thread_ts:  # a top-level DM answer
                self.threads.remember(question.channel, posted_ts, turn)
        finally:
            self._react(client, "reactions_remove", question)

    def _stream(self, client: WebClient, question: Question, context: str | None) -> str | None:
        """Reply in the thread with the written answer streamed above the quoted one."""
        assert self.written is not None and question.thread_ts is not None
        channel, thread_ts = question.channel, question.thread_ts
        answer = self.answer(question.text, context)
        if not isinstance(answer, Answer):
            return self.post(client, channel, thread_ts, answer)
        return self.written.stream(
            client,
            channel=channel,
            thread_ts=thread_ts,
            user=question.user,
            answer=answer,
            question=question.text,
            earlier=context,
            render=lambda a: self.render(a, context=context),
            post=lambda message: self.post(client, channel, thread_ts, message),
        )

    def answer_privately(self, question: str, response_url: str) -> None:
        """`/ask`: the answer only the asker sees, with a button to share it."""
        message = self.compose(question, share=True)
        self.respond(
            response_url, response_type="ephemeral", replace_original=False, **message.as_kwargs()
        )

    def share(
        self, client: WebClient, channel: str, user: str, question: str, response_url: str
    ) -> None:
        """The share button: post the answer in the channel, with who asked what."""
        message = self.compose(question, asked_by=user)
        try:
            posted = client.chat_postMessage(channel=channel, **message.as_kwargs())
        except SlackApiError as exc:
            log.warning("sharing in %s failed: %s", channel, exc.response.get("error"))
            if response_url:
                self.respond(
                    response_url,
                    text=NOT_IN_CHANNEL,
                    response_type="ephemeral",
                    replace_original=False,
                )
            return
        if posted.get("ts"):
            self.threads.remember(channel, str(posted["ts"]), Turn(user, question))
        if response_url:
            self.respond(response_url, delete_original=True)

    # -- posting -------------------------------------------------------------------------

    def post(
        self, client: WebClient, channel: str, thread_ts: str | None, message: Message
    ) -> str | None:
        """Post a message (in a thread when `thread_ts`); returns its ts, None on failure."""
        try:
            response = client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, **message.as_kwargs()
            )
        except SlackApiError as exc:
            log.error("chat.postMessage to %s failed: %s", channel, exc.response.get("error"))
            return None
        return str(response.get("ts") or "") or None

    def respond(self, response_url: str, **message: Any) -> bool:
        """POST to an interaction's `response_url` (a private `/ask` answer, a share's
        outcome), retried like Web API calls; False when Slack did not take it."""
        client = WebhookClient(response_url, timeout=15, retry_handlers=create_retry_handlers())
        try:
            status = client.send(**message).status_code
        except OSError as exc:  # the URL is a credential for 30 minutes: never log it
            log.error("posting to a response_url failed: %s", type(exc).__name__)
            return False
        if status != 200:
            log.error("posting to a response_url failed: HTTP %d", status)
        return status == 200

    def whisper(
        self, client: WebClient, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> None:
        """An ephemeral notice only `user` sees."""
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
        except SlackApiError as exc:
            log.warning("chat.postEphemeral in %s failed: %s", channel, exc.response.get("error"))

    def _react(self, client: WebClient, method: str, question: Question) -> None:
        if not question.message_ts:
            return
        try:
            getattr(client, method)(
                channel=question.channel, timestamp=question.message_ts, name=PROGRESS_REACTION
            )
        except SlackApiError as exc:  # progress is a nicety: never fail the answer for it
            log.info("%s failed: %s", method, exc.response.get("error"))


def searching_text(question: str) -> str:
    """The progress line a `/ask` shows at once."""
    return f":mag: Searching the archive for “{escape(question[:300])}”…"
