"""Chunking keeps every chunk inside the model's window, with exact offsets and overlap."""

from __future__ import annotations

import time

import pytest

from core.encode.embeddings import Embedder
from core.errors import LoadError
from core.language.text import split_sentences
from core.models import Article
from ingest.chunking import Budget, split_article
from tests.conftest import SEED_DIR


def _split(embedder: Embedder, text: str, **budget: int) -> list:
    article = Article(doc_id="a", title="t", text=text)
    return split_article(
        article,
        embedder.count_tokens,
        embedder.token_offsets,
        Budget(hard=embedder.content_tokens, **budget),
    )


def test_seed_chunks_fit_the_model_window_and_point_into_the_text(embedder: Embedder) -> None:
    """No chunk is ever silently truncated by the model, and offsets slice the article."""
    text = (SEED_DIR / "us-mexico-security.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    chunks = _split(embedder, text)
    assert len(chunks) > 3
    sizes = embedder.count_tokens([c.text for c in chunks])
    assert max(sizes) <= embedder.content_tokens == 254
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[-1].end == len(text.rstrip())


def test_consecutive_chunks_overlap_by_a_sentence(embedder: Embedder) -> None:
    """A fact cut at a chunk boundary still appears whole in one chunk."""
    text = " ".join(f"Sentence number {i} tells a short fact about topic {i}." for i in range(80))
    chunks = _split(embedder, text)
    assert len(chunks) > 2
    for left, right in zip(chunks, chunks[1:], strict=False):
        assert right.start < left.end  # overlap
        assert right.start > left.start  # progress


def test_a_long_run_of_characters_the_model_reads_as_one_piece_is_cut_too(
    embedder: Embedder,
) -> None:
    """200 KB of hex (or base64) is one unknown word piece to the model: it used to make a
    single 200 KB chunk, printed whole by `ask`. It is cut into chunks of ~2,000
    characters, every character still in some chunk."""
    blob = "".join(f"{i:08x}" for i in range(25_000))
    before = "The council approved the budget on Tuesday. "
    text = before + blob + " The vote was seven to two."
    chunks = _split(embedder, text)
    assert max(len(c.text) for c in chunks) <= 2_000
    assert chunks[0].text.startswith(before.strip()) and chunks[-1].text.endswith("to two.")
    covered = {i for c in chunks for i in range(c.start, c.end)}
    assert covered >= {i for i, ch in enumerate(text) if not ch.isspace()}
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text


def test_a_sentence_longer_than_the_window_is_cut_not_truncated(embedder: Embedder) -> None:
    """A 2,000-word run-on sentence becomes several chunks, each within the window."""
    text = "word " * 2000 + "end."
    chunks = _split(embedder, text)
    sizes = embedder.count_tokens([c.text for c in chunks])
    assert len(chunks) >= 8
    assert max(sizes) <= embedder.content_tokens
    covered = "".join(text[c.start : c.end] for c in chunks)
    assert covered.count("word") >= 2000


def test_an_article_that_would_make_too_many_chunks_is_refused(embedder: Embedder) -> None:
    """A runaway article gets a clear error instead of thousands of chunks."""
    text = "A fact about the city council vote. " * 3000
    article = Article(doc_id="huge", title="t", text=text)
    with pytest.raises(LoadError, match="MAX_CHUNKS_PER_ARTICLE"):
        split_article(
            article,
            embedder.count_tokens,
            embedder.token_offsets,
            Budget(hard=embedder.content_tokens),
            max_chunks=50,
        )


@pytest.mark.parametrize(
    "text",
    [
        "." * 40_000,
        "!?" * 20_000,
        "The vote was close" + "." * 40_000 + " Then the board adjourned.",
        "Wait" + "?" * 20_000 + ")" * 20_000 + "   x",
    ],
    ids=["dots", "marks", "dots-in-a-sentence", "marks-then-closers"],
)
def test_sentence_splitting_takes_linear_time_on_runs_of_terminators(text: str) -> None:
    """A page of dots is split in milliseconds (it took 8.7 s for 16k dots, O(n²))."""
    started = time.process_time()
    spans = split_sentences(text)
    assert time.process_time() - started < 1.0
    assert spans and all(text[s.start : s.end] == s.text for s in spans)


def test_sentences_still_end_where_they_did() -> None:
    """The linear splitter keeps the boundaries: terminators, closing quotes, abbreviations."""
    text = 'He left. "Why?!" she asked. Dr. Lee agreed... The U.S. team won (again.) Next.\n\nEnd'
    assert [s.text for s in split_sentences(text)] == [
        "He left.",
        '"Why?!" she asked.',
        "Dr. Lee agreed...",
        "The U.S. team won (again.)",
        "Next.",
        "End",
    ]
