"""Per-question latency of retrieval + answer composition, the process's memory, and the
encoders' query-embedding latency and `ask` cold start.

    .venv/bin/python -m bench.latency --corpus ../shared/eval/realtimeqa.corpus.jsonl \
        --questions ../shared/eval/realtimeqa.questions.jsonl \
        [--store DIR] [--textbook-store DIR] [--skip-textbook] [--limit N] \
        [--encoder-store torch=DIR --encoder-store onnx-int8=DIR] [--cold-runs 3]

The corpus is ingested by the `ingest` CLI in a subprocess (a no-op on an up-to-date
`--store`), so this process holds only what the bot holds: the model, the store's client
and the local index. Then, in this process: open the searcher (RSS measured here), one
warm-up question, and `core.answer.compose.answer_question(q, searcher, k=5,
considered=10, now=question_date)` timed per question. The textbook pipeline's
`similarity_search(q, k=10)` is timed afterwards on the same questions. Without
`--corpus`, only the encoder part runs.

For each `--encoder-store ENCODER=DIR` (a store whose vectors that encoder made), in turn:
`encode_query` per question on one thread (as the bot and `ask` run it), then `ask
"first question"` as a fresh process `--cold-runs` times (wall and CPU, start-up
included), and once more with each start-up phase timed inside (`--phases`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import textbook
from bench.common import (
    BIN,
    ROOT,
    asked_at,
    log,
    machine,
    markdown_table,
    percentile,
    read_jsonl,
    require_inputs,
    revision,
    rss_mb,
    run_cli,
    store_env,
    time_cli,
)

WARM_UP = "What happened this week?"


def time_ours(store: Path, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """Load the searcher, measure memory, then time `answer_question` per question."""
    from core.answer.compose import answer_question
    from core.service import open_searcher
    from core.settings import Settings

    before = rss_mb()[0]
    started = time.perf_counter()
    settings = Settings(_env_file=None, chroma_path=store)  # type: ignore[call-arg]
    searcher = open_searcher(settings)
    summary = searcher.summary()
    load_seconds = time.perf_counter() - started
    loaded = rss_mb()[0]
    answer_question(WARM_UP, searcher, k=5, considered=10)
    timed = time_questions(
        questions,
        lambda q: answer_question(q["question"], searcher, k=5, considered=10, now=asked_at(q)),
    )
    after, peak = rss_mb()
    searcher.close()
    return {
        **timed,
        "load_seconds": load_seconds,
        "articles": summary.articles,
        "chunks": summary.chunks,
        "rss_before": before,
        "rss_loaded": loaded,
        "rss_after": after,
        "rss_peak": peak,
    }


def time_textbook(
    records: list[dict[str, Any]], questions: list[dict[str, Any]], directory: Path
) -> dict[str, Any]:
    """Open (or build) the textbook store, then time `similarity_search(q, k=10)`."""
    from core.encode.embeddings import load_embedder

    built = textbook.open_textbook(records, directory, load_embedder(encoder="torch"))
    textbook.search(built.store, WARM_UP)
    timed = time_questions(questions, lambda q: textbook.search(built.store, q["question"], k=10))
    return {**timed, "chunks": built.chunks}


def time_questions(questions: list[dict[str, Any]], ask: Callable[[Any], object]) -> dict[str, Any]:
    """Wall and process CPU seconds of `ask(question)` per question, and the load around.

    Other processes on these 2 cores slow the wall time; the load average says how much
    else ran, and CPU time is what the question itself cost.
    """
    load_before = os.getloadavg()[0]
    latencies, cpu = [], []
    for q in questions:
        begin, begin_cpu = time.perf_counter(), time.process_time()
        ask(q)
        latencies.append(time.perf_counter() - begin)
        cpu.append(time.process_time() - begin_cpu)
    return {"latencies": latencies, "cpu": cpu, "load": (load_before, os.getloadavg()[0])}


def latency_row(label: str, timed: dict[str, Any]) -> list[str]:
    """Wall p50, p95, max and mean, CPU p50 and p95 (ms), and the load average around."""
    ms = [x * 1000 for x in timed["latencies"]]
    cpu = [x * 1000 for x in timed["cpu"]]
    cells = [percentile(ms, 50), percentile(ms, 95), max(ms), sum(ms) / len(ms)]
    cells += [percentile(cpu, 50), percentile(cpu, 95)]
    load = "{:.2f} -> {:.2f}".format(*timed["load"])
    return [label, str(len(ms)), *(f"{c:.0f}" for c in cells), load]


PHASES = [
    ("imports (`ask.__main__` and what it imports)", "imports"),
    ("settings", "settings"),
    ("encoder load (incl. file checksum)", "encoder"),
    ("store open and local index catch-up (`LiveArchive.sync`)", "archive"),
    ("first answer", "answer"),
]


def startup_phases(question: str) -> list[tuple[str, float, float]]:
    """`ask`'s start-up, step by step as `open_searcher` + `answer_question` run it."""
    marks: list[tuple[str, float, float]] = []
    last = [time.perf_counter(), time.process_time()]

    def mark(label: str) -> None:
        now = [time.perf_counter(), time.process_time()]
        marks.append((label, now[0] - last[0], now[1] - last[1]))
        last[:] = now

    import ask.__main__  # noqa: F401

    mark("imports")
    from core.answer.compose import answer_question
    from core.search.searcher import Searcher
    from core.service import open_engine
    from core.settings import load_settings

    settings = load_settings()
    mark("settings")
    engine, embedder = open_engine(settings)
    mark("encoder")
    if engine.archive is not None:
        engine.archive.sync()
    searcher = Searcher(engine.index, embedder, archive=engine.archive)
    mark("archive")
    answer_question(question, searcher, k=5, considered=10)
    mark("answer")
    return marks


