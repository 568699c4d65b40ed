"""A new host against a restarted one: the bot's own memory after it built its local index.

    .venv/bin/python -m bench.new_host_memory --store /tmp/scale/store/chroma \
        --questions ../shared/eval/realtimeqa.questions.jsonl [--server] [--asks 10]
    .venv/bin/python -m bench.new_host_memory --store /tmp/scale/store/chroma --grow 100000 \
        --corpus ../shared/eval/realtimeqa.corpus.jsonl --questions ...

A bounded run, not a test. On one store (any embedded Chroma folder, or one grown in place
with bench.scale's synthetic archive when `--grow` is given), a reader process opens the
archive exactly as the bot does (`bench.scale_reader`: warm, then sync every second):

- a **new host**: an empty `INDEX_PATH`, so the reader builds its local index at start;
- a **restarted host**: a second reader on the index the first one built.

Each answers `--asks` questions, then reports its own memory (RssAnon: heap, model,
caches), VmRSS (also the mapped index files) and its peak (VmHWM). With `--server` the same
store is also served by `chroma run` (a fresh local index folder again). The issue's target:
a new host's own memory within 10% of a restarted one's.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import log, machine, markdown_table, read_jsonl, require_inputs, revision
from bench.scale import env_for, grow
from bench.scale_reader import Reader


def chunk_count(settings: Any) -> int:
    """How many chunks the store holds."""
    from core.encode.embeddings import load_embedder
    from core.store import open_store

    embedder = load_embedder()
    store = open_store(settings.store, embedder.name, embedder.dim, create=False)
    try:
        return int(store.summary().chunks)
    finally:
        store.close()


def host(settings: Any, questions: list[dict[str, Any]], asks: int) -> dict[str, float]:
    """Start a reader on `settings`, ask `asks` questions; its start time and memory."""
    reader = Reader(env_for(settings))
    ready = time.perf_counter() - reader.started
    for q in questions[:asks]:
        reader.send(cmd="ask", q=q["question"])
    memory = reader.send(cmd="rss")
    reader.close()
    return {"ready_s": ready, **memory}


def pair(settings: Any, questions: list, asks: int) -> tuple[dict, dict]:
    """A new host (empty index folder), then a restart on the index it built."""
    shutil.rmtree(settings.index_folder, ignore_errors=True)
    fresh = host(settings, questions, asks)
    restarted = host(settings, questions, asks)
    return fresh, restarted


def measure_server(settings: Any, questions: list, asks: int) -> tuple[dict, dict]:
    from testing.chroma_server import ChromaServer

    server = ChromaServer(settings.chroma_path)
    server.start()
    try:
        remote = settings.model_copy(
            update={"chroma_host": "127.0.0.1", "chroma_port": server.port}
        )
        return pair(remote, questions, asks)
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="an embedded Chroma folder")
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, help="with --grow: the synthetic archive's")
    parser.add_argument("--grow", type=int, nargs="*", default=[], help="chunks to grow to")
    parser.add_argument("--server", action="store_true", help="also via `chroma run`")
    parser.add_argument("--asks", type=int, default=10, help="questions before the reading")
    args = parser.parse_args(argv)
    require_inputs(args.questions, *([args.corpus] if args.grow else []))
    from core.settings import Settings

    questions = read_jsonl(args.questions)
    work = Path(tempfile.mkdtemp(prefix="newhost-"))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, chroma_path=args.store, index_path=work / "index"
    )
    rows, copy = [], 0
    for size in sorted(args.grow) or [0]:
        if size:
            log(f"growing the store to {size} chunks")
            copy = grow(settings, read_jsonl(args.corpus), size, copy)["next_copy"]
        chunks = chunk_count(settings)
        modes = [("embedded", lambda: pair(settings, questions, args.asks))]
        if args.server:
            modes.append(("server", lambda: measure_server(settings, questions, args.asks)))
        for mode, run in modes:
            log(f"{mode} at {chunks} chunks: a new host, then a restart")
            fresh, restarted = run()
            rows += [
                (mode, chunks, "new", fresh, restarted),
                (mode, chunks, "restarted", restarted, restarted),
            ]
        report(rows)
    shutil.rmtree(work, ignore_errors=True)
    return 0


def report(rows: list) -> None:
    print(f"finished {time.strftime('%Y-%m-%d %H:%M')}, commit {revision()}; {machine()}\n")
    header = [
        "mode",
        "chunks",
        "host",
        "start → ready s",
        "own memory (RssAnon) MB",
        "vs restarted",
        "VmRSS MB (peak)",
    ]
    table = [
        [
            mode,
            f"{chunks:,}",
            kind,
            f"{got['ready_s']:.1f}",
            f"{got['anon']:.0f}",
            f"{(got['anon'] / base['anon'] - 1) * 100:+.0f}%",
            f"{got['rss']:.0f} ({got['peak']:.0f})",
        ]
        for mode, chunks, kind, got, base in rows
    ]
    print(markdown_table(header, table))
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
