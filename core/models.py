"""Typed records that cross module boundaries: articles, chunks, passages, answers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Article:
    """One news article, extracted and cleaned, ready to be chunked.

    `published_at` is the date the outlet published it (ISO 8601), never the ingest time.
    """

    doc_id: str
    title: str
    text: str
    source: str = ""
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None
    url: str | None = None
    path: str | None = None
    modified_at: str | None = None  # when the outlet last changed it (ISO 8601), if it says

    # (the fields the digest was made of, the digest): hashed once, again only when one changed
    _hashed: tuple[tuple[Any, ...], str] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def content_hash(self) -> str:
        """A digest of everything stored about the article: unchanged hash, nothing to do.

        Computed once per article: ingest asks for it several times, and the text is the
        article. Fields stay assignable (`ingest follow` sets `modified_at` late), so the
        cached digest is kept only while the fields are the ones it was made of (a cheap
        comparison: the same string objects compare by identity).
        """
        key = (
            self.title,
            self.text,
            self.source,
            tuple(self.authors),
            self.published_at,
            self.url,
            self.path,
            self.modified_at,
        )
        if self._hashed is None or self._hashed[0] != key:
            self._hashed = (key, _digest(self))
        return self._hashed[1]


def _digest(article: Article) -> str:
    parts = [article.title, article.text, article.source, ";".join(article.authors)]
    parts += [article.published_at or "", article.url or "", article.path or ""]
    if article.modified_at:  # only when known, so articles stored before keep their hash
        parts.append(article.modified_at)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Chunk:
    """A piece of an article's text within the model's token limit, with its offsets."""

    doc_id: str
    index: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class StoredArticle:
    """An article as the store's manifest records it (no text)."""

    doc_id: str
    title: str
    source: str
    authors: str
    published_at: str | None
    url: str | None
    path: str | None
    content_hash: str
    n_chunks: int
    ingested_at: str
    # The identity of its chunks' vectors ("" in records written before it was recorded),
    # and when and by which process (`host:pid`) `ingest --reembed` gave them (else 0, "").
    vectors: str = ""
    vectors_at: float = 0.0
    vectors_by: str = ""
    modified_at: str | None = None  # when the outlet last changed it, if it said

    @property
    def link(self) -> str | None:
        """Where a reader can find it: the URL, else the file path."""
        return self.url or self.path

    @classmethod
    def of(cls, article: Article, n_chunks: int) -> StoredArticle:
        """The record of `article` as committed with `n_chunks` chunks, before the store
        stamps when it was ingested."""
        return cls(
            doc_id=article.doc_id,
            title=article.title,
            source=article.source,
            authors="; ".join(article.authors),
            published_at=article.published_at,
            url=article.url,
            path=article.path,
            content_hash=article.content_hash,
            n_chunks=n_chunks,
            ingested_at="",
            modified_at=article.modified_at,
        )


@dataclass
class Passage:
    """A quotable passage: one or more adjacent chunks of one article, with its source."""

    doc_id: str
    title: str
    source: str
    published_at: str | None
    url: str | None
    path: str | None
    chunk_index: int
    chunk_indices: list[int]
    text: str
    score: float
    similarity: float = 0.0
    start: int = 0
    end: int = 0
    modified_at: str | None = None  # when the outlet last changed the article, if it said
    content_hash: str = ""  # the article's version quoted (to tell when it is corrected)

    @property
    def link(self) -> str | None:
        """The URL, else the file path."""
        return self.url or self.path


@dataclass
class StoreSummary:
    """What the store holds, for honest "nothing found" replies and the bot's App Home.

    Attributes:
        outlets: Outlets by number of articles, most first.
        last_ingest: When the newest article was ingested (ISO 8601), if known.
    """

    articles: int
    chunks: int
    oldest: str | None
    newest: str | None
    outlets: list[str] = field(default_factory=list)
    last_ingest: str | None = None


@dataclass(frozen=True)
class WrittenSentence:
    """One sentence of a written answer that passed verification.

    Attributes:
        text: The sentence without its citation marks.
        citations: The passages it cites, numbered from 1 as given to the model
            (for an `Answer`, its `passages` in order).
    """

    text: str
    citations: tuple[int, ...]


@dataclass
class WrittenAnswer:
    """What a language model wrote from the passages, reduced to the sentences they support.

    Attributes:
        model: The model's name, for the "written by" label.
        sentences: The verified sentences, in the order written; empty when nothing is shown.
        removed: Sentences dropped as unsupported.
        reasons: How many were dropped for each reason (see `core.written.verify`).
        problem: Why the model's answer is not shown, or stopped early: "timeout",
            "model error", "declined" (the model said the passages do not answer),
            "unsupported" (no sentence passed) or "empty"; None when all went well.
        first_token_seconds: From the request to the model's first text.
        seconds: From the request to the last sentence checked.
    """

    model: str
    sentences: list[WrittenSentence] = field(default_factory=list)
    removed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    problem: str | None = None
    first_token_seconds: float | None = None
    seconds: float = 0.0

    @property
    def shown(self) -> bool:
        """True when at least one sentence survived verification."""
        return bool(self.sentences)

    @property
    def text(self) -> str:
        """The kept sentences with their [n] citations, as plain text."""
        return " ".join(
            f"{s.text} {''.join(f'[{n}]' for n in s.citations)}" for s in self.sentences
        )


@dataclass
class Answer:
    """What the bot and the CLI render.

    Attributes:
        question: The question as searched (possibly cut to the length cap).
        lead: The sentence that best answers the question, quoted from `lead_passage`;
            None when nothing relevant is stored.
        passages: Best first, at most a handful, for people.
        considered: Every passage ranked (for `--json` and evaluations), best first.
        notes: Short remarks for the reader (question shortened, filters applied).
        summary: What the archive holds, for "nothing found" replies.
        lead_answer: Where the answer sits in `lead` (character offsets, end exclusive),
            when the lead ranker is confident of it; None otherwise.
        written: What a language model wrote from `passages`, when one is configured.
        query_terms: The question's index terms (`core.language.lexical.tokenize`), as the
            search used them, so that a surface highlights them without deriving them
            again; None for an answer built by hand.
    """

    question: str
    lead: str | None
    lead_passage: Passage | None
    passages: list[Passage]
    considered: list[Passage]
    notes: list[str] = field(default_factory=list)
    summary: StoreSummary | None = None
    lead_answer: tuple[int, int] | None = None
    written: WrittenAnswer | None = None
    query_terms: tuple[str, ...] | None = None

    @property
    def found(self) -> bool:
        """True when the answer quotes something relevant."""
        return self.lead is not None