def time_encoder_queries(encoder: str, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """`encode_query` per question, one thread, after one warm-up."""
    from core.encode.embeddings import load_embedder

    embedder = load_embedder(encoder=encoder, threads=1)
    embedder.encode_query(WARM_UP)
    return time_questions(questions, lambda q: embedder.encode_query(q["question"]))


def time_cold_starts(
    encoder: str, store: Path, question: str, runs: int, workdir: Path
) -> dict[str, Any]:
    """`ask QUESTION` as a new process, `runs` times; then once with its phases timed."""
    walls, cpus = [], []
    load_before = os.getloadavg()[0]
    for _ in range(runs):
        _, wall, cpu = time_cli(["ask", question], store, workdir, encoder=encoder)
        walls.append(wall)
        cpus.append(cpu)
    done = subprocess.run(
        [str(BIN / "python"), "-m", "bench.latency", "--phases", question],
        cwd=workdir,
        env={**store_env(store, encoder), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    phases = json.loads(done.stdout.strip().splitlines()[-1])
    return {"walls": walls, "cpus": cpus, "phases": phases, "load": load_before}


def encoder_tables(results: dict[str, dict[str, Any]]) -> str:
    """Query embedding and cold start per encoder; then the start-up phases side by side."""
    rows = []
    for encoder, r in results.items():
        q = r["queries"]
        ms = [x * 1000 for x in q["latencies"]]
        cpu = [x * 1000 for x in q["cpu"]]
        cold = r["cold"]
        rows.append(
            [
                encoder,
                f"{percentile(ms, 50):.1f} / {percentile(ms, 95):.1f}",
                f"{percentile(cpu, 50):.1f} / {percentile(cpu, 95):.1f}",
                "{:.2f} -> {:.2f}".format(*q["load"]),
                " ".join(f"{w:.1f}" for w in cold["walls"]),
                " ".join(f"{c:.1f}" for c in cold["cpus"]),
                f"{cold['load']:.2f}",
            ]
        )
    header = [
        "encoder",
        "query embedding p50 / p95 ms",
        "CPU p50 / p95 ms",
        "load avg",
        "`ask` cold start, wall s (each run)",
        "CPU s",
        "load avg",
    ]
    phase_rows = []
    for label, key in PHASES:
        cells = [label]
        for r in results.values():
            found = [p for p in r["cold"]["phases"] if p[0] == key]
            cells.append(f"{found[0][1]:.2f} / {found[0][2]:.2f}" if found else "-")
        phase_rows.append(cells)
    totals = ["total"]
    for r in results.values():
        phases = r["cold"]["phases"]
        totals.append(f"{sum(p[1] for p in phases):.2f} / {sum(p[2] for p in phases):.2f}")
    phase_rows.append(totals)
    phase_header = ["`ask` start-up phase, wall / CPU s", *results]
    return markdown_table(header, rows) + "\n\n" + markdown_table(phase_header, phase_rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Query latency and memory.")
    parser.add_argument("--corpus", type=Path, help="NAME.corpus.jsonl (else encoders only)")
    parser.add_argument("--questions", type=Path, help="NAME.questions.jsonl")
    parser.add_argument("--store", type=Path, help="our store folder, kept between runs")
    parser.add_argument("--textbook-store", type=Path, help="textbook store folder, kept")
    parser.add_argument("--skip-textbook", action="store_true", help="only ours")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument(
        "--encoder-store",
        action="append",
        default=[],
        metavar="ENCODER=DIR",
        help="time this encoder's query embedding and `ask` cold start on its store",
    )
    parser.add_argument("--cold-runs", type=int, default=3, help="`ask` processes per encoder")
    parser.add_argument("--phases", metavar="QUESTION", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phases:  # internal: one cold `ask`, its start-up phases as JSON
        print(json.dumps(startup_phases(args.phases)))
        return 0
    if not args.questions:
        parser.error("--questions is required")
    require_inputs(*(p for p in (args.corpus, args.questions) if p))
    questions = read_jsonl(args.questions, args.limit)
    name = args.questions.name.removesuffix(".questions.jsonl")
    if args.encoder_store:
        encoders = {}
        with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
            for pair in args.encoder_store:
                encoder, _, directory = pair.partition("=")
                log(f"{encoder}: query embedding, then `ask` cold start on {directory}")
                encoders[encoder] = {
                    "queries": time_encoder_queries(encoder, questions),
                    "cold": time_cold_starts(
                        encoder,
                        Path(directory).resolve(),
                        questions[0]["question"],
                        args.cold_runs,
                        Path(tmp),
                    ),
                }
        print(f"## encoders: {name}, {len(questions)} questions\n")
        print(f"finished {time.strftime('%Y-%m-%d %H:%M')}, commit {revision()}; {machine()}\n")
        print(encoder_tables(encoders))
        print()
    if not args.corpus:
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        workdir = Path(tmp)
        store = (args.store or workdir / "ours").resolve()
        log(f"ingest {args.corpus} into {store} (subprocess)")
        out, _ = run_cli(
            ["ingest", "--quiet", str(args.corpus.resolve())], store, workdir, ok=(0, 1)
        )
        log(out.strip())
        ours = time_ours(store, questions)
        log("ours timed")
        peer = None
        if not args.skip_textbook:
            records = read_jsonl(args.corpus)
            peer = time_textbook(records, questions, args.textbook_store or workdir / "textbook")
    print(f"## latency: {name}, {ours['articles']} articles, {ours['chunks']} chunks\n")
    print(f"finished {time.strftime('%Y-%m-%d %H:%M')}, commit {revision()}; {machine()}\n")
    rows = [latency_row("ours: `answer_question` (retrieval + answer)", ours)]
    if peer:
        label = f"textbook: `similarity_search(k=10)` ({peer['chunks']} chunks)"
        rows.append(latency_row(label, peer))
    header = [
        "pipeline",
        "n",
        "p50 ms",
        "p95 ms",
        "max ms",
        "mean ms",
        "CPU p50 ms",
        "CPU p95 ms",
        "load avg",
    ]
    print(markdown_table(header, rows))
    print()
    print(
        markdown_table(
            ["memory (this process, ours only)", "MB"],
            [
                ["VmRSS after imports, before loading", f"{ours['rss_before']:.0f}"],
                [
                    f"VmRSS after loading model, opening the archive "
                    f"({ours['load_seconds']:.1f} s)",
                    f"{ours['rss_loaded']:.0f}",
                ],
                ["VmRSS after all questions", f"{ours['rss_after']:.0f}"],
                ["peak RSS (ru_maxrss) after all questions", f"{ours['rss_peak']:.0f}"],
            ],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
