"""Written answers: prompt a chat model with the passages, check each sentence as it
arrives, keep only the supported ones.

`Writer.write()` serves the CLI and the bot: it streams the model's text, verifies every
complete sentence at once and hands each kept one to `on_sentence` (the bot appends it to
Slack's stream), so nothing unchecked is ever shown. The model call is bounded: one
deadline (ANSWER_TIMEOUT) for all of it, however the server keeps the connection alive;
a cap on the bytes, characters and sentences read (ANSWER_MAX_TOKENS is only a request);
text no UTF-8 output can carry (lone surrogates) replaced as it is read; and only the part
of the question that is answered (`core.answer.compose.answered_part`) is sent. When the model
fails, times out, declines or nothing survives, the `WrittenAnswer` has no sentences and
says why; the extractive answer then stands alone, as without a model. Logs carry counts,
timings and reasons, never the question's or the model's text.

`create_written_chain()` offers the same as a LangChain runnable over `NewsroomRetriever`.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Generator, Sequence
from operator import itemgetter
from typing import Any

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from core.answer.compose import answered_part
from core.models import Answer, Passage, WrittenAnswer, WrittenSentence
from core.sections import AnswerSettings
from core.written.chat_models import ChatModel, open_chat_model
from core.written.model_wire import Budget
from core.written.parse import refuses
from core.written.prompt import (
    PASSAGE_CHARS,
    build_messages,
    sources_from_documents,
    sources_from_passages,
)
from core.written.sentence_feed import SentenceFeed
from core.written.source import Source
from core.written.verify import verify

log = logging.getLogger(__name__)

OnSentence = Callable[[WrittenSentence], None]

TIMEOUT = "timeout"
MODEL_ERROR = "model error"
DECLINED = "declined"
UNSUPPORTED = "unsupported"
EMPTY = "empty"
TOO_LONG = "too long"

# What is read of one answer, whatever the model does with ANSWER_MAX_TOKENS: characters
# per token asked for (English averages about 4), bytes of the wire per token (an SSE
# event carrying one token is ~200-400 bytes of JSON), and sentences (the prompt asks for
# one to three; Slack shows what fits in 3,000 characters).
CHARS_PER_TOKEN = 8
BYTES_PER_TOKEN = 2048
BASE_BYTES = 64 * 1024
MAX_SENTENCES = 20
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_JOIN_SECONDS = 0.5  # for the model's thread to end after a timeout, past the deadline
_LATE = 0.05  # a read of the model's connection failing this close to the deadline timed out


class _TimedOut(Exception):
    pass


def readable(text: str) -> str:
    """A model's text as any UTF-8 output can carry it: a lone surrogate (half of a UTF-16
    pair, e.g. from JSON's "\\ud83d") becomes U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)


