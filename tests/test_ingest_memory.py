"""The write side of ingest, fast: the real pipeline and model into the in-memory store
(`core.store.memory`, held to Chroma's behaviour by `tests/test_store_contract.py`)."""

from __future__ import annotations

from pathlib import Path

from core.answer.compose import answer_question
from core.encode.embeddings import Embedder
from core.search.archive import LiveArchive
from core.search.hybrid import HybridIndex
from core.search.searcher import Searcher
from core.settings import Settings
from core.store import ArchiveStore, Version
from core.store.memory import MemoryArchive
from ingest.pipeline import Ingestor, Report
from ingest.sources import expand
from tests.conftest import SEED_DIR

STORY = "The harbour authority approved the new ferry timetable after a long debate. " * 30


def _ingest(store: ArchiveStore, embedder: Embedder, settings: Settings, *paths: Path) -> Report:
    return Ingestor(store, embedder).run(expand([str(p) for p in paths], settings))


def test_a_second_run_over_the_same_files_writes_nothing(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """Re-ingesting a folder reports every article unchanged and gives readers no work."""
    for n in range(3):
        (tmp_path / f"story{n}.txt").write_text(f"Story {n}\n\n{n} {STORY}", encoding="utf-8")
    store = MemoryArchive().open(settings.store, embedder.name, embedder.dim)
    first = _ingest(store, embedder, settings, tmp_path)
    assert (first.added, first.updated, first.unchanged, first.failed) == (3, 0, 0, [])
    head, chunks = store.head(), store.summary().chunks
    again = _ingest(store, embedder, settings, tmp_path)
    assert (again.added, again.unchanged, again.chunks) == (0, 3, 0)
    assert store.head() == head and store.summary().chunks == chunks


def test_a_corrected_file_replaces_the_article_and_all_its_old_chunks(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """After a correction is ingested, no passage of the old version can be quoted."""
    story = tmp_path / "story.txt"
    story.write_text(f"Ferry timetable\n\n{STORY * 4}", encoding="utf-8")
    store = MemoryArchive().open(settings.store, embedder.name, embedder.dim)
    _ingest(store, embedder, settings, story)
    (old,) = store.articles()
    story.write_text(f"Ferry timetable (corrected)\n\n{STORY}", encoding="utf-8")
    report = _ingest(store, embedder, settings, story)
    assert report.updated == 1
    (new,) = store.articles()
    assert new.doc_id == old.doc_id and new.content_hash != old.content_hash
    assert {c.content_hash for c in store.iter_chunks()} == {new.content_hash}
    assert len(list(store.iter_chunks())) == new.n_chunks < old.n_chunks
    last = store.changes(0)[-1]  # what every reader's local index applies
    assert last.target == {new.doc_id: Version(new.content_hash, new.n_chunks)}
    assert last.replaced == {old.doc_id: Version(old.content_hash, old.n_chunks)}
    hits = store.nearest(store.chunks_of([new])[0].embedding, 1)  # type: ignore[arg-type]
    assert hits[0].doc_id == new.doc_id and hits[0].similarity > 0.99


def test_a_question_is_answered_from_the_memory_store(
    settings: Settings, embedder: Embedder
) -> None:
    """The answer path reads the in-memory store as it reads Chroma: the local index
    follows its change log, and the nearest chunks come from it."""
    store = MemoryArchive().open(settings.store, embedder.name, embedder.dim)
    assert _ingest(store, embedder, settings, SEED_DIR).added == 1
    archive = LiveArchive(settings.store, settings.index, embedder.name, embedder.dim, store=store)
    archive.sync()
    searcher = Searcher(HybridIndex(archive), embedder, archive=archive)
    try:
        answer = answer_question("Who was Cienfuegos?", searcher)
    finally:
        searcher.close()
    assert answer.found and answer.lead_passage is not None
    assert "Cienfuegos" in answer.lead and answer.lead_passage.content_hash  # type: ignore[operator]
    assert archive.local is not None and archive.local.seq == store.head()
