"""The store's own dense search, which answers while a new host builds its local index."""

from __future__ import annotations

import json
from pathlib import Path

from ask.__main__ import render_nothing
from bot.render import nothing_found
from core.answer.compose import answer_question
from core.encode.embeddings import Embedder
from core.search.building import DenseIndex
from core.search.query import parse_query
from core.search.searcher import Searcher
from core.settings import Settings
from core.store import open_store
from tests.helpers import ingest_paths
from tests.test_search_index import FERRY, HARBOR, UNDATED


def test_hard_filters_hold_while_a_new_host_builds(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """While its index builds, a new host's answers still keep to `since:`, `before:` and
    `source:`, and quote whole live articles from the store."""
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (HARBOR, FERRY, UNDATED)))
    ingest_paths(settings, path)
    store = open_store(settings.store, embedder.name, embedder.dim, create=False)
    searcher = Searcher(DenseIndex(store), embedder)
    try:

        def found(question: str) -> set[str]:
            return {p.doc_id for p in searcher.search(parse_query(question), k=10).passages}

        assert found("harbor boats") == {"harbor-2021", "ferry-2023", "harbor-festival"}
        assert found("harbor boats since:2022-01-01") == {"ferry-2023"}
        assert found("harbor boats before:2022-01-01") == {"harbor-2021"}
        assert found("harbor boats source:courier") == {"harbor-2021", "harbor-festival"}
        ferry = searcher.search(parse_query("ferry fare north shore"), k=1).passages[0]
        assert ferry.doc_id == "ferry-2023" and "four dollars" in ferry.text
    finally:
        store.close()


def test_nothing_found_while_a_new_host_builds_counts_the_archive(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """While its index builds, a new host says how many articles it found nothing among,
    without a date range: that would read the whole archive's manifest per build."""
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (HARBOR, FERRY, UNDATED)))
    ingest_paths(settings, path)
    store = open_store(settings.store, embedder.name, embedder.dim, create=False)
    try:
        searcher = Searcher(DenseIndex(store), embedder)
        answer = answer_question("best sourdough pizza recipe for a home oven", searcher)
    finally:
        store.close()
    assert answer.lead is None and answer.summary is not None
    assert (answer.summary.articles, answer.summary.oldest, answer.summary.newest) == (
        3,
        None,
        None,
    )
    assert render_nothing(answer) == (
        "I found nothing relevant to that among 3 articles. "
        "Try other words, or add articles with `ingest PATH_OR_URL`."
    )
    assert nothing_found(answer.summary).startswith(
        "I found nothing relevant to that among 3 articles. Try other words"
    )
