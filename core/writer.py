"""Written answers: prompt a chat model with the passages, check each sentence as it
arrives, keep only the supported ones.

`Writer.write()` serves the CLI and the bot: it streams the model's text, verifies every
complete sentence at once and hands each kept one to `on_sentence` (the bot appends it to
Slack's stream), so nothing unchecked is ever shown. When the model fails, times out,
declines or nothing survives, the `WrittenAnswer` has no sentences and says why; the
extractive answer then stands alone, as without a model. Logs carry counts, timings and
reasons, never the question's or the model's text.

`create_written_chain()` offers the same as a LangChain runnable over `NewsroomRetriever`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from typing import Any

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from core.chat_models import ChatModel, open_chat_model
from core.models import Answer, Passage, WrittenAnswer, WrittenSentence
from core.prompt import (
    PASSAGE_CHARS,
    build_messages,
    sources_from_documents,
    sources_from_passages,
)
from core.settings import Settings
from core.verify import Source, parse_written, refuses, verify

log = logging.getLogger(__name__)

OnSentence = Callable[[WrittenSentence], None]

TIMEOUT = "timeout"
MODEL_ERROR = "model error"
DECLINED = "declined"
UNSUPPORTED = "unsupported"
EMPTY = "empty"


class _TimedOut(Exception):
    pass


class Writer:
    """Writes verified answers with one chat model.

    Args:
        chat: The model and its label.
        timeout: Seconds for the whole written answer (first token to last sentence).
        passage_chars: Characters of each passage shown to the model.
    """

    def __init__(self, chat: ChatModel, timeout: float, passage_chars: int = PASSAGE_CHARS):
        self.chat = chat
        self.timeout = timeout
        self.passage_chars = passage_chars

    @classmethod
    def from_settings(cls, settings: Settings) -> Writer:
        """The writer ANSWER_MODEL configures (raises ConfigError when it cannot be set up)."""
        return cls(open_chat_model(settings), settings.answer_timeout)

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
            question: The person's question.
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
        text = ""
        checked = 0
        reasons = written.reasons

        def check(sentences: list[WrittenSentence]) -> None:
            for sentence in sentences:
                verdict = verify(sentence, sources)
                if verdict.reason is None:
                    written.sentences.append(sentence)
                    if on_sentence:
                        on_sentence(sentence)
                else:
                    written.removed += 1
                    reasons[verdict.reason] = reasons.get(verdict.reason, 0) + 1

        messages = build_messages(question, sources, earlier)
        try:
            for piece in self._stream(messages, started + self.timeout):
                if written.first_token_seconds is None and piece.strip():
                    written.first_token_seconds = time.monotonic() - started
                text += piece
                parsed = parse_written(text, finished=False)
                check(parsed.sentences[checked : parsed.complete])
                checked = max(checked, parsed.complete)
            parsed = parse_written(text, finished=True)
            check(parsed.sentences[checked : parsed.complete])
        except _TimedOut:
            written.problem = TIMEOUT
        except Exception as exc:  # any provider's failure: the extractive answer stands
            log.warning("the answer model failed: %s", type(exc).__name__)
            written.problem = MODEL_ERROR
        written.seconds = time.monotonic() - started
        if not written.sentences and written.problem is None:
            if refuses(text):
                written.problem = DECLINED
            else:
                written.problem = UNSUPPORTED if text.strip() else EMPTY
        _log(written)
        return written

    def _stream(self, messages: list[Any], deadline: float) -> Iterator[str]:
        """The model's text piece by piece; raises _TimedOut at the deadline.

        The model runs in its own thread so that a server that stops talking, or a local
        model that generates slowly, cannot hold the answer past the deadline.
        """
        pieces: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()

        def run() -> None:
            try:
                for chunk in self.chat.model.stream(messages):
                    if stop.is_set():
                        break
                    pieces.put(("text", chunk.text))
                pieces.put(("end", None))
            except Exception as exc:
                pieces.put(("error", exc))

        # Not a daemon: after a timeout it ends at the model's next piece of text, and a
        # process exiting under a local model's generation would be aborted by torch.
        threading.Thread(target=run, name="answer-model").start()
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _TimedOut
                try:
                    kind, value = pieces.get(timeout=left)
                except queue.Empty:
                    raise _TimedOut from None
                if kind == "end":
                    return
                if kind == "error":
                    raise value
                yield str(value)
        finally:
            stop.set()


def _log(written: WrittenAnswer) -> None:
    first = f"{written.first_token_seconds:.2f} s" if written.first_token_seconds else "none"
    why = ", ".join(f"{count} {reason}" for reason, count in sorted(written.reasons.items()))
    log.info(
        "written answer: %d sentences kept, %d removed%s; first token %s, total %.2f s%s",
        len(written.sentences),
        written.removed,
        f" ({why})" if why else "",
        first,
        written.seconds,
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
                                 Writer.from_settings(settings))
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
