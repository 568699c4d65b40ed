"""The local index and its freshness: restarts, per-commit updates, filters, stale readers.

Real Chroma in temp dirs, the real model, `ingest` as a separate process where a user
would run it so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.answer.compose import answer_question
from core.encode.embeddings import Embedder
from core.search.query import parse_query
from core.settings import Settings
from tests.conftest import SEED_DIR
from tests.helpers import ingest_paths, local_rows, searcher_for

INGEST = str(Path(sys.executable).with_name("ingest"))

HARBOR = {
    "id": "harbor-2021",
    "title": "Harbor dredging plan approved",
    "source": "Bay Courier",
    "url": "https://baycourier.example/harbor-dredging",
    "published_at": "2021-03-02",
    "text": "The port commission approved a plan to dredge the harbor channel so that larger "
    "container ships can dock. Work starts in the autumn and lasts two years.",
}
FERRY = {
    "id": "ferry-2023",
    "title": "New ferry line to the north shore opens",
    "source": "Harbor Times",
    "url": "https://harbortimes.example/north-shore-ferry",
    "published_at": "2023-06-10",
    "text": "A new ferry line from the harbor to the north shore opened on Saturday, with "
    "boats every forty minutes and a fare of four dollars.",
}
UNDATED = {
    "id": "harbor-festival",
    "title": "Harbor festival returns",
    "source": "Bay Courier",
    "text": "The harbor festival returns with boat parades, food stalls and fireworks over "
    "the water on the last weekend of the summer.",
}


def _write(path: Path, *records: dict) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _ingest_process(settings: Settings, path: Path, index: Path | None = None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "INDEX_"))}
    env["CHROMA_PATH"] = str(settings.chroma_path)
    if index is not None:
        env["INDEX_PATH"] = str(index)
    done = subprocess.run(
        [INGEST, "--quiet", str(path)], env=env, capture_output=True, text=True, cwd=path.parent
    )
    assert done.returncode == 0, done.stderr


def test_a_restart_opens_the_local_index_from_disk_without_rebuilding(
    tmp_path: Path, settings: Settings
) -> None:
    """The second reader finds this host's local index built and current: it indexes
    nothing, and answers at once."""
    ingest_paths(settings, SEED_DIR)
    first = searcher_for(settings)
    assert first.archive is not None and first.archive.local is not None
    epoch = first.archive.local.epoch
    first.close()
    second = searcher_for(settings)
    try:
        assert second.archive is not None and second.archive.local is not None
        assert not second.archive.local.fresh
        assert second.archive.local.epoch == epoch  # nothing was applied again
        assert answer_question("who was Cienfuegos?", second).found
    finally:
        second.close()


@pytest.mark.integration
def test_a_commit_indexes_only_the_articles_it_wrote(tmp_path: Path, settings: Settings) -> None:
    """`ingest` in another process adds an article: it updates this host's local index
    with that article's chunks only, and the running reader picks that up."""
    ingest_paths(settings, SEED_DIR)
    searcher = searcher_for(settings)
    try:
        archive = searcher.archive
        assert archive is not None and archive.local is not None
        before = archive.local.epoch
        _ingest_process(settings, _write(tmp_path / "one.jsonl", FERRY))
        archive.sync()
        assert archive.local.epoch == before + 1  # one update, by the writer
        added = archive.local.delta(before)
        assert {row.doc_id for row, *_ in added} == {"ferry-2023"}
        assert searcher.summary().articles == 2
    finally:
        searcher.close()


