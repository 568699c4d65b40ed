"""Reliability of the store side: crashes mid-ingest, concurrent ingest, a server going away.

These run real `ingest` processes against real Chroma (embedded and `chroma run`).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.answer.compose import answer_question
from core.encode.embeddings import Embedder
from core.errors import StoreUnavailableError
from core.settings import Settings
from core.store import open_store
from tests.conftest import SEED_DIR, ChromaServer, make_settings
from tests.helpers import ingest_paths, searcher_for

INGEST = str(Path(sys.executable).with_name("ingest"))
TOPICS = ["harbor", "transit", "school", "library", "budget", "wildfire", "election", "bridge"]


def _synthetic_corpus(path: Path, count: int, seed: int = 7) -> None:
    """Short, distinct articles (one chunk each) so many commits happen quickly."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            topic = rng.choice(TOPICS)
            words = " ".join(rng.choice(TOPICS) for _ in range(40))
            text = (
                f"Article {i} reports on the {topic} board meeting in district {i}. "
                f"Residents discussed {words}. The vote is expected next week."
            )
            out.write(
                json.dumps({"id": f"syn-{i}", "title": f"{topic} report {i}", "text": text}) + "\n"
            )


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "SLACK_"))}
    if settings.server_mode:
        env.update(CHROMA_HOST=str(settings.chroma_host), CHROMA_PORT=str(settings.chroma_port))
    else:
        env["CHROMA_PATH"] = str(settings.chroma_path)
    return env


def _committed(settings: Settings, embedder: Embedder) -> int:
    try:
        return len(open_store(settings.store, embedder.name, embedder.dim, create=False).articles())
    except Exception:  # the writer may hold the store mid-write; ask again shortly
        return 0


def _assert_consistent(settings: Settings, embedder: Embedder) -> tuple[int, int]:
    """Every committed article has all its live chunks, and the lexical view agrees."""
    store = open_store(settings.store, embedder.name, embedder.dim, create=False)
    articles = {a.doc_id: a for a in store.articles()}
    live: dict[str, int] = {}
    for chunk in store.iter_chunks(include_documents=False):
        if articles.get(chunk.doc_id) and articles[chunk.doc_id].content_hash == chunk.content_hash:
            live[chunk.doc_id] = live.get(chunk.doc_id, 0) + 1
    for doc_id, article in articles.items():
        assert live.get(doc_id) == article.n_chunks, doc_id
    searcher = searcher_for(settings)  # the local index, caught up with the log
    try:
        summary = searcher.summary()
        indexed = searcher.index.chunks(list(articles), [])  # type: ignore[attr-defined]
    finally:
        searcher.close()
    assert summary.chunks == sum(a.n_chunks for a in articles.values())
    assert summary.articles == len(articles) == len(indexed)
    assert all(len(indexed[d]) == a.n_chunks for d, a in articles.items())
    return len(articles), summary.chunks


