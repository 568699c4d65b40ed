"""Scale: a bot's start-up, memory, latency and freshness on archives of 100k and 300k chunks.

    .venv/bin/python -m bench.scale --corpus ../shared/eval/realtimeqa.corpus.jsonl \
        --questions ../shared/eval/realtimeqa.questions.jsonl \
        --store /tmp/scale/store --sizes 100000 300000 [--server] [--soak 50]

A bounded run, not a test. The archive is synthetic (bench/synthetic.py: the corpus'
articles reshuffled and re-dated, copy after copy) and goes through the real write path
(`ingest.pipeline.Ingestor`, the store's commit protocol, the local index updated after
each commit); only the embedding seam is replaced, by deterministic vectors
(`HashedVectors`: the real tokenizer chunks, a bag-of-words projection embeds), so that
300k chunks take minutes instead of hours. The store is grown in place: the 300k run adds
to the 100k one.

For each size, a reader process is started exactly as the bot opens the archive
(`bot.answerer.ArchiveAnswerer`: warm, then sync every second) and asked the questions with
the real query encoder. Reported: time until it answered its first question; its RSS;
answer p50/p95 (wall and CPU), plain and with the as-of date filter of `ask --batch`; how
long one new article, ingested by the real `ingest` command, takes to become answerable;
disk size; ingest throughput; and, with `--soak N`, the reader's RSS over N ingest commits.
With `--server` the same store is served by `chroma run` and the reader gets a fresh local
index folder, so its first start also shows what a new host pays to build one.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench.common import (
    BIN,
    log,
    machine,
    markdown_table,
    percentile,
    read_jsonl,
    require_inputs,
    revision,
    rss_mb,
    store_env,
)
from bench.scale_reader import Reader, reader_main
from bench.synthetic import HashedEmbedder, reshuffled

# -- the write path, with the embedding seam replaced ---------------------------------------


def hashed_vectors() -> Any:
    """The real embedder (its tokenizer chunks) with deterministic vectors for `encode`."""
    from core.encode.embeddings import Embedder, load_embedder

    real = load_embedder()
    hasher = HashedEmbedder(real.dim)

    class HashedVectors(Embedder):
        def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> Any:
            return hasher.encode(texts)

    return HashedVectors(
        real.name, real.encoder, real.dim, real.max_tokens, real._backend, real._tokenizer
    )


def grow(settings: Any, records: list[dict[str, Any]], target: int, copy: int) -> dict[str, Any]:
    """Ingest reshuffled copies (from number `copy` on) until the store holds `target` chunks."""
    from core.search.archive import LiveArchive
    from core.store import open_store
    from ingest.pipeline import Ingestor

    embedder = hashed_vectors()
    store = open_store(settings.store, embedder.name, embedder.dim)
    archive = LiveArchive(settings.store, settings.index, embedder.name, embedder.dim, store=store)
    have = store.summary().chunks if store.exists else 0
    wall, cpu = time.perf_counter(), time.process_time()
    written = 0
    while have + written < target:
        report = Ingestor(store, embedder, after_commit=archive.sync).run(
            record_items(reshuffled(records, 1, copy))
        )
        written += report.chunks
        copy += 1
        log(f"copy {copy}: {have + written} chunks")
    seconds, cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    archive.stop()
    return {"chunks": written, "wall": seconds, "cpu": cpu_s, "next_copy": copy}


def record_items(records: Iterable[dict[str, Any]]) -> Iterator[Any]:
    """Ingest items of corpus records, each read as `ingest` reads a JSON Lines record."""
    from ingest.extract import article_from_record
    from ingest.sources import Item

    for record in records:
        load = partial(lambda r: [article_from_record(r, r["id"], r["id"])], record)
        yield Item(str(record["id"]), load)


# -- measuring -----------------------------------------------------------------------------


def env_for(settings: Any) -> dict[str, str]:
    """The environment of a process that opens the same store as `settings`."""
    env = store_env(settings.chroma_path)
    env["INDEX_PATH"] = str(settings.index_folder)
    if settings.server_mode:
        del env["CHROMA_PATH"]
        env.update(CHROMA_HOST=str(settings.chroma_host), CHROMA_PORT=str(settings.chroma_port))
    return env


def latencies(reader: Reader, questions: list[dict[str, Any]], as_of: bool) -> dict[str, float]:
    """Answer p50/p95 wall and CPU (ms) over the questions."""
    walls, cpus = [], []
    for q in questions:
        got = reader.send(cmd="ask", q=q["question"], now=q.get("question_date") if as_of else None)
        walls.append(got["ms"])
        cpus.append(got["cpu_ms"])
    return {
        "p50": percentile(walls, 50),
        "p95": percentile(walls, 95),
        "cpu50": percentile(cpus, 50),
        "cpu95": percentile(cpus, 95),
    }


def new_article_delay(settings: Any, reader: Reader, work: Path, n: int) -> dict[str, float]:
    """Ingest one new article with the real `ingest` command; seconds from its exit until
    the reader quotes it."""
    marker = f"Quokka{n}"
    record = {
        "id": f"scale-new-{n}-{time.time_ns()}",
        "title": f"{marker} the quokka escapes from the harbour aquarium",
        "text": f"A quokka named {marker} escaped from the harbour aquarium on Monday and "
        "hopped along the boardwalk before keepers caught it near the ferry terminal.",
        "published_at": datetime.now(UTC).date().isoformat(),
    }
    path = work / f"new-{n}.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    began = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "ingest"), "--quiet", str(path)],
        env=env_for(settings),
        cwd=work,
        capture_output=True,
        text=True,
    )
    ended = time.perf_counter()
    if done.returncode:
        raise SystemExit(f"ingest failed: {done.stderr[-2000:]}")
    # By its name alone: earlier runs left near-copies of this story in the store, and
    # a question in their words may rightly rank one of them first.
    question = marker
    # Answerable: its article is the first passage.
    while not reader.send(cmd="ask", q=question)["top"].startswith(f"{marker} "):
        if time.perf_counter() - ended > 120:
            return {"ingest_s": ended - began, "answerable_s": float("inf")}
        time.sleep(0.2)
    return {"ingest_s": ended - began, "answerable_s": time.perf_counter() - ended}


def soak(settings: Any, reader: Reader, records: list[dict[str, Any]], commits: int) -> dict:
    """The reader's RSS over `commits` ingest commits of one article each."""
    from core.search.archive import LiveArchive
    from core.store import open_store
    from ingest.pipeline import Ingestor

    embedder = hashed_vectors()
    store = open_store(settings.store, embedder.name, embedder.dim)
    archive = LiveArchive(
        settings.store,
        settings.index,
        embedder.name,
        embedder.dim,
        store=store,
        build_missing=False,
    )
    samples = [reader.send(cmd="rss")]
    for i in range(commits):
        record = next(reshuffled([records[i % len(records)]], 1, 900 + i))
        Ingestor(store, embedder, after_commit=archive.sync).run(record_items([record]))
        time.sleep(1.2)  # the reader syncs every second
        reader.send(cmd="ask", q=str(record.get("title") or "news"))
        samples.append(reader.send(cmd="rss"))
    archive.stop()
    rss = [sample["rss"] for sample in samples]
    return {
        "first": rss[0],
        "last": rss[-1],
        "max": max(rss),
        "min": min(rss),
        "anon": (samples[0]["anon"], samples[-1]["anon"]),
        "file": (samples[0]["file"], samples[-1]["file"]),
    }