class Writer:
    """Writes verified answers with one chat model.

    Args:
        chat: The model and its label.
        timeout: Seconds for the whole written answer (request to last sentence).
        passage_chars: Characters of each passage shown to the model.
        max_tokens: The tokens asked for; what is read is capped in proportion.
        question_chars: Characters of a question that are answered (and sent).
    """

    def __init__(
        self,
        chat: ChatModel,
        timeout: float,
        passage_chars: int = PASSAGE_CHARS,
        max_tokens: int = 250,
        question_chars: int = 1000,
    ):
        self.chat = chat
        self.timeout = timeout
        self.passage_chars = passage_chars
        self.max_chars = max_tokens * CHARS_PER_TOKEN
        self.max_bytes = BASE_BYTES + max_tokens * BYTES_PER_TOKEN
        self.question_chars = question_chars

    @classmethod
    def from_settings(cls, answers: AnswerSettings) -> Writer:
        """The writer the answers' section configures (ANSWER_MODEL; raises ConfigError
        when it cannot be set up)."""
        return cls(
            open_chat_model(answers),
            answers.timeout,
            max_tokens=answers.max_tokens,
            question_chars=answers.max_question_chars,
        )

    @property
    def label(self) -> str:
        """The model's name as people see it."""
        return self.chat.label

    def warm(self) -> None:
        """Load an in-process model now rather than at the first question."""
        load = getattr(self.chat.model, "load", None)
        if callable(load):
            load()

    def write(
        self,
        question: str,
        passages: Sequence[Passage],
        earlier: str | None = None,
        on_sentence: OnSentence | None = None,
    ) -> WrittenAnswer:
        """Write an answer from our passages; citations number them from 1, in order."""
        question = answered_part(question, self.question_chars)
        earlier = answered_part(earlier, self.question_chars) if earlier else earlier
        focus = f"{earlier} {question}" if earlier else question
        sources = sources_from_passages(passages, focus, self.passage_chars)
        return self.write_sources(question, sources, earlier, on_sentence)

    def write_sources(
        self,
        question: str,
        sources: Sequence[Source],
        earlier: str | None = None,
        on_sentence: OnSentence | None = None,
    ) -> WrittenAnswer:
        """Write an answer from numbered sources, verifying each sentence as it completes.

        Args:
            question: The person's question (only its answered part is sent).
            sources: The passages, as the model is shown them.
            earlier: The thread's earlier question, for a follow-up.
            on_sentence: Called with each kept sentence as soon as it is verified.
        """
        written = WrittenAnswer(self.label)
        if not sources:
            written.problem = EMPTY
            return written
        self.warm()  # a local model's first load is not the answer's time
        started = time.monotonic()
        reading = _Reading(self.max_chars)
        reasons = written.reasons

        def check(sentences: list[WrittenSentence]) -> None:
            for sentence in sentences:
                reading.sentences += 1
                verdict = verify(sentence, sources)
                if verdict.reason is None:
                    written.sentences.append(sentence)
                    if on_sentence:
                        on_sentence(sentence)
                else:
                    written.removed += 1
                    reasons[verdict.reason] = reasons.get(verdict.reason, 0) + 1

        question = answered_part(question, self.question_chars)
        earlier = answered_part(earlier, self.question_chars) if earlier else earlier
        messages = build_messages(question, sources, earlier)
        budget = Budget(started + self.timeout, self.max_bytes)
        feed = SentenceFeed()
        try:
            with contextlib.closing(self._stream(messages, budget)) as pieces:
                for piece in pieces:
                    if written.first_token_seconds is None and piece.strip():
                        written.first_token_seconds = time.monotonic() - started
                    check(feed.feed(reading.take(piece)))
                    if reading.full:
                        break
                else:
                    check(feed.finish())
        except _TimedOut:
            written.problem = TIMEOUT
        except Exception as exc:  # any provider's failure: the extractive answer stands
            if budget.over == "size":
                reading.cut = True
            else:
                log.warning("the answer model failed: %s", type(exc).__name__)
                written.problem = MODEL_ERROR
        written.seconds = time.monotonic() - started
        if not written.sentences and written.problem is None:
            written.problem = reading.why_nothing()
        _log(written, reading.cut)
        return written

    def _stream(self, messages: list[Any], budget: Budget) -> Generator[str, None, None]:
        """The model's text piece by piece, made readable; raises _TimedOut at the deadline.

        The model runs in its own thread so that a server that stops talking, or a local
        model that generates slowly, cannot hold the answer past the deadline; its HTTP
        connection is bounded by `budget` (core.written.model_wire), so the thread and the socket
        end at the deadline too, keep-alive comments or not.
        """
        pieces: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()

        def run() -> None:
            try:
                with budget.applied():
                    for chunk in self.chat.model.stream(messages):
                        if stop.is_set():
                            break
                        pieces.put(("text", chunk.text))
                pieces.put(("end", None))
            except Exception as exc:
                pieces.put(("error", exc))

        # Not a daemon: a process exiting under a local model's generation would be
        # aborted by torch; it ends at the deadline, or at the model's next piece of text.
        worker = threading.Thread(target=run, name="answer-model")
        worker.start()
        kind = "text"
        try:
            while True:
                left = budget.deadline - time.monotonic()
                if left <= 0:
                    raise _TimedOut
                try:
                    kind, value = pieces.get(timeout=left)
                except queue.Empty:
                    raise _TimedOut from None
                if kind == "end":
                    return
                if kind == "error":
                    if budget.deadline - time.monotonic() < _LATE:  # its read hit the deadline
                        raise _TimedOut from value
                    raise value
                yield readable(str(value))
        finally:
            stop.set()
            # Cut short (deadline, cap): end the call. Not once the model is done, as its
            # connection may already serve another answer from the pool.
            if kind == "text":
                budget.cancel()
                worker.join(_JOIN_SECONDS)


