"""The store contract, run against real embedded Chroma and the in-memory store alike.

Every test here takes `opener`, parametrized over both stores: the in-memory store cannot
drift from what Chroma does without a test here failing. Vectors are small and made by
hand (no model), so the whole file runs in seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.errors import ModelMismatchError
from core.models import Article, Chunk
from core.sections import StoreSettings
from core.store import (
    SWEEP_AFTER_SECONDS,
    ArchiveStore,
    Version,
    chunk_ids,
    open_store,
    to_timestamp,
)
from core.store.memory import MemoryArchive

DIM = 8
MODEL = "test-model"
Opener = Callable[..., ArchiveStore]


@pytest.fixture(params=["chroma", "memory"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens a store over one location: `opener(model=..., create=..., check_model=...)`."""
    settings = StoreSettings(chroma_path=tmp_path / "chroma", collection="contract")
    archive = MemoryArchive()

    def open_(model: str = MODEL, create: bool = True, check_model: bool = True) -> ArchiveStore:
        if request.param == "chroma":
            return open_store(settings, model, DIM, create=create, check_model=check_model)
        return archive.open(settings, model, DIM, create=create, check_model=check_model)

    return open_


def _unit(*weights: float) -> np.ndarray:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[: len(weights)] = weights
    return vector / np.linalg.norm(vector)


def _article(doc_id: str, text: str, **fields: object) -> Article:
    return Article(doc_id, f"Title of {doc_id}", text, **fields)  # type: ignore[arg-type]


def _entry(article: Article, *vectors: np.ndarray) -> tuple[Article, list[Chunk], np.ndarray]:
    """An article cut into as many chunks as vectors given (equal parts of its text)."""
    size = len(article.text) // len(vectors)
    chunks = [
        Chunk(article.doc_id, i, i * size, (i + 1) * size, article.text[i * size : (i + 1) * size])
        for i in range(len(vectors))
    ]
    return article, chunks, np.stack(vectors)


def _budget() -> Article:
    return _article(
        "budget",
        "The council passed the budget. Bus fares stay the same next year.",
        source="City Paper",
        authors=["A. Writer", "B. Writer"],
        published_at="2024-03-05",
        url="https://example.com/budget",
    )


def test_a_reader_finds_nothing_until_a_writer_creates_the_collection(opener: Opener) -> None:
    """A bot started before the first ingest says the archive is empty, then sees it fill."""
    reader = opener(create=False)
    assert not reader.exists and reader.collection_id == ""
    assert reader.head() == 0 and reader.changes(0) == [] and reader.record(1) is None
    assert reader.articles() == [] and reader.article_count() == 0
    assert reader.manifest(["budget"]) == {} and reader.find_article("budget") is None
    assert reader.nearest(_unit(1), 5) == [] and list(reader.iter_chunks()) == []
    assert reader.summary().articles == 0 and reader.summary().chunks == 0
    assert reader.sweep() == 0
    writer = opener()
    writer.write_articles([_entry(_budget(), _unit(1), _unit(0, 1))])
    assert reader.exists and reader.collection_id == writer.collection_id != ""
    assert [a.doc_id for a in reader.articles()] == ["budget"]


def test_a_written_article_reads_back_as_typed_records(opener: Opener) -> None:
    """What ingest stored is what listings, sources and quotes show."""
    store = opener()
    article = _budget()
    seq = store.write_articles([_entry(article, _unit(1), _unit(0, 1))])
    assert seq == 1 == store.head()
    record = store.manifest(["budget", "missing"])["budget"]
    assert (record.title, record.source, record.authors) == (
        "Title of budget",
        "City Paper",
        "A. Writer; B. Writer",
    )
    assert (record.published_at, record.url, record.path, record.modified_at) == (
        "2024-03-05",
        "https://example.com/budget",
        None,
        None,
    )
    assert (record.content_hash, record.n_chunks, record.vectors) == (
        article.content_hash,
        2,
        MODEL,
    )
    assert record.ingested_at and record.vectors_at == 0.0 and record.vectors_by == ""
    hits = sorted(store.chunks_of([record]), key=lambda h: h.index)
    assert [h.id for h in hits] == chunk_ids("budget", Version(article.content_hash, 2))
    assert "".join(h.text for h in hits) == article.text[: hits[-1].end]
    assert [(h.doc_id, h.content_hash, h.start) for h in hits] == [
        ("budget", article.content_hash, 0),
        ("budget", article.content_hash, hits[0].end),
    ]
    assert hits[0].embedding is not None and np.allclose(hits[0].embedding, _unit(1))
    every = list(store.iter_chunks(include_documents=False))
    assert {h.id for h in every} == {h.id for h in hits}
    assert all(h.text == "" and h.embedding is None for h in every)
    with_vectors = list(store.iter_chunks(include_embeddings=True))
    assert all(h.embedding is not None and h.text for h in with_vectors)
    assert store.article_count() == 1
    summary = store.summary()
    assert (summary.articles, summary.chunks, summary.oldest, summary.newest) == (
        1,
        2,
        "2024-03-05",
        "2024-03-05",
    )


