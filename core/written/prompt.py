"""The prompt of a written answer: numbered passages with their bylines, then the question.

Passages are trimmed to the sentences nearest the question (a small model reads a short
prompt faster and strays less); the verifier checks against exactly the text shown here.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from core.answer.shown import byline, nearest_sentences
from core.language.lexical import tokenize
from core.models import Passage
from core.written.source import Source

PASSAGE_CHARS = 700

SYSTEM = (
    "You answer questions from numbered news passages. Answer in one to three short "
    "sentences, using the passages' own words. Begin every sentence with the number of the "
    "passage it comes from, in square brackets, like [1]. Use only names, numbers and dates "
    "that appear in that passage. If the passages do not answer the question, write "
    "exactly: The passages do not answer the question."
)
# One worked example: small models follow a shown format far better than a described one
# (SmolLM2-135M cited in 1 of 6 answers without it, 6 of 6 with it).
EXAMPLE_QUESTION = (
    "Passages:\n\n[1] “Storm closes port” — Harbor Gazette — 2 May 2021\n"
    "The port of Dover closed on Monday after a storm damaged two cranes.\n\n"
    "Question: Why did the port close?"
)
EXAMPLE_ANSWER = "[1] The port of Dover closed on Monday after a storm damaged two cranes."


def sources_from_passages(
    passages: Sequence[Passage], question: str, budget: int = PASSAGE_CHARS
) -> list[Source]:
    """Our passages, numbered from 1 in order, trimmed for the prompt."""
    return [
        Source(n, p.title, p.source, p.published_at, excerpt(p.text, question, budget))
        for n, p in enumerate(passages, 1)
    ]


def sources_from_documents(
    documents: Sequence[Document], question: str, budget: int = PASSAGE_CHARS
) -> list[Source]:
    """LangChain documents (e.g. from `NewsroomRetriever`), numbered from 1 in order."""
    return [
        Source(
            n,
            str(d.metadata.get("title") or ""),
            str(d.metadata.get("source") or ""),
            d.metadata.get("published_at"),
            excerpt(d.page_content, question, budget),
        )
        for n, d in enumerate(documents, 1)
    ]


def excerpt(text: str, question: str, budget: int = PASSAGE_CHARS) -> str:
    """The passage's sentences that share most words with the question, in their order,
    within `budget` characters (the whole text when it fits)."""
    return nearest_sentences(text, set(tokenize(question)), budget)


def build_messages(
    question: str, sources: Sequence[Source], earlier: str | None = None
) -> list[BaseMessage]:
    """The chat messages asking for a cited answer."""
    blocks = [f"[{s.number}] {_byline(s)}\n{s.text}" for s in sources]
    asked = f"Earlier question in this conversation: {earlier}\n" if earlier else ""
    prompt = "Passages:\n\n" + "\n\n".join(blocks) + f"\n\n{asked}Question: {question}"
    return [
        SystemMessage(SYSTEM),
        HumanMessage(EXAMPLE_QUESTION),
        AIMessage(EXAMPLE_ANSWER),
        HumanMessage(prompt),
    ]


def _byline(source: Source) -> str:
    title = f"“{source.title or 'Untitled'}”"
    return byline(title, source.outlet, source.shown_date, separator=" — ")
