"""Articles published before 1970 keep their dates in the date filters and the date range.

Real Chroma in a temp dir, the real model, the real local index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.encode.embeddings import Embedder
from core.models import StoredArticle
from core.search.query import parse_query
from core.settings import Settings
from core.store import open_store
from tests.helpers import ingest_paths, searcher_for

INGEST = str(Path(sys.executable).with_name("ingest"))
STORY = "The harbor board approved the ferry schedule after a long debate about fares. "
DATED = {
    "titanic": "1912-04-15",
    "moon": "1969-07-20",
    "last-second": "1969-12-31T23:59:59",  # epoch second -1: once the "undated" mark
    "epoch": "1970-01-01T00:00:00",  # epoch second 0
    "recent": "2021-03-02",
}


def _records(path: Path, ids: list[str], undated: bool = True) -> Path:
    rows = [{"id": i, "text": f"{STORY} Filed as {i}.", "published_at": DATED[i]} for i in ids]
    if undated:
        rows.append({"id": "undated", "text": f"{STORY} No date on this one."})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _ingest_process(settings: Settings, path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "INDEX_"))}
    env["CHROMA_PATH"] = str(settings.chroma_path)
    done = subprocess.run([INGEST, "--quiet", str(path)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _articles(settings: Settings, embedder: Embedder) -> list[StoredArticle]:
    store = open_store(settings.store, embedder.name, embedder.dim, create=False)
    try:
        return store.articles()
    finally:
        store.close()


def test_articles_before_1970_pass_the_date_filters(tmp_path: Path, settings: Settings) -> None:
    """`before:1970-01-01` used to find nothing, and an article of 1969-12-31T23:59:59 read
    as undated; the archive's date range started in 1970. Undated ones stay undated."""
    ingest_paths(settings, _records(tmp_path / "news.jsonl", list(DATED)))
    searcher = searcher_for(settings)
    try:

        def found(question: str) -> set[str]:
            return {p.doc_id for p in searcher.search(parse_query(question), k=10).passages}

        assert found("harbor ferry") == {*DATED, "undated"}
        assert found("harbor ferry before:1970-01-01") == {"titanic", "moon", "last-second"}
        assert found("harbor ferry since:1969-12-31 before:1970-01-02") == {
            "last-second",
            "epoch",
        }
        assert found("harbor ferry before:1913-01-01") == {"titanic"}
        assert found("harbor ferry since:1900-01-01") == set(DATED)
        summary = searcher.summary()
        assert (summary.oldest, summary.newest) == ("1912-04-15", "2021-03-02")
    finally:
        searcher.close()


def test_epoch_seconds_before_1970_are_read_as_dates(tmp_path: Path, settings: Settings) -> None:
    """A record dated in (negative) epoch seconds was stored undated; it is read as a date,
    as positive epoch seconds and milliseconds are."""
    path = tmp_path / "epoch.jsonl"
    rows = [
        {"id": "seconds", "text": STORY, "published_at": -868838400},
        {"id": "millis", "text": STORY + " Again.", "published_at": "-868838400000"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ingest_paths(settings, path)
    searcher = searcher_for(settings)
    try:
        found = searcher.search(parse_query("harbor ferry before:1942-06-22"), k=10).passages
        assert {p.doc_id for p in found} == {"seconds", "millis"}
        assert searcher.summary().oldest == "1942-06-21"
    finally:
        searcher.close()


@pytest.mark.integration
def test_articles_before_1970_pass_the_filters_on_chunks_newer_than_the_client(
    tmp_path: Path, settings: Settings
) -> None:
    """Articles committed after a reader opened its Chroma client are filtered from the
    local index's rows (another code path): pre-1970 ones pass there too, undated do not."""
    ingest_paths(settings, _records(tmp_path / "old.jsonl", ["recent"], undated=False))
    searcher = searcher_for(settings)
    try:
        archive = searcher.archive
        assert archive is not None
        _ingest_process(settings, _records(tmp_path / "new.jsonl", ["moon", "last-second"]))
        archive.sync()
        assert {row[1] for row in archive.delta.rows} == {"moon", "last-second", "undated"}

        def dense(question: str) -> set[str]:
            ranked = searcher.index.candidates(  # type: ignore[attr-defined]
                parse_query(question), searcher.embedder.encode_query(question), []
            )
            return set(ranked.lists["dense"])

        assert dense("ferry fares before:1970-01-01") == {"moon", "last-second"}
        assert dense("ferry fares since:1969-12-01") == {"last-second", "recent"}
    finally:
        searcher.close()


def test_an_index_from_before_the_change_is_rebuilt_and_undated_stays_undated(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """A local index written when "undated" was stored as -1 is rebuilt from the store once
    (no re-embedding: the store is untouched), so its undated articles stay undated."""
    ingest_paths(settings, _records(tmp_path / "news.jsonl", ["moon", "recent"]))
    searcher_for(settings).close()  # a reader builds this host's index
    [state_file] = (settings.chroma_path.parent / "index").glob("*/state.json")
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps(dict(state, schema=1)))
    vectors = {(a.doc_id, a.vectors, a.vectors_at) for a in _articles(settings, embedder)}
    searcher = searcher_for(settings)
    try:
        found = {p.doc_id for p in searcher.search(parse_query("ferry before:1970-01-01")).passages}
        assert found == {"moon"}
        assert json.loads(state_file.read_text())["schema"] != 1
    finally:
        searcher.close()
    assert {(a.doc_id, a.vectors, a.vectors_at) for a in _articles(settings, embedder)} == vectors