def test_the_log_names_each_write_and_what_it_replaced(opener: Opener) -> None:
    """A reader following the log learns of every new, changed and deleted article."""
    store = opener()
    first = _budget()
    store.write_articles([_entry(first, _unit(1), _unit(0, 1))])
    corrected = _article("budget", "The council passed the budget. Fares rise.")
    previous = store.manifest(["budget"])
    assert store.write_articles([_entry(corrected, _unit(1))], previous) == 2
    assert store.delete_article("budget") and not store.delete_article("budget")
    changes = store.changes(0)
    assert [c.seq for c in changes] == [1, 2, 3] and store.head() == 3
    old, new = Version(first.content_hash, 2), Version(corrected.content_hash, 1)
    assert [(c.target, c.replaced) for c in changes] == [
        ({"budget": old}, {"budget": None}),
        ({"budget": new}, {"budget": old}),
        ({"budget": None}, {"budget": new}),
    ]
    assert all(c.writer and c.mark and not c.unreadable for c in changes)
    assert all(abs(c.at - time.time()) < 60 for c in changes)
    assert len({c.mark for c in changes}) == 3
    assert store.changes(1, 1) == [changes[1]] and store.record(3) == changes[2]
    assert store.record(4) is None and store.changes(3) == []
    assert store.in_flight_since(3) == 0


def test_a_changed_article_replaces_its_chunks_and_a_deleted_one_leaves_none(
    opener: Opener,
) -> None:
    """A correction is quoted as corrected; a deleted article is never quoted again."""
    store = opener()
    store.write_articles([_entry(_budget(), _unit(1), _unit(0, 1), _unit(0, 0, 1))])
    corrected = _article("budget", "The budget passed; fares rise.", url="https://x.org/b")
    store.write_articles([_entry(corrected, _unit(1))], store.manifest(["budget"]))
    assert {h.content_hash for h in store.iter_chunks()} == {corrected.content_hash}
    assert store.summary().chunks == 1 and store.article_count() == 1
    assert store.manifest(["budget"])["budget"].url == "https://x.org/b"
    other = _article("other", "Another story about ferries and timetables.")
    store.write_articles([_entry(other, _unit(0, 0, 0, 1))])
    assert store.delete_article("budget")
    assert [a.doc_id for a in store.articles()] == ["other"]
    assert {h.doc_id for h in store.iter_chunks()} == {"other"}
    assert store.sweep() == 0  # nothing was left behind


def test_the_sweep_removes_what_a_raced_write_left_behind(opener: Opener) -> None:
    """Two writers that both missed the other's version leave no chunk quoted twice."""
    store = opener()
    store.write_articles([_entry(_budget(), _unit(1), _unit(0, 1))])
    again = _article("budget", "A rewritten budget story, shorter.")
    store.write_articles([_entry(again, _unit(1))], previous={})  # did not see the first
    assert store.summary().chunks == 3  # the first version's two chunks are orphans
    assert store.sweep() == 2
    assert {h.content_hash for h in store.iter_chunks()} == {again.content_hash}
    assert store.sweep() == 0


def test_nearest_returns_the_closest_chunks_with_what_the_filters_read(opener: Opener) -> None:
    """A question finds the passage closest in meaning, and the date and outlet filters
    can tell where each one comes from."""
    store = opener()
    budget = _budget()
    undated = _article("ferry", "Ferry timetables change in June for the islands.")
    store.write_articles(
        [_entry(budget, _unit(1), _unit(0, 1)), _entry(undated, _unit(0, 0, 1), _unit(1, 1))]
    )
    hits = store.nearest(_unit(1, 0.1), 3)
    assert [h.doc_id for h in hits] == ["budget", "ferry", "budget"]
    assert hits[0].similarity == pytest.approx(float(_unit(1) @ _unit(1, 0.1)), abs=1e-4)
    assert hits[0].similarity > hits[1].similarity > hits[2].similarity
    assert (hits[0].published_ts, hits[0].source, hits[0].url, hits[0].content_hash) == (
        to_timestamp("2024-03-05"),
        "City Paper",
        "https://example.com/budget",
        budget.content_hash,
    )
    assert (hits[1].published_ts, hits[1].source, hits[1].url) == (None, "", None)
    assert len(store.nearest(_unit(1), 10)) == 4 and store.nearest(_unit(1), 0) == []