def disk_mb(*folders: Path) -> float:
    return (
        sum(p.stat().st_size for f in folders if f.exists() for p in f.rglob("*") if p.is_file())
        / 1e6
    )


def measure(settings: Any, questions: list, records: list, work: Path, args: Any, n: int) -> dict:
    """One reader's start-up, memory, latency and freshness over the store as it is."""
    reader = Reader(env_for(settings))
    first = reader.send(cmd="ask", q=questions[0]["question"])
    started = time.perf_counter() - reader.started
    out: dict[str, Any] = {"start_s": started, "ready": reader.ready, "first_ms": first["ms"]}
    out["plain"] = latencies(reader, questions, as_of=False)
    out["as_of"] = latencies(reader, questions, as_of=True)
    out["rss"] = reader.send(cmd="rss")
    out["new"] = new_article_delay(settings, reader, work, n)
    if args.soak:
        out["soak"] = soak(settings, reader, records, args.soak)
    reader.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reader", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--questions", type=Path)
    parser.add_argument("--store", type=Path, help="the synthetic store, grown in place")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--server", action="store_true", help="also measure via `chroma run`")
    parser.add_argument("--soak", type=int, default=0, help="ingest commits in the RSS soak")
    parser.add_argument("--limit", type=int, default=None, help="questions to ask")
    args = parser.parse_args(argv)
    if args.reader:
        return reader_main()
    if not (args.corpus and args.questions and args.store):
        parser.error("--corpus, --questions and --store are required")
    require_inputs(args.corpus, args.questions)
    from core.settings import Settings

    records = read_jsonl(args.corpus)
    questions = read_jsonl(args.questions, args.limit)
    args.store.mkdir(parents=True, exist_ok=True)
    settings = Settings(_env_file=None, chroma_path=args.store / "chroma")  # type: ignore[call-arg]
    work = Path(tempfile.mkdtemp(prefix="scale-"))
    rows, copy = [], 0
    for n, size in enumerate(sorted(args.sizes)):
        log(f"growing the store to {size} chunks")
        built = grow(settings, records, size, copy)
        copy = built["next_copy"]
        chunks = _chunks(settings)
        log(f"measuring embedded at {chunks} chunks")
        got = measure(settings, questions, records, work, args, 2 * n)
        rows.append(
            ("embedded", chunks, built, got, disk_mb(settings.chroma_path, settings.index_folder))
        )
        if args.server:
            got = measure_server(settings, questions, records, work, args, 2 * n + 1)
            rows.append(("server", chunks, None, got, disk_mb(settings.chroma_path)))
        report(rows, args)  # after every size: a long run that dies keeps what it measured
        sys.stdout.flush()
    shutil.rmtree(work, ignore_errors=True)
    return 0


