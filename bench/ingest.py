"""Ingest throughput next to the raw encoder's, and re-ingest of an unchanged corpus.

    .venv/bin/python bench/ingest.py --corpus ../shared/eval/realtimeqa.corpus.jsonl [--limit N]

In one process, on the same text, with the same loaded model:

1. raw encoder: every article's text cut into consecutive pieces of 150 whitespace-
   separated words (`--piece-words`), encoded with `model.encode(pieces, batch_size=32)`
   (normalized, as ingest does). This is the physical limit of the machine for this model.
   150 words (~195 word pieces of news text) is about our chunk size and fits the model's
   256 word pieces; at 200 words, 42-47% of the pieces are cut by the model and ~3% of the
   text is never encoded, which flatters the raw encoder.
2. ingest: our real pipeline (`ingest.pipeline.Ingestor`, as the `ingest` CLI runs it) into
   a fresh temp store: parse, chunk, embed, write to Chroma, commit.
3. re-ingest of the unchanged corpus: a new store handle and `Ingestor` on the same store
   (in-process), and the `ingest` CLI in a subprocess (wall time, Python start-up included).

Words are whitespace-separated words of the article texts. Wall and CPU times (all threads
of this process) are both shown: CPU time exposes other load on the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from bench.common import (  # noqa: E402
    fmt,
    log,
    machine,
    markdown_table,
    read_jsonl,
    require_inputs,
    revision,
    run_cli,
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
    """Time encoding the pieces at batch 32; also the share of pieces the model truncates."""
    embedder.encode(pieces[:64], batch_size=32)  # warm-up: first calls allocate
    log(f"raw encoder: {len(pieces)} pieces")
    with Timer() as timer:
        embedder.encode(pieces, batch_size=32)
    tokens = embedder.count_tokens(pieces)
    truncated = sum(1 for t in tokens if t > embedder.content_tokens) / max(len(pieces), 1)
    return timer, truncated


def time_ingest(settings: Any, corpus: Path) -> tuple[Any, Timer]:
    """Our pipeline on the corpus, store opened inside the timing, as the CLI would."""
    from core.embeddings import load_embedder
    from core.store import open_store
    from ingest.pipeline import Ingestor
    from ingest.sources import expand

    embedder = load_embedder(settings.embedding_model)
    with Timer() as timer:
        store = open_store(settings, embedder.name, embedder.dim)
        report = Ingestor(store, embedder, settings.max_chunks_per_article).run(
            expand([str(corpus)], settings)
        )
    return report, timer


def chunk_words(settings: Any) -> tuple[int, int]:
    """Chunks in the store and the words in their texts (overlap counted twice)."""
    from core.embeddings import load_embedder
    from core.store import open_store

    embedder = load_embedder(settings.embedding_model)
    store = open_store(settings, embedder.name, embedder.dim, create=False)
    count = words = 0
    for hit in store.iter_chunks():
        count += 1
        words += len(hit.text.split())
    return count, words


def times(ratio: float) -> str:
    """A speed-up for a table: '62x', '0.4x'."""
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def report_tables(results: dict[str, Any]) -> str:
    """The Markdown report."""
    words = results["words"]
    raw, first, again = results["raw"], results["first"], results["again"]
    rate = words / raw.wall
    ingest_rate = results["ingest_words"] / first.wall
    rows = [
        [
            f"raw encoder, {results['piece_words']}-word pieces, batch 32",
            f"{raw.wall:.1f}",
            f"{raw.cpu:.1f}",
            f"{rate:,.0f}",
            f"{results['pieces']} pieces; {results['truncated']:.1%} truncated at 256 word pieces",
        ],
        [
            "ingest, fresh store (our pipeline)",
            f"{first.wall:.1f}",
            f"{first.cpu:.1f}",
            f"{ingest_rate:,.0f}",
            results["line"],
        ],
        [
            "re-ingest, unchanged (in-process)",
            f"{again.wall:.2f}",
            f"{again.cpu:.2f}",
            f"{results['ingest_words'] / again.wall:,.0f}",
            results["again_line"],
        ],
        [
            "re-ingest, unchanged (`ingest` CLI, wall incl. start-up)",
            f"{results['cli']:.2f}",
            "-",
            f"{results['ingest_words'] / results['cli']:,.0f}",
            results["cli_line"],
        ],
    ]
    table = markdown_table(["what", "wall s", "CPU s", "words/s", "detail"], rows)
    ratios = markdown_table(
        ["ratio", "value", "target"],
        [
            ["ingest words/s / raw encoder words/s (wall)", fmt(ingest_rate / rate, 2), ">= 0.9"],
            [
                "same, CPU time",
                fmt((raw.cpu / words) / (first.cpu / results["ingest_words"]), 2),
                "-",
            ],
            ["first ingest / re-ingest (in-process)", times(first.wall / again.wall), ">= 50x"],
            [
                "first ingest / re-ingest (CLI wall)",
                times(first.wall / results["cli"]),
                ">= 50x",
            ],
            [
                "words embedded by ingest / article words (chunk overlap)",
                fmt(results["chunk_words"] / results["ingest_words"], 2),
                "-",
            ],
        ],
    )
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
    args = parser.parse_args(argv)
    require_inputs(args.corpus)
    from core.embeddings import load_embedder
    from core.settings import Settings

    records = read_jsonl(args.corpus, args.limit)
    embedder = load_embedder()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        workdir = Path(tmp)
        corpus = workdir / "corpus.jsonl"
        write_jsonl(corpus, records)
        pieces = cut_pieces([r["text"] for r in records], args.piece_words)
        raw, truncated = time_encoder(embedder, pieces)
        log(f"raw encoder: {raw.wall:.1f} s; now ingest {len(records)} documents")
        settings = Settings(_env_file=None, chroma_path=workdir / "store")  # type: ignore[call-arg]
        first_report, first = time_ingest(settings, corpus)
        log(f"ingest: {first_report.line()}; re-ingest")
        again_report, again = time_ingest(settings, corpus)
        cli_out, cli_seconds = run_cli(
            ["ingest", "--quiet", str(corpus)], settings.chroma_path, workdir, ok=(0, 1)
        )
        chunks, words_in_chunks = chunk_words(settings)
    results = {
        "words": sum(len(p.split()) for p in pieces),
        "piece_words": args.piece_words,
        "pieces": len(pieces),
        "truncated": truncated,
        "raw": raw,
        "first": first,
        "again": again,
        "cli": cli_seconds,
        "ingest_words": first_report.words,
        "line": first_report.line(),
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
