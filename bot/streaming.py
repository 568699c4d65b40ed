"""Written answers in Slack: streamed sentence by sentence, or posted in one go.

Only verified sentences are ever sent: the writer hands each one over once it passed, and
it is appended to the stream then (`chat.startStream` on the first, `chat.appendStream`
after, `chat.stopStream` closing with the quoted lead, the passages and the buttons as
blocks). The stream starts only with the first kept sentence, so an answer where nothing
survives is posted as the extractive one, exactly as without a model. Where streaming is
unavailable (a top-level DM has no thread to stream into, `/ask` answers through a
response_url, an edit updates the earlier answer in place, or Slack refuses the stream),
the whole answer is posted once, written part first, through the same fallbacks as any
answer (`bot.outbox`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.outbox import Outbox, Posted
from bot.progress import search_task
from bot.render import Message
from bot.written import label_markdown, sentence_markdown, shown_sentences
from core.models import Answer, Passage, WrittenAnswer, WrittenSentence
from core.settings import Settings

if TYPE_CHECKING:
    from core.written.writer import Writer

log = logging.getLogger(__name__)

Render = Callable[[Answer, bool], Message]  # (answer, streamed) -> the message
Post = Callable[[Message], Posted]  # posts a message in the thread


def open_writer(settings: Settings) -> Writer | None:
    """The configured writer, or None when ANSWER_MODEL is empty (nothing is imported then).

    Raises:
        ConfigError: ANSWER_MODEL cannot be set up; the message says what to do.
    """
    if not settings.writes_answers:
        return None
    from core.written.writer import Writer

    return Writer.from_settings(settings.answers)


class WrittenReplies:
    """Adds the written answer to the bot's replies.

    Args:
        writer: The configured `core.written.writer.Writer`.
    """

    def __init__(self, writer: Writer):
        self.writer = writer

    def attach(self, answer: Answer, question: str, earlier: str | None) -> Answer:
        """Write the answer in one go (for a message posted once)."""
        from core.written.writer import attach_written

        return attach_written(answer, self.writer, question, earlier)

    def stream(
        self,
        client: WebClient,
        outbox: Outbox,
        *,
        channel: str,
        thread_ts: str,
        user: str,
        team: str | None,
        answer: Answer,
        question: str,
        earlier: str | None,
        render: Render,
        post: Post,
    ) -> Posted:
        """Reply in a thread, streaming the written answer; returns the reply.

        Args:
            outbox: Closes the stream with the first form of the blocks Slack takes.
            user, team: Who the streamed text is for (Slack requires them in channels).
            render: Renders an answer, with its written part among the blocks or
                (streamed) above them.
            post: Posts a message in the thread, through the outbox's fallbacks.
        """
        if not answer.found or not answer.passages:
            return post(render(answer, False))
        stream = _Stream(client, channel, thread_ts, user, team)
        stream.model, stream.passages = self.writer.label, answer.passages
        answer.written = self.writer.write(question, answer.passages, earlier, stream.append)
        if stream.ts is None:  # nothing verified, or Slack would not stream: post once
            return post(render(answer, False))
        message = render(answer, True)
        closed = outbox.stop_stream(stream.helper, message)
        if closed.ts:
            return Posted(ts=stream.ts)
        # Slack kept the blocks out: the sentences stand alone, the sources follow them.
        log.warning("closing the streamed answer failed: %s", closed.error)
        stream.close()
        posted = post(message)
        return posted if posted.ts else Posted(ts=stream.ts)


class _Stream:
    """One streamed reply; started by its first sentence, so never empty."""

    def __init__(
        self, client: WebClient, channel: str, thread_ts: str, user: str, team: str | None
    ):
        self.client = client
        self.model = ""
        self.passages: list[Passage] = []
        self.args: dict[str, Any] = {
            "channel": channel,
            "thread_ts": thread_ts,
            "recipient_user_id": user,
            "recipient_team_id": team,
            "buffer_size": 1,  # each sentence goes out once verified; they are few
        }
        self.helper: Any = None
        self.sentences: list[WrittenSentence] = []
        self.failed = self.full = False

    @property
    def ts(self) -> str | None:
        return self.helper.ts if self.helper is not None else None

    def append(self, sentence: WrittenSentence) -> None:
        """Append one verified sentence (the first starts the stream under its label),
        while the sentences fit in what one message shows (`bot.written.shown_sentences`)."""
        if self.failed or self.full:
            return
        written = WrittenAnswer(self.model, [*self.sentences, sentence])
        if len(shown_sentences(written, self.passages)) <= len(self.sentences):
            self.full = True
            return
        self.sentences.append(sentence)
        try:
            if self.helper is None:
                self.helper = self.client.chat_stream(**self.args)
                self.helper.append(chunks=[search_task(self.passages)])
                self.helper.append(markdown_text=label_markdown(self.model))
            self.helper.append(markdown_text=sentence_markdown(sentence, self.passages))
        except (SlackApiError, SlackRequestError, OSError) as exc:
            self.failed = True
            log.warning("streaming the written answer failed: %s", _error(exc))
            if self.ts is None:
                self.helper = None

    def close(self) -> None:
        """End the stream with nothing more, so it does not stay open."""
        try:
            self.helper.stop()
        except (SlackApiError, SlackRequestError, OSError) as exc:
            log.info("closing the stream failed: %s", _error(exc))


def _error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return type(exc).__name__