def measure_server(
    settings: Any, questions: list, records: list, work: Path, args: Any, n: int
) -> dict:
    """The same store served by `chroma run`; a reader with a local index of its own."""
    from testing.chroma_server import ChromaServer

    server = ChromaServer(settings.chroma_path)
    server.start()
    try:
        remote = settings.model_copy(
            update={
                "chroma_host": "127.0.0.1",
                "chroma_port": server.port,
                "index_path": work / f"host-{n}",
            }
        )
        log("server: first start of a new host (builds its local index)")
        reader = Reader(env_for(remote))
        fresh = time.perf_counter() - reader.started
        reader.close()
        log("server: measuring a restart")
        got = measure(remote, questions, records, work, args, n)
        got["new_host_s"] = fresh
    finally:
        server.stop()
    return got


def _chunks(settings: Any) -> int:
    from core.encode.embeddings import load_embedder
    from core.store import open_store

    embedder = load_embedder()
    store = open_store(settings.store, embedder.name, embedder.dim, create=False)
    count = store.summary().chunks
    store.close()
    return count


def report(rows: list, args: Any) -> None:
    print(f"finished {time.strftime('%Y-%m-%d %H:%M')}, commit {revision()}; {machine()}")
    peak = rss_mb()[1]
    print(f"peak RSS of this (writer) process: {peak:.0f} MB\n")
    header = [
        "mode",
        "chunks",
        "start → first answer s",
        "reader RSS MB (peak) = own + mapped files",
        "answer p50 / p95 ms (CPU p50)",
        "as-of filter p50 / p95 ms (CPU p50)",
        "new article answerable s (ingest CLI s)",
        "disk MB",
        "ingest chunks/s (wall / CPU)",
    ]
    table = []
    for mode, chunks, built, got, disk in rows:
        plain, as_of, new = got["plain"], got["as_of"], got["new"]
        rate = (
            "-"
            if not built or not built["chunks"]
            else (f"{built['chunks'] / built['wall']:.0f} / {built['chunks'] / built['cpu']:.0f}")
        )
        start = f"{got['start_s']:.1f}"
        if "new_host_s" in got:
            start += f" (new host: {got['new_host_s']:.1f})"
        table.append(
            [
                mode,
                f"{chunks:,}",
                start,
                f"{got['rss']['rss']:.0f} ({got['rss']['peak']:.0f})"
                f" = {got['rss']['anon']:.0f} + {got['rss']['file']:.0f}",
                f"{plain['p50']:.0f} / {plain['p95']:.0f} ({plain['cpu50']:.0f})",
                f"{as_of['p50']:.0f} / {as_of['p95']:.0f} ({as_of['cpu50']:.0f})",
                f"{new['answerable_s']:.1f} ({new['ingest_s']:.1f})",
                f"{disk:.0f}",
                rate,
            ]
        )
    print(markdown_table(header, table))
    soaks = [(m, c, g["soak"]) for m, c, _, g, _ in rows if "soak" in g]
    if soaks:
        print(f"\nSoak: reader RSS over {args.soak} ingest commits of one article each\n")
        print(
            markdown_table(
                [
                    "mode",
                    "chunks",
                    "RSS first / last / max MB",
                    "growth",
                    "own MB",
                    "mapped files MB",
                ],
                [
                    [
                        m,
                        f"{c:,}",
                        f"{s['first']:.0f} / {s['last']:.0f} / {s['max']:.0f}",
                        f"{(s['last'] / s['first'] - 1) * 100:+.1f}%",
                        f"{s['anon'][0]:.0f} → {s['anon'][1]:.0f}",
                        f"{s['file'][0]:.0f} → {s['file'][1]:.0f}",
                    ]
                    for m, c, s in soaks
                ],
            )
        )


if __name__ == "__main__":
    sys.exit(main())