@pytest.mark.integration
@pytest.mark.timeout(900)  # three `ingest` processes and a store check
def test_kill_9_mid_ingest_leaves_a_consistent_store_and_a_rerun_finishes(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """SIGKILL during a long ingest: no half article visible; re-running completes, no dupes."""
    corpus = tmp_path / "corpus.jsonl"
    _synthetic_corpus(corpus, 320)
    process = subprocess.Popen(
        [INGEST, "--quiet", str(corpus)],
        env=_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 180
    while _committed(settings, embedder) < 20 and time.monotonic() < deadline:
        assert process.poll() is None, "ingest finished before it could be killed"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    articles, _ = _assert_consistent(settings, embedder)
    assert 20 <= articles < 320
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": "other", "text": "An unrelated note."}) + "\n")
    swept = subprocess.run(
        [INGEST, str(other)], env=_env(settings), capture_output=True, text=True, cwd=tmp_path
    )
    assert swept.returncode == 0, swept.stderr
    store = open_store(settings.store, embedder.name, embedder.dim, create=False)
    stored = sum(1 for _ in store.iter_chunks(include_documents=False))
    assert stored == articles + 1  # the killed run's uncommitted chunks were swept away
    store.close()
    rerun = subprocess.run(
        [INGEST, "--quiet", str(corpus)],
        env=_env(settings),
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{320 - articles} added, 0 updated, {articles} unchanged, 0 failed" in rerun.stdout
    store = open_store(settings.store, embedder.name, embedder.dim, create=False)
    assert _assert_consistent(settings, embedder) == (321, 321)
    assert sum(1 for _ in store.iter_chunks(include_documents=False)) == 321  # no orphans


def _ask_while_ingesting(settings: Settings, tmp_path: Path) -> None:
    ingest_paths(settings, SEED_DIR)
    searcher = searcher_for(settings)
    assert searcher.archive is not None
    searcher.archive.start(interval=0.5)
    errors: list[BaseException] = []
    answered = 0
    done = threading.Event()

    def keep_asking() -> None:
        nonlocal answered
        while not done.is_set():
            try:
                answer_question("who was Cienfuegos?", searcher)
                answered += 1
            except BaseException as exc:  # noqa: BLE001 - any error fails the test
                errors.append(exc)

    asker = threading.Thread(target=keep_asking)
    asker.start()
    corpus = tmp_path / "more.jsonl"
    _synthetic_corpus(corpus, 120)
    with corpus.open("a", encoding="utf-8") as out:
        out.write(
            json.dumps(
                {
                    "id": "zebra",
                    "title": "Zebra escapes from the city zoo",
                    "text": "A zebra named Marty escaped from the Central Park Zoo "
                    "on Monday and trotted down Fifth Avenue.",
                }
            )
            + "\n"
        )
    result = subprocess.run(
        [INGEST, "--quiet", str(corpus)],
        env=_env(settings),
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    finished = time.monotonic()
    assert result.returncode == 0, result.stderr
    found = None
    while time.monotonic() - finished < 10:
        answer = answer_question("Which zebra escaped from the zoo?", searcher)
        if answer.found and "Marty" in (answer.lead or ""):
            found = time.monotonic() - finished
            break
        time.sleep(0.2)
    done.set()
    asker.join()
    searcher.close()
    assert not errors, errors[:3]
    assert answered > 5
    assert found is not None, "the new article did not become answerable within 10 s"


@pytest.mark.integration
def test_ingest_in_another_process_while_answering_embedded(
    tmp_path: Path, settings: Settings
) -> None:
    """Embedded store: questions keep being answered, the new article shows up in seconds."""
    _ask_while_ingesting(settings, tmp_path)


def test_ingest_in_another_process_while_answering_server(
    tmp_path: Path, server_settings: Settings
) -> None:
    """Chroma server: the same, with ingest and the reader as two clients of one server."""
    _ask_while_ingesting(server_settings, tmp_path)


def test_a_request_the_chroma_server_refuses_is_not_reported_as_unreachable(
    server_settings: Settings,
) -> None:
    """The server is up but fails a request (its collections were deleted behind the
    bot's back): the error names the server's failure and its cause, instead of telling
    the operator to start a server that is running (even when the cause mentions
    "connect", as a collection named for Connecticut does)."""
    import chromadb

    settings = server_settings.model_copy(update={"collection": "connecticut-news"})
    ingest_paths(settings, SEED_DIR)
    searcher = searcher_for(settings)
    other = chromadb.HttpClient(host=settings.chroma_host or "localhost", port=settings.chroma_port)
    for collection in other.list_collections():
        other.delete_collection(collection if isinstance(collection, str) else collection.name)
    with pytest.raises(StoreUnavailableError, match="failed a request") as raised:
        searcher.archive.sync()  # type: ignore[union-attr]
    assert "Cannot reach" not in str(raised.value) and "does not exist" in str(raised.value)


@pytest.mark.integration
def test_a_stopped_chroma_server_is_reported_and_answers_resume(tmp_path: Path) -> None:
    """Server down: a StoreUnavailableError saying how to start it; back up: answers again."""
    server = ChromaServer(tmp_path / "srv")
    server.start()
    try:
        settings = make_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=server.port)
        ingest_paths(settings, SEED_DIR)
        searcher = searcher_for(settings)
        assert answer_question("who was Cienfuegos?", searcher).found
        server.stop()
        with pytest.raises(StoreUnavailableError, match="chroma run"):
            answer_question("who was Cienfuegos?", searcher)
        with pytest.raises(StoreUnavailableError):
            searcher.archive.sync()  # type: ignore[union-attr]
        server.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                assert answer_question("who was Cienfuegos?", searcher).found
                break
            except StoreUnavailableError:
                assert time.monotonic() < deadline, "answers did not resume"
                time.sleep(0.5)
    finally:
        server.stop()
