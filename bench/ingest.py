"""Ingest throughput of each encoder next to fp32 torch, on the same text, in one process.

    .venv/bin/python -m bench.ingest --corpus ../shared/eval/realtimeqa.corpus.jsonl \
        [--limit N] [--encoders torch,onnx-int8]

For each encoder (`EMBEDDING_ENCODER`; default torch, then onnx-int8), in one process:

1. raw encoder: every article's text cut into consecutive pieces of 150 whitespace-
   separated words (`--piece-words`), encoded with `embedder.encode(pieces)` (torch: batch
   32; ONNX: one text per core at a time, see core/encode/embeddings.py). This is the physical
   limit of the machine for that encoder. 150 words (~195 word pieces of news text) is about
   our chunk size and fits the model's 256 word pieces; at 200 words, 42-47% of the pieces
   are cut by the model and ~3% of the text is never encoded, which flatters the encoder.
2. ingest: our real pipeline (`ingest.pipeline.Ingestor`, as the `ingest` CLI runs it) into
   a fresh temp store: parse, chunk, embed, write to Chroma, commit.

Then, for the last encoder, re-ingest of the unchanged corpus: a new store handle and
`Ingestor` on the same store (in-process), and the `ingest` CLI in a subprocess (wall time,
Python start-up included).

Words are whitespace-separated words of the article texts. Wall and CPU times (all threads
of this process) are both shown: CPU time exposes other load on the machine, so compare
the encoders by the ratios of one run, and read the load average printed beside them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    fmt,
    log,
    machine,
    markdown_table,
    read_jsonl,
    require_inputs,
    revision,
    time_cli,
    write_jsonl,
)

PIECE_WORDS = 150


class Timer:
    """Wall and process CPU seconds of a `with` block."""

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def cut_pieces(texts: list[str], size: int = PIECE_WORDS) -> list[str]:
    """Each text cut into consecutive pieces of `size` words (the last one shorter)."""
    pieces = []
    for text in texts:
        words = text.split()
        pieces += [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return pieces


def time_encoder(embedder: Any, pieces: list[str]) -> tuple[Timer, float]:
    """Time encoding the pieces; also the share of pieces the model truncates."""
    embedder.encode(pieces[:64], batch_size=32)  # warm-up: first calls allocate
    log(f"raw encoder ({embedder.encoder}): {len(pieces)} pieces")
    with Timer() as timer:
        embedder.encode(pieces, batch_size=32)
    tokens = embedder.count_tokens(pieces)
    truncated = sum(1 for t in tokens if t > embedder.content_tokens) / max(len(pieces), 1)
    return timer, truncated


def time_ingest(settings: Any, corpus: Path) -> tuple[Any, Timer]:
    """Our pipeline on the corpus, store opened inside the timing, as the CLI would."""
    from core.encode.embeddings import load_embedder
    from core.store import open_store
    from ingest.pipeline import Ingestor
    from ingest.sources import expand

    embedder = load_embedder(settings.embedding_model, settings.embedding_encoder)
    embedder.encode(["warm-up"] * 8)
    with Timer() as timer:
        store = open_store(settings.store, embedder.name, embedder.dim)
        report = Ingestor(store, embedder, settings.max_chunks_per_article).run(
            expand([str(corpus)], settings.ingest)
        )
    return report, timer


def chunk_words(settings: Any) -> tuple[int, int]:
    """Chunks in the store and the words in their texts (overlap counted twice)."""
    from core.encode.embeddings import load_embedder
    from core.store import open_store

    embedder = load_embedder(settings.embedding_model, settings.embedding_encoder)
    store = open_store(settings.store, embedder.name, embedder.dim, create=False)
    count = words = 0
    for hit in store.iter_chunks():
        count += 1
        words += len(hit.text.split())
    return count, words


def times(ratio: float) -> str:
    """A speed-up for a table: '62x', '0.4x'."""
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def report_tables(results: dict[str, Any]) -> str:
    """The Markdown report: one row pair per encoder, then the re-ingest, then the ratios."""
    words, ingest_words = results["words"], results["ingest_words"]
    rows = []
    for encoder, run in results["runs"].items():
        raw, first = run["raw"], run["first"]
        rows.append(
            [
                f"{encoder}: raw encoder, {results['piece_words']}-word pieces",
                f"{raw.wall:.1f}",
                f"{raw.cpu:.1f}",
                f"{results['pieces'] / raw.wall:.1f}",
                f"{results['pieces'] / raw.cpu:.1f}",
                f"{words / raw.wall:,.0f}",
                f"{results['pieces']} pieces; {results['truncated']:.1%} truncated at 256 "
                f"word pieces; load {run['load'][0]:.1f}",
            ]
        )
        rows.append(
            [
                f"{encoder}: ingest, fresh store (our pipeline)",
                f"{first.wall:.1f}",
                f"{first.cpu:.1f}",
                f"{run['chunks'] / first.wall:.1f}",
                f"{run['chunks'] / first.cpu:.1f}",
                f"{ingest_words / first.wall:,.0f}",
                f"{run['line']}; load {run['load'][1]:.1f}",
            ]
        )
    again, last = results["again"], results["last"]
    first = results["runs"][last]["first"]
    rows.append(
        [
            f"{last}: re-ingest, unchanged (in-process)",
            f"{again.wall:.2f}",
            f"{again.cpu:.2f}",
            "-",
            "-",
            f"{ingest_words / again.wall:,.0f}",
            results["again_line"],
        ]
    )
    rows.append(
        [
            f"{last}: re-ingest, unchanged (`ingest` CLI, incl. start-up)",
            f"{results['cli']:.2f}",
            f"{results['cli_cpu']:.2f}",
            "-",
            "-",
            f"{ingest_words / results['cli']:,.0f}",
            results["cli_line"],
        ]
    )
    header = ["what", "wall s", "CPU s", "items/s", "items/CPU-s", "words/s", "detail"]
    table = markdown_table(header, rows)
    ratio_rows = []
    runs = results["runs"]
    for encoder, run in runs.items():
        raw, ing = run["raw"], run["first"]
        ratio_rows.append(
            [
                f"{encoder}: ingest words/s / its raw encoder words/s (wall; CPU)",
                f"{(ingest_words / ing.wall) / (words / raw.wall):.2f}; "
                f"{(ingest_words / ing.cpu) / (words / raw.cpu):.2f}",
                ">= 0.9",
            ]
        )
    if "torch" in runs:
        base = runs["torch"]
        for encoder, run in runs.items():
            if encoder == "torch":
                continue
            ratio_rows.append(
                [
                    f"{encoder} / torch: raw encoder throughput (wall; CPU)",
                    f"{base['raw'].wall / run['raw'].wall:.2f}x; "
                    f"{base['raw'].cpu / run['raw'].cpu:.2f}x",
                    "-",
                ]
            )
            ratio_rows.append(
                [
                    f"{encoder} / torch: ingest chunks/s (wall; CPU)",
                    f"{base['first'].wall / run['first'].wall:.2f}x; "
                    f"{base['first'].cpu / run['first'].cpu:.2f}x",
                    ">= 2x",
                ]
            )
    ratio_rows += [
        [f"{last}: first ingest / re-ingest (in-process)", times(first.wall / again.wall), "-"],
        [f"{last}: first ingest / re-ingest (CLI wall)", times(first.wall / results["cli"]), "-"],
        [
            "words embedded by ingest / article words (chunk overlap)",
            fmt(results["chunk_words"] / ingest_words, 2),
            "-",
        ],
    ]
    ratios = markdown_table(["ratio", "value", "target"], ratio_rows)
    return f"{table}\n\n{ratios}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Ingest throughput vs the raw encoder.")
    parser.add_argument("--corpus", type=Path, required=True, help="NAME.corpus.jsonl")
    parser.add_argument("--limit", type=int, help="only the first N documents")
    parser.add_argument(
        "--piece-words",
        type=int,
        default=PIECE_WORDS,
        help=f"words per raw-encoder piece (default {PIECE_WORDS})",
    )
    parser.add_argument(
        "--encoders",
        default="torch,onnx-int8",
        help="comma-separated EMBEDDING_ENCODER values, run in this order",
    )
    args = parser.parse_args(argv)
    require_inputs(args.corpus)
    from core.encode.embeddings import load_embedder
    from core.settings import Settings

    encoders = [e.strip() for e in args.encoders.split(",") if e.strip()]
    records = read_jsonl(args.corpus, args.limit)
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        workdir = Path(tmp)
        corpus = workdir / "corpus.jsonl"
        write_jsonl(corpus, records)
        pieces = cut_pieces([r["text"] for r in records], args.piece_words)
        for encoder in encoders:
            embedder = load_embedder(encoder=encoder)
            load_before = os.getloadavg()[0]
            raw, truncated = time_encoder(embedder, pieces)
            log(f"raw encoder: {raw.wall:.1f} s; now ingest {len(records)} documents")
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None, chroma_path=workdir / f"store-{encoder}", embedding_encoder=encoder
            )
            load_middle = os.getloadavg()[0]
            report, first = time_ingest(settings, corpus)
            log(f"{encoder} ingest: {report.line()}")
            runs[encoder] = {
                "raw": raw,
                "first": first,
                "chunks": report.chunks,
                "line": report.line(),
                "load": (load_before, load_middle, os.getloadavg()[0]),
                "report": report,
            }
        last = encoders[-1]
        again_report, again = time_ingest(settings, corpus)
        cli_out, cli_seconds, cli_cpu = time_cli(
            ["ingest", "--quiet", str(corpus)], settings.chroma_path, workdir, (0, 1), last
        )
        chunks, words_in_chunks = chunk_words(settings)
    results = {
        "words": sum(len(p.split()) for p in pieces),
        "piece_words": args.piece_words,
        "pieces": len(pieces),
        "truncated": truncated,
        "runs": runs,
        "last": last,
        "again": again,
        "cli": cli_seconds,
        "cli_cpu": cli_cpu,
        "ingest_words": runs[last]["report"].words,
        "again_line": again_report.line(),
        "cli_line": cli_out.strip().splitlines()[-1].split(" into ")[0],
        "chunk_words": words_in_chunks,
    }
    log(f"{chunks} chunks in the store")
    name = args.corpus.name.removesuffix(".corpus.jsonl")
    print(f"## ingest: {name}, {len(records)} documents, {results['words']:,} words\n")
    print(f"finished {time.strftime('%Y-%m-%d %H:%M')}, commit {revision()}; {machine()}\n")
    print(report_tables(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
