"""A new host builds its local index in a child process, so the bot keeps none of the
build's memory; the index it gets is the one an in-process build gives. Real Chroma
(embedded), the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.encode.embeddings import Embedder
from core.search.rebuild import rebuild_aside
from core.search.replica_state import IndexUnwritableError
from core.search.replicator import LocalIndex
from core.settings import Settings
from core.store import open_store
from testing.stores import ingest_paths

ARTICLES = [
    {
        "id": f"council-{i}",
        "title": f"Council meeting number {i}",
        "source": "Town Crier" if i % 2 else "Bay Courier",
        "published_at": f"2026-0{1 + i % 9}-1{i % 10}",
        "text": f"The council met for session number {i} and voted on item alpha{i} about "
        "the parking rules near the old market hall. " * (1 + i % 3),
    }
    for i in range(12)
]


def _held(local: LocalIndex, doc_ids: list[str]) -> tuple:
    """Everything a question reads from the index: records, chunks (texts, offsets,
    vectors), counts and the summary."""
    records = local.articles(doc_ids)
    chunks = {
        d: [(r.id, r.index, r.start, r.end, r.text, r.lexical, r.vector.tolist()) for r in rows]
        for d, rows in local.chunks(doc_ids, ["council", "alpha3"]).items()
    }
    return records, chunks, local.counts(), local.summary()


@pytest.mark.integration
def test_a_build_in_a_child_process_gives_the_same_index(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """A new host whose index is built by a child process answers from the very same
    articles, chunks and vectors as one built in the bot's own process."""
    corpus = tmp_path / "council.jsonl"
    corpus.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    ingest_paths(settings, corpus)
    store = open_store(settings.store, embedder.name, embedder.dim, create=False)
    try:
        child = rebuild_aside(store, tmp_path / "child", None, embedder.dim, 0, child_from=1)
        here = rebuild_aside(store, tmp_path / "here", None, embedder.dim, 0, child_from=10**9)
        ids = [a["id"] for a in ARTICLES]
        assert child.counts()[1] == len(ARTICLES)
        assert _held(child, ids) == _held(here, ids)
        assert child.state.build != here.state.build
    finally:
        store.close()


@pytest.mark.integration
def test_a_child_build_that_cannot_write_says_so(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """A build by a child process into a folder that cannot be written ends in the same
    one-line error as one in the bot's own process."""
    corpus = tmp_path / "council.jsonl"
    corpus.write_text(json.dumps(ARTICLES[0]) + "\n", encoding="utf-8")
    ingest_paths(settings, corpus)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    store = open_store(settings.store, embedder.name, embedder.dim, create=False)
    try:
        with pytest.raises(IndexUnwritableError, match="cannot be written"):
            rebuild_aside(store, blocked / "index", None, embedder.dim, 0, child_from=1)
    finally:
        store.close()
