"""Written answers in Slack: streamed sentence by sentence, or posted in one go.

Only verified sentences are ever sent: the writer hands each one over once it passed, and
it is appended to the stream then (`chat.startStream` on the first, `chat.appendStream`
after, `chat.stopStream` closing with the quoted lead, the passages and the buttons as
blocks). The stream starts only with the first kept sentence, so an answer where nothing
survives is posted as the extractive one, exactly as without a model. Where streaming is
unavailable (a top-level DM has no thread to stream into, `/ask` answers through a
response_url, or Slack refuses the stream), the whole answer is posted once, written part
first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.written import label_markdown, sentence_markdown
from core.models import Answer, Passage, WrittenSentence
from core.settings import Settings

if TYPE_CHECKING:
    from core.writer import Writer

log = logging.getLogger(__name__)

Render = Callable[[Answer], Any]  # Answer -> bot.render.Message
Post = Callable[[Any], "str | None"]  # Message -> the posted ts, None on failure


def open_writer(settings: Settings) -> Writer | None:
    """The configured writer, or None when ANSWER_MODEL is empty (nothing is imported then).

    Raises:
        ConfigError: ANSWER_MODEL cannot be set up; the message says what to do.
    """
    if not settings.writes_answers:
        return None
    from core.writer import Writer

    return Writer.from_settings(settings)


class WrittenReplies:
    """Adds the written answer to the bot's replies.

    Args:
        writer: The configured `core.writer.Writer`.
    """

    def __init__(self, writer: Writer):
        self.writer = writer
        self._team_id: str | None = None
        self._team_lock = threading.Lock()

    def attach(self, answer: Answer, question: str, earlier: str | None) -> Answer:
        """Write the answer in one go (for a message posted once)."""
        from core.writer import attach_written

        return attach_written(answer, self.writer, question, earlier)

    def stream(
        self,
        client: WebClient,
        *,
        channel: str,
        thread_ts: str,
        user: str,
        answer: Answer,
        question: str,
        earlier: str | None,
        render: Render,
        post: Post,
    ) -> str | None:
        """Reply in a thread, streaming the written answer; returns the reply's ts.

        Args:
            render: Renders an answer (with or without its written part) as a Message.
            post: Posts a Message in the thread; returns its ts.
        """
        if not answer.found:
            return post(render(answer))
        stream = _Stream(client, channel, thread_ts, user, self._team(client))
        stream.model, stream.passages = self.writer.label, answer.passages
        written = self.writer.write(question, answer.passages, earlier, stream.append)
        if stream.ts is None:  # nothing verified, or Slack would not stream: post once
            answer.written = written
            return post(render(answer))
        if stream.stop(render(answer).blocks):  # the sentences are shown: blocks follow
            return stream.ts
        return post(render(answer)) or stream.ts  # keep the sources visible regardless

    def _team(self, client: WebClient) -> str | None:
        """The workspace id, which streaming in a channel needs (asked once)."""
        with self._team_lock:
            if self._team_id is None:
                try:
                    self._team_id = str(client.auth_test().get("team_id") or "") or None
                except SlackApiError as exc:
                    log.warning("auth.test failed: %s", exc.response.get("error"))
            return self._team_id


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
        self.failed = False

    @property
    def ts(self) -> str | None:
        return self.helper.ts if self.helper is not None else None

    def append(self, sentence: WrittenSentence) -> None:
        """Append one verified sentence (the first starts the stream under its label)."""
        if self.failed:
            return
        try:
            if self.helper is None:
                self.helper = self.client.chat_stream(**self.args)
                self.helper.append(markdown_text=label_markdown(self.model))
            self.helper.append(markdown_text=sentence_markdown(sentence, self.passages))
        except (SlackApiError, SlackRequestError, OSError) as exc:
            self.failed = True
            log.warning("streaming the written answer failed: %s", _error(exc))
            if self.ts is None:
                self.helper = None

    def stop(self, blocks: list[dict[str, Any]]) -> bool:
        """Close the stream with the blocks below the sentences; False when Slack refused."""
        try:
            self.helper.stop(blocks=blocks)
        except (SlackApiError, SlackRequestError, OSError) as exc:
            log.warning("closing the streamed answer failed: %s", _error(exc))
            return False
        return True


def _error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return type(exc).__name__
