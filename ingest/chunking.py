"""Article -> Chunks: whole sentences packed up to a token budget, with a small overlap.

Every chunk fits the embedding model's window (all-MiniLM-L6-v2 reads 256 word pieces and
silently drops the rest), and keeps its character offsets into the article text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.errors import LoadError
from core.language.text import Span, split_sentences
from core.models import Article, Chunk

TARGET_TOKENS = 200
OVERLAP_TOKENS = 32
# A word piece this model reads is at most ~10 characters on average over any real
# sentence; a longer "word" (base64 data, a hex dump) is one unknown piece, however long
# it is. Sizes are counted as at least characters / this, so such text is cut too instead
# of making one chunk of 200 KB that `ask` and Slack would print whole.
MAX_CHARS_PER_TOKEN = 10
# The tokenizer keeps a few dozen bytes per character of what it is given: a 15 MB "word"
# took 1.4 GB. No sentence is this long; a longer one is cut by characters (at a space when
# there is one) before it is tokenized.
LONGEST_TOKENIZED = 100_000


@dataclass(frozen=True)
class Budget:
    """Token limits for one model: `hard` is what the model reads, `target` what we aim for."""

    hard: int
    target: int = TARGET_TOKENS
    overlap: int = OVERLAP_TOKENS


CountTokens = Callable[[list[str]], list[int]]
TokenOffsets = Callable[[str], list[tuple[int, int]]]


def split_article(
    article: Article,
    count_tokens: CountTokens,
    token_offsets: TokenOffsets,
    budget: Budget,
    max_chunks: int = 2000,
) -> list[Chunk]:
    """Split an article into chunks that each fit `budget.hard` word pieces.

    Args:
        article: The article; offsets refer to `article.text`.
        count_tokens: Word pieces per text, without special tokens.
        token_offsets: Character offsets of each word piece of a text.
        budget: Token limits.
        max_chunks: Refuse articles that would produce more chunks than this.

    Raises:
        LoadError: the article would produce more than `max_chunks` chunks.
    """
    text = article.text
    target = min(budget.target, budget.hard)
    # A chunk holds at most ~target * MAX_CHARS_PER_TOKEN characters (twice that is left
    # for the spaces between sentences): an article that must make too many chunks is
    # refused before any of it is tokenized.
    fewest = -(-len(text) // (2 * target * MAX_CHARS_PER_TOKEN))
    if fewest > max_chunks:
        raise LoadError(
            f"{article.doc_id}: {len(text):,} characters would make at least {fewest} chunks "
            f"(limit {max_chunks}); split the article, or raise MAX_CHUNKS_PER_ARTICLE"
        )
    spans = [
        piece
        for sentence in split_sentences(text)
        for piece in _cut_characters(text, sentence, LONGEST_TOKENIZED)
    ]
    sentences = _fit_sentences(text, spans, count_tokens, token_offsets, target)
    sizes = _sizes(sentences, count_tokens)
    groups = _pack(sizes, target, budget.overlap)
    if len(groups) > max_chunks:
        raise LoadError(
            f"{article.doc_id}: would make {len(groups)} chunks (limit {max_chunks}); "
            "split the article, or raise MAX_CHUNKS_PER_ARTICLE"
        )
    chunks = []
    for index, (first, last) in enumerate(groups):
        start, end = sentences[first].start, sentences[last].end
        chunks.append(Chunk(article.doc_id, index, start, end, text[start:end]))
    _check_limits(chunks, count_tokens, budget.hard)
    return chunks


def _fit_sentences(
    text: str,
    spans: list[Span],
    count_tokens: CountTokens,
    token_offsets: TokenOffsets,
    limit: int,
) -> list[Span]:
    """Cut any sentence longer than `limit` word pieces into windows at word-piece bounds,
    and any piece longer than `limit` * MAX_CHARS_PER_TOKEN characters by characters."""
    out: list[Span] = []
    for span, size in zip(spans, count_tokens([s.text for s in spans]), strict=True):
        if size <= limit:
            out.extend(_cut_characters(text, span, limit * MAX_CHARS_PER_TOKEN))
            continue
        offsets = token_offsets(span.text)
        for begin in range(0, len(offsets), limit):
            window = offsets[begin : begin + limit]
            start, end = span.start + window[0][0], span.start + window[-1][1]
            piece = Span(start, end, text[start:end])
            out.extend(_cut_characters(text, piece, limit * MAX_CHARS_PER_TOKEN))
    return out


def _cut_characters(text: str, span: Span, most: int) -> list[Span]:
    """The span in pieces of at most `most` characters, cut after a space when one is in
    the second half of a piece."""
    pieces, start = [], span.start
    while span.end - start > most:
        end = start + most
        space = text.rfind(" ", start + most // 2, end)
        end = space + 1 if space > 0 else end
        pieces.append(Span(start, end, text[start:end]))
        start = end
    pieces.append(Span(start, span.end, text[start : span.end]))
    return pieces


def _sizes(spans: list[Span], count_tokens: CountTokens) -> list[int]:
    """Each span's size for packing: its word pieces, or characters / MAX_CHARS_PER_TOKEN
    when that is more."""
    counted = count_tokens([s.text for s in spans])
    return [max(n, len(s.text) // MAX_CHARS_PER_TOKEN) for s, n in zip(spans, counted, strict=True)]


def _pack(sizes: list[int], target: int, overlap: int) -> list[tuple[int, int]]:
    """Greedy packing of sentence indexes into (first, last) groups under `target` tokens.

    A new group starts with the previous group's trailing sentences that fit in `overlap`.
    """
    groups: list[tuple[int, int]] = []
    first = 0
    n = len(sizes)
    while first < n:
        total, last = sizes[first], first
        while last + 1 < n and total + sizes[last + 1] + 1 <= target:
            last += 1
            total += sizes[last] + 1
        groups.append((first, last))
        if last + 1 >= n:
            break
        carry, back = 0, last + 1
        while back - 1 > first and carry + sizes[back - 1] <= overlap:
            back -= 1
            carry += sizes[back]
        first = back
    return groups


def _check_limits(chunks: list[Chunk], count_tokens: CountTokens, hard: int) -> None:
    """Word pieces do not add up exactly across joins: verify, never truncate silently."""
    for chunk, size in zip(chunks, count_tokens([c.text for c in chunks]), strict=True):
        if size > hard:  # pragma: no cover - the target leaves a wide margin
            raise LoadError(f"{chunk.doc_id}: chunk {chunk.index} has {size} word pieces")