class _Reading:
    """What has been read of one answer, up to its caps (characters, sentences)."""

    def __init__(self, max_chars: int):
        self.max_chars = max_chars
        self.pieces: list[str] = []
        self.size = 0
        self.sentences = 0
        self.cut = False

    def take(self, piece: str) -> str:
        """The piece, or as much of it as the cap leaves."""
        piece = piece[: self.max_chars - self.size]
        self.pieces.append(piece)
        self.size += len(piece)
        return piece

    @property
    def full(self) -> bool:
        """True (and `cut` set) once the answer reached a cap: reading stops."""
        self.cut = self.cut or self.size >= self.max_chars or self.sentences >= MAX_SENTENCES
        return self.cut

    def why_nothing(self) -> str:
        """Why an answer that neither failed nor timed out kept no sentence."""
        text = "".join(self.pieces)
        if self.cut:
            return TOO_LONG
        if refuses(text):
            return DECLINED
        return UNSUPPORTED if text.strip() else EMPTY


def _log(written: WrittenAnswer, cut: bool = False) -> None:
    first = f"{written.first_token_seconds:.2f} s" if written.first_token_seconds else "none"
    why = ", ".join(f"{count} {reason}" for reason, count in sorted(written.reasons.items()))
    log.info(
        "written answer: %d sentences kept, %d removed%s; first token %s, total %.2f s%s%s",
        len(written.sentences),
        written.removed,
        f" ({why})" if why else "",
        first,
        written.seconds,
        "; cut at the size cap" if cut else "",
        f"; not shown: {written.problem}" if not written.shown else "",
    )


def attach_written(
    answer: Answer,
    writer: Writer,
    question: str,
    earlier: str | None = None,
    on_sentence: OnSentence | None = None,
) -> Answer:
    """Add a written answer to an extractive one that found something (in place).

    Args:
        answer: From `answer_question()`; its `passages` are what the model is given.
        writer: The configured writer.
        question: The person's question (without the thread's earlier one).
        earlier: The thread's earlier question, for a follow-up.
        on_sentence: Called with each kept sentence as soon as it is verified.
    """
    if answer.found and answer.passages:
        answer.written = writer.write(question, answer.passages, earlier, on_sentence)
    return answer


def create_written_chain(retriever: BaseRetriever, writer: Writer) -> Runnable[Any, dict[str, Any]]:
    """A runnable: question -> retrieved documents and a verified written answer.

    Input is a question, or `{"question": ..., "earlier": ...}` for a follow-up. Output is
    a dict with `question`, `earlier`, `documents` (as the retriever returned them; a
    citation [n] is `documents[n-1]`) and `written` (a `WrittenAnswer`).

    from core.retriever import NewsroomRetriever
    chain = create_written_chain(NewsroomRetriever.from_settings(settings, k=4),
                                 Writer.from_settings(settings.answers))
    chain.invoke("who was Cienfuegos?")["written"].text
    """

    def inputs(value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return {"question": str(value["question"]), "earlier": value.get("earlier")}
        return {"question": str(value), "earlier": None}

    def write(value: dict[str, Any]) -> WrittenAnswer:
        documents: list[Document] = value["documents"]
        focus = " ".join(filter(None, [value["earlier"], value["question"]]))
        sources = sources_from_documents(documents, focus, writer.passage_chars)
        return writer.write_sources(value["question"], sources, value["earlier"])

    return (
        RunnableLambda(inputs)
        | RunnablePassthrough.assign(documents=itemgetter("question") | retriever)
        | RunnablePassthrough.assign(written=RunnableLambda(write))
    ).with_config(run_name="newsroom_written_answer")
