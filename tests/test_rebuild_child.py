"""A new host builds its local index in a child process, so the bot keeps none of the
build's memory; the index it gets is the one an in-process build gives, and the child
neither outlives the bot nor logs otherwise. Real Chroma (embedded, or a `chroma run`
server), the real model."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from core.encode.embeddings import Embedder
from core.search.processes import relay
from core.search.rebuild import rebuild_aside
from core.search.replica_state import IndexUnwritableError
from core.search.replicator import LocalIndex
from core.settings import Settings
from core.store import open_store
from testing.chroma_server import ChromaServer
from testing.stores import ingest_paths

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
# A bot's new host as `core.search.archive` builds it: the bot's logging, the store (at a
# server's port, or 0: embedded), then the build.
BOT = """
import sys
from pathlib import Path
from bot.logs import configure_logging
from core.encode.embeddings import load_embedder
from core.search.processes import relay
from core.search.rebuild import rebuild_aside
from core.store import open_store
from testing.stores import make_settings

configure_logging("INFO")
tmp, port = Path(sys.argv[1]), int(sys.argv[2])
server = {"chroma_host": "127.0.0.1", "chroma_port": port} if port else {}
settings = make_settings(tmp, **server)
embedder = load_embedder()
store = open_store(settings.store, embedder.name, embedder.dim, create=False)
rebuild_aside(store, tmp / "index", None, embedder.dim, 0, child_from=1)
"""

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


@pytest.mark.integration
def test_a_child_build_logs_as_the_bot_does(tmp_path: Path, settings: Settings) -> None:
    """The child process that builds a new host's index writes its log lines in the bot's
    own format, as the bot's own lines."""
    corpus = tmp_path / "council.jsonl"
    corpus.write_text(json.dumps(ARTICLES[0]) + "\n", encoding="utf-8")
    ingest_paths(settings, corpus)
    bot = subprocess.run(
        [sys.executable, "-c", BOT, str(tmp_path), "0"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bot.returncode == 0, bot.stderr
    stamp = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO core\.search\.rebuild: "
    started = stamp + r"building the local index in a child process \(pid \d+\)$"
    assert re.search(started, bot.stderr, re.M), bot.stderr
    assert re.search(stamp + "local index built: 1 articles", bot.stderr, re.M)


def _builders(parent: int) -> list[int]:
    """The `core.search.rebuild` processes whose parent is `parent` (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rpartition(")")[2].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and b"core.search.rebuild" in command:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    """Whether the process is there and not a zombie (nobody may reap an orphan here)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _holds_socket(pid: int) -> bool:
    """Whether the process has opened a socket of its own (the child: to the store)."""
    try:
        return any(
            os.readlink(fd).startswith("socket:")
            for fd in Path(f"/proc/{pid}/fd").iterdir()
            if int(fd.name) > 2
        )
    except OSError:
        return False


def _wait_for(probe: Callable[[], T], seconds: float) -> T:
    """The first true value `probe` gives within `seconds` (else its last one)."""
    deadline = time.monotonic() + seconds
    while not (got := probe()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return got


@pytest.mark.integration
@pytest.mark.parametrize("when", ["starting", "reading the store"])
def test_a_child_build_ends_when_the_bot_is_killed(
    tmp_path: Path,
    chroma_server: ChromaServer,
    server_settings: Settings,
    when: str,
) -> None:
    """A bot killed (SIGKILL) during a new host's build leaves no process building its
    index: whether it died while the child was still starting, or while the child was
    reading the store. The store (a real `chroma run`) is stopped, so that the child's
    build lasts as long as a large archive's would."""
    corpus = tmp_path / "council.jsonl"
    corpus.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES[:3]), encoding="utf-8")
    ingest_paths(server_settings, corpus)
    bot = subprocess.Popen(
        [sys.executable, "-c", BOT, str(tmp_path), str(chroma_server.port)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert chroma_server.process is not None
    server, child = chroma_server.process.pid, []
    try:
        child = _wait_for(lambda: _builders(bot.pid), 120)
        assert child, "the bot started no child build"
        os.kill(server, signal.SIGSTOP)
        if when == "reading the store":
            assert _wait_for(lambda: _holds_socket(child[0]), 60)
        bot.kill()
        bot.wait()
        assert _wait_for(lambda: not _running(child[0]), 10), "the child build goes on"
    finally:
        os.kill(server, signal.SIGCONT)
        bot.kill()
        bot.wait()
        for pid in child:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    "line", ['{"log": 5}', '{"log": ["core", "loud", "x"]}', '{"log": ["core"]}', "[1, 2]", "oops"]
)
def test_a_line_the_child_did_not_write_as_a_log_record_is_skipped(
    line: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever else reaches the parent on the child's stdout (a library's print, a torn
    line) is neither logged nor taken for the build's result, and raises nothing."""
    assert relay(line) is None
    assert not caplog.records
    assert relay('{"count": 3}') == {"count": 3}