@pytest.mark.integration
def test_updates_and_deletes_reach_a_running_reader_within_seconds(
    tmp_path: Path, settings: Settings
) -> None:
    """A changed article replaces its old chunks in the local index, a deleted one leaves
    it, both within seconds of the `ingest` that did it, with the reader running."""
    ingest_paths(settings, SEED_DIR)
    _ingest_process(settings, _write(tmp_path / "a.jsonl", FERRY))
    searcher = searcher_for(settings)
    assert searcher.archive is not None
    searcher.archive.start(interval=0.3)
    try:
        changed = dict(FERRY, text=FERRY["text"].replace("four dollars", "six dollars"))
        _ingest_process(settings, _write(tmp_path / "b.jsonl", changed))
        deadline = time.monotonic() + 5
        while "six dollars" not in (answer_question("ferry fare north shore", searcher).lead or ""):
            assert time.monotonic() < deadline, "the update was not answerable within 5 s"
            time.sleep(0.2)
        rows = searcher.index.chunks(["ferry-2023"], [])  # type: ignore[attr-defined]
        assert all("four dollars" not in r.text for r in rows["ferry-2023"])

        env = {k: v for k, v in os.environ.items() if not k.startswith("CHROMA_")}
        done = subprocess.run(
            [INGEST, "--delete", "ferry-2023"],
            env=env | {"CHROMA_PATH": str(settings.chroma_path)},
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 5
        while searcher.summary().articles != 1:
            assert time.monotonic() < deadline, "the deletion did not reach the reader in 5 s"
            time.sleep(0.2)
        ranked = searcher.search(parse_query("ferry to the north shore"), k=5)
        assert all(p.doc_id != "ferry-2023" for p in ranked.passages)
    finally:
        searcher.close()


def test_hard_filters_hold_on_both_sides_of_the_search(tmp_path: Path, settings: Settings) -> None:
    """`since:`, `before:` and `source:` leave out every article outside them, whether it
    would come from the words or from the meaning; undated articles have no date to pass."""
    ingest_paths(settings, _write(tmp_path / "news.jsonl", HARBOR, FERRY, UNDATED))
    searcher = searcher_for(settings)
    try:

        def found(question: str) -> set[str]:
            return {p.doc_id for p in searcher.search(parse_query(question), k=10).passages}

        assert found("harbor boats") == {"harbor-2021", "ferry-2023", "harbor-festival"}
        assert found("harbor boats since:2022-01-01") == {"ferry-2023"}
        assert found("harbor boats before:2022-01-01") == {"harbor-2021"}
        assert found("harbor boats source:baycourier.example") == {"harbor-2021"}
        assert found("harbor boats source:courier") == {"harbor-2021", "harbor-festival"}
        # An outlet of several words, in straight quotes or Slack's curly ones.
        assert found('harbor boats source:"Harbor  Times"') == {"ferry-2023"}
        assert found("harbor boats source:“harbor times”?") == {"ferry-2023"}
        # No word in common with the ferry story: only the dense side can bring it.
        assert found("vessels crossing to the other coast since:2023-01-01") <= {"ferry-2023"}
    finally:
        searcher.close()


def test_the_summary_follows_articles_as_they_come_and_go(
    tmp_path: Path, settings: Settings
) -> None:
    """The "what the archive holds" line (dates and outlets) stays true as the newest article
    is updated and then deleted: the range shrinks to what is left, its outlet goes."""
    ingest_paths(settings, _write(tmp_path / "news.jsonl", HARBOR, FERRY, UNDATED))
    searcher = searcher_for(settings)
    try:
        archive = searcher.archive
        assert archive is not None and archive.store is not None
        summary = searcher.summary()
        assert (summary.oldest, summary.newest) == ("2021-03-02", "2023-06-10")
        assert summary.outlets == ["Bay Courier", "Harbor Times"]
        changed = dict(FERRY, text=FERRY["text"].replace("four dollars", "six dollars"))
        ingest_paths(settings, _write(tmp_path / "changed.jsonl", changed))
        archive.sync()
        summary = searcher.summary()
        assert (summary.oldest, summary.newest) == ("2021-03-02", "2023-06-10")
        assert summary.outlets == ["Bay Courier", "Harbor Times"]
        assert archive.store.delete_article("ferry-2023")
        archive.sync()
        summary = searcher.summary()
        assert (summary.articles, summary.oldest, summary.newest) == (2, "2021-03-02", "2021-03-02")
        assert summary.outlets == ["Bay Courier"]
    finally:
        searcher.close()


@pytest.mark.integration
def test_hard_filters_hold_on_chunks_newer_than_the_readers_client(
    tmp_path: Path, settings: Settings
) -> None:
    """Articles committed after the reader opened its Chroma client are searched exactly
    from the local index; `since:` and `source:` leave out those outside them there too."""
    ingest_paths(settings, _write(tmp_path / "old.jsonl", HARBOR))
    searcher = searcher_for(settings)
    try:
        archive = searcher.archive
        assert archive is not None
        _ingest_process(settings, _write(tmp_path / "new.jsonl", FERRY, UNDATED))
        archive.sync()
        assert {row[1] for row in archive.delta.rows} == {"ferry-2023", "harbor-festival"}

        def dense(question: str) -> set[str]:
            ranked = searcher.index.candidates(  # type: ignore[attr-defined]
                parse_query(question), searcher.embedder.encode_query(question), []
            )
            return set(ranked.lists["dense"])

        assert {"ferry-2023", "harbor-festival"} <= dense("boats on the water")
        assert dense("boats on the water since:2022-01-01") == {"ferry-2023"}
        assert dense("boats on the water source:courier") == {"harbor-2021", "harbor-festival"}
    finally:
        searcher.close()


@pytest.mark.integration
def test_an_embedded_reader_catches_up_with_a_writer_that_did_not_update_its_index(
    tmp_path: Path, settings: Settings
) -> None:
    """A writer elsewhere (its own index folder) commits; this reader's Chroma client
    predates the vectors, so after a grace period it reopens its client and indexes the
    article itself."""
    ingest_paths(settings, SEED_DIR)
    searcher = searcher_for(settings)
    try:
        archive = searcher.archive
        assert archive is not None and archive.store is not None
        archive.stale_grace = 0.5
        opened = archive.store.opened_at
        _ingest_process(settings, _write(tmp_path / "one.jsonl", FERRY), tmp_path / "elsewhere")
        deadline = time.monotonic() + 10
        while searcher.summary().articles < 2:
            assert time.monotonic() < deadline, "the reader did not catch up"
            archive.sync()
            time.sleep(0.3)
        assert archive.store.opened_at > opened  # it needed a new client for the vectors
        assert "four dollars" in (answer_question("ferry fare north shore", searcher).lead or "")
    finally:
        searcher.close()


def test_the_local_index_keeps_vectors_packed_and_close_to_the_stores(
    tmp_path: Path, settings: Settings
) -> None:
    """The replica stores each chunk's vector as int8 plus a scale (a quarter of float32's
    bytes), and what it reads back scores every chunk within 0.005 cosine of the vector
    Chroma holds, so an article's best chunk is the same one. Replicas written before
    packing (float32 bytes) still read exactly."""
    from core.search.tantivy_index import pack_vector, unpack_vector

    ingest_paths(settings, SEED_DIR)
    searcher = searcher_for(settings)
    try:
        archive = searcher.archive
        assert archive is not None and archive.local is not None and archive.store is not None
        local, store = archive.local, archive.store
        records = store.articles()
        stored = {c.id: c.embedding for c in store.chunks_of(records)}
        assert stored and all(v is not None for v in stored.values())
        rows = local_rows(searcher)
        assert {r.id for r in rows} == set(stored)
        query = searcher.embedder.encode_query("who was Cienfuegos?")
        for row in rows:
            exact = np.asarray(stored[row.id], dtype=np.float32)
            assert abs(float(row.vector @ query) - float(exact @ query)) < 0.005
        exact_sims = [float(np.asarray(stored[r.id]) @ query) for r in rows]
        packed_sims = [float(r.vector @ query) for r in rows]
        assert int(np.argmax(exact_sims)) == int(np.argmax(packed_sims))
        raw = local._chunks.searcher()  # what is on disk: dim + 4 bytes per vector
        hits = raw.search(local._t.Query.all_query(), len(rows)).hits
        assert {len(raw.doc(a)["vector"][0]) for _, a in hits} == {searcher.embedder.dim + 4}
        assert pack_vector(np.zeros(3)) and not unpack_vector(pack_vector(np.zeros(3)), 3).any()
        legacy = np.asarray(stored[rows[0].id], dtype=np.float32)
        assert np.array_equal(unpack_vector(legacy.tobytes(), legacy.size), legacy)
    finally:
        searcher.close()


def test_a_new_replica_looks_again_at_every_write_that_may_still_commit(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """The horizon a replica built from scratch re-reads the log from: back to the oldest
    record whose write could still commit (younger than SWEEP_AFTER_SECONDS), however many
    records came after it, and no further once the records are older than that. A replica
    built on a new host then ends caught up with the log. (That the build starts from the
    horizon is not observed here: every write has committed by then.)"""
    from core.store import SWEEP_AFTER_SECONDS, open_store

    ingest_paths(settings, SEED_DIR)
    for n in range(60):  # one log record each
        record = {**FERRY, "id": f"ferry-{n}", "text": f"{FERRY['text']} Boat number {n}."}
        ingest_paths(settings, _write(tmp_path / f"ferry-{n}.jsonl", record))
    store = open_store(settings.store, embedder.name, embedder.dim)
    try:
        head = store.head()
        assert head >= 61
        assert store.in_flight_since(head) == 0  # every record is young: all looked at
        later = time.time() + SWEEP_AFTER_SECONDS + 1
        assert head - 60 <= store.in_flight_since(head, now=later) < head
    finally:
        store.close()
    searcher = searcher_for(settings.model_copy(update={"index_path": tmp_path / "new-host"}))
    try:
        assert searcher.archive is not None and searcher.archive.local is not None
        assert searcher.archive.local.seq == head  # built, then caught up from the horizon
        assert searcher.summary().articles == 61
    finally:
        searcher.close()