def test_find_article_by_id_url_or_path(opener: Opener) -> None:
    """`ingest --delete` finds an article by whatever the user has at hand."""
    store = opener()
    on_disk = _article("file-1", "A story kept as a file on disk.", path="/archive/story.txt")
    store.write_articles([_entry(_budget(), _unit(1)), _entry(on_disk, _unit(0, 1))])
    found = [
        store.find_article(key)
        for key in ("budget", "https://example.com/budget", "/archive/story.txt")
    ]
    assert [a.doc_id if a else None for a in found] == ["budget", "budget", "file-1"]
    assert store.find_article("nothing", "https://nowhere.example") is None
    assert store.find_article("nothing", "file-1").doc_id == "file-1"  # type: ignore[union-attr]


def test_a_store_built_with_another_model_is_refused(opener: Opener) -> None:
    """Mixing two models' vectors in one collection would rank nonsense: refused, with a
    message that says what to do."""
    opener().write_articles([_entry(_budget(), _unit(1))])
    with pytest.raises(ModelMismatchError, match="holds vectors of 'test-model'"):
        opener(model="another-model")
    with pytest.raises(ModelMismatchError):
        opener(model="another-model", create=False)
    writer = opener()
    other = opener(model="another-model", check_model=False)
    assert other.recorded_model() == MODEL
    other.record_model("another-model")  # a re-embedding begins
    assert writer.recorded_model() == "another-model"
    with pytest.raises(ModelMismatchError):  # the old writer no longer writes
        writer.write_articles([_entry(_article("late", "A late story."), _unit(1))])
    assert opener(create=False, check_model=False).article_count() == 1


def test_new_vectors_replace_the_old_in_place_and_are_logged(opener: Opener) -> None:
    """After `ingest --reembed` every chunk has the new model's vector, and readers hear of it."""
    store = opener()
    store.write_articles([_entry(_budget(), _unit(1), _unit(0, 1))])
    record = store.manifest(["budget"])["budget"]
    ids = [h.id for h in sorted(store.chunks_of([record]), key=lambda h: h.index)]
    new = np.stack([_unit(0, 0, 1), _unit(0, 0, 0, 1)])
    assert store.replace_vectors([(record, ids, new)], "new-model") == 3
    after = store.manifest(["budget"])["budget"]
    assert after.vectors == "new-model" and after.vectors_at > 0 and after.vectors_by
    assert after.content_hash == record.content_hash and after.title == record.title
    hits = sorted(store.chunks_of([after]), key=lambda h: h.index)
    assert [h.text for h in hits] == [h.text for h in store.chunks_of([record])]
    assert all(np.allclose(h.embedding, v) for h, v in zip(hits, new, strict=True))  # type: ignore[arg-type]
    version = Version(record.content_hash, 2)
    assert [c.target for c in store.changes(1)] == [{"budget": version}] * 2
    assert store.sees_vectors(after)
    assert store.sweep() == 0 and store.summary().chunks == 2


def test_the_sweep_follows_the_log_and_waits_for_writes_that_may_still_commit(
    opener: Opener,
) -> None:
    """A write still in progress keeps its chunks; one abandoned long ago is cleaned up."""
    store = opener()
    assert store.sweep() == 0  # the first sweep of a collection: from here on, by the log
    store.write_articles([_entry(_budget(), _unit(1), _unit(0, 1))])
    again = _article("budget", "A rewritten budget story, shorter.")
    store.write_articles([_entry(again, _unit(1))], previous={})  # did not see the first
    assert store.sweep() == 0  # the first write's process (this one) is alive and recent
    assert store.summary().chunks == 3
    assert store.sweep(now=time.time() + SWEEP_AFTER_SECONDS + 1) == 2
    assert {h.content_hash for h in store.iter_chunks()} == {again.content_hash}
