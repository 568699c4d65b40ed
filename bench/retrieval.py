"""Retrieval quality: this project (through `ask --batch --json`) next to the textbook pipeline.

    .venv/bin/python -m bench.retrieval --corpus ../shared/eval/realtimeqa-small.corpus.jsonl \
        --questions ../shared/eval/realtimeqa-small.questions.jsonl \
        [--store DIR] [--textbook-store DIR] [--skip-textbook] [--limit N] [--out FILE.jsonl]
    .venv/bin/python -m bench.retrieval --corpus … --questions … --rescore EARLIER.jsonl


Ours: the corpus goes through the real `ingest` CLI into a store (a temp one, or `--store`,
where unchanged articles cost nothing on later runs), and every question through the public
`ask --batch FILE --json` contract, with `asked_at` set to the question's date. The textbook
pipeline is built and queried in this process on the same corpus and questions. The report
(Markdown) goes to stdout; progress to stderr. It ends with the figures per outlet (each
question counted under the `source` that holds most of its evidence articles, ours beside
the textbook's), for a set with question dates the same split by whether an evidence
article is from the question's own weeks (`question_weeks`: where none is, an answer string
found in an older article is mostly chance), and the leads that are page furniture (a
timestamp, a live-blog header, a dateline or a line of names: `furniture_lead`).
`--rescore` prints those tables again from an earlier run's `--out` file, without running
anything.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import textbook
from bench.common import (
    BIN,
    log,
    machine,
    read_jsonl,
    require_inputs,
    revision,
    run_cli,
    store_env,
    write_jsonl,
)
from bench.metrics import score_question
from bench.retrieval_tables import (
    furniture_table,
    metrics_table,
    outlets_table,
    question_outlets,
    question_weeks,
    timings_table,
    types_table,
)


def ingest_ours(
    corpus: Path, store: Path, workdir: Path, encoder: str | None = None
) -> dict[str, Any]:
    """Run `ingest --quiet CORPUS` on the store; its summary line, wall time, article count."""
    log(f"ours: ingest {corpus} into {store}")
    out, seconds = run_cli(
        ["ingest", "--quiet", str(corpus.resolve())], store, workdir, ok=(0, 1), encoder=encoder
    )
    stats, _ = run_cli(["ingest", "--stats"], store, workdir, encoder=encoder)
    found = re.search(r"articles:\s+(\d+)", stats)
    summary = out.strip().splitlines()[-1] if out.strip() else ""
    log(f"ours: {summary} ({seconds:.1f} s wall)")
    return {"seconds": seconds, "line": summary, "articles": int(found.group(1)) if found else -1}


def ask_ours(
    questions: list[dict[str, Any]], store: Path, workdir: Path, encoder: str | None = None
) -> dict[str, Any]:
    """Every question through `ask --batch FILE --json`; answers by id and per-line timings."""
    batch = workdir / "questions.jsonl"
    write_jsonl(
        batch,
        (
            {"id": q["id"], "question": q["question"], "asked_at": q.get("question_date")}
            for q in questions
        ),
    )
    log(f"ours: ask --batch {len(questions)} questions")
    answers: dict[str, dict[str, Any]] = {}
    gaps: list[float] = []
    with open(workdir / "ask.stderr", "w", encoding="utf-8") as errors:
        started = last = time.perf_counter()
        process = subprocess.Popen(
            [str(BIN / "ask"), "--batch", str(batch), "--json"],
            cwd=workdir,
            env=store_env(store, encoder),
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            now = time.perf_counter()
            gaps.append(now - last)
            last = now
            record = json.loads(line)
            answers[str(record["id"])] = record
        code = process.wait()
        total = time.perf_counter() - started
    if code != 0 or len(answers) != len(questions):
        stderr = (workdir / "ask.stderr").read_text(encoding="utf-8")[-3000:]
        raise SystemExit(f"ask exited {code} with {len(answers)} answers:\n{stderr}")
    short = [len(a["passages"]) for a in answers.values() if len(a["passages"]) < 10]
    if short:
        log(f"ours: {len(short)} answers had fewer than 10 passages (min {min(short)})")
    return {"answers": answers, "seconds": total, "first": gaps[0], "gaps": gaps[1:]}


def run_textbook(
    records: list[dict[str, Any]], questions: list[dict[str, Any]], directory: Path
) -> dict[str, Any]:
    """Build (or reuse) the textbook store and run `similarity_search(q, k=10)` per question."""
    from core.encode.embeddings import load_embedder

    started = time.perf_counter()
    embedder = load_embedder(encoder="torch")  # the textbook stores were built with it
    built = textbook.open_textbook(records, directory, embedder)
    build_seconds = time.perf_counter() - started
    log(f"textbook: built in {build_seconds:.1f} s; searching")
    textbook.search(built.store, "warm-up question")
    results: dict[str, list[dict[str, Any]]] = {}
    latencies = []
    for q in questions:
        begin = time.perf_counter()
        results[str(q["id"])] = textbook.search(built.store, q["question"], k=10)
        latencies.append(time.perf_counter() - begin)
    return {
        "results": results,
        "built": built,
        "build_seconds": build_seconds,
        "latencies": latencies,
    }


def score_ours(questions: list[dict[str, Any]], answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-question metrics of our answers."""
    rows = []
    for q in questions:
        answer = answers[str(q["id"])]
        declined = answer["answer"] is None
        rows.append(
            score_question(
                q,
                answer["passages"],
                declined,
                lead=answer["answer"],
                span=answer.get("answer_span"),
            )
        )
    return rows


def score_textbook(
    questions: list[dict[str, Any]], results: dict[str, Any]
) -> list[dict[str, Any]]:
    """Per-question metrics of the textbook pipeline (it never declines)."""
    return [score_question(q, results[str(q["id"])], declined=False) for q in questions]


def top_docs(passages: list[dict[str, Any]], n: int = 5) -> list[dict[str, Any]]:
    """The first n distinct documents of a ranking, with their titles."""
    seen: dict[str, str] = {}
    for p in passages:
        seen.setdefault(p["doc_id"], p.get("title") or "")
    return [{"doc_id": d, "title": t} for d, t in list(seen.items())[:n]]


def per_question(questions, records, asked, ours, peer_results, peer):  # type: ignore[no-untyped-def]
    """The error-analysis records of `--out`."""
    titles = {r["id"]: r.get("title", "") for r in records}
    for i, q in enumerate(questions):
        answer = asked["answers"][str(q["id"])]
        row = {
            "id": q["id"],
            "type": q.get("type"),
            "question": q["question"],
            "question_date": q.get("question_date"),
            "answer": q.get("answer"),
            "gold": [
                {"doc_id": d, "title": titles.get(d, "")} for d in q.get("evidence_doc_ids") or []
            ],
            "ours": {**ours[i], "lead": answer["answer"], "top": top_docs(answer["passages"])},
        }
        if peer is not None:
            row["textbook"] = {**peer[i], "top": top_docs(peer_results[str(q["id"])])}
        yield row


def weeks_table(
    questions: list[dict[str, Any]],
    records: list[dict[str, Any]],
    ours: list[dict[str, Any]],
    peer: list[dict[str, Any]] | None,
) -> str | None:
    """The figures split by whether the news of a question's own weeks holds its answer
    (`question_weeks`); None for a set without question dates."""
    weeks = question_weeks(questions, records)
    if all(w == "-" for w in weeks):
        return None
    return outlets_table(weeks, ours, peer, label="evidence published")


def rescore(path: Path, questions: list[dict[str, Any]], records: list[dict[str, Any]]) -> int:
    """The outlet, weeks and furniture tables of an earlier run's `--out` file."""
    rows = {str(r["id"]): r for r in read_jsonl(path)}
    picked = [q for q in questions if str(q["id"]) in rows]
    ours = [rows[str(q["id"])]["ours"] for q in picked]
    peer = [rows[str(q["id"])].get("textbook") for q in picked]
    print(f"## {path.name}: {len(picked)} questions (rescored)\n")
    print(outlets_table(question_outlets(picked, records), ours, peer if all(peer) else None))
    print()
    weeks = weeks_table(picked, records, ours, peer if all(peer) else None)
    if weeks:
        print(weeks + "\n")
    print(furniture_table([r.get("lead") for r in ours]))
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="NAME.corpus.jsonl")
    parser.add_argument("--questions", type=Path, required=True, help="NAME.questions.jsonl")
    parser.add_argument("--store", type=Path, help="our store folder, kept between runs")
    parser.add_argument("--textbook-store", type=Path, help="textbook store folder, kept")
    parser.add_argument("--skip-textbook", action="store_true", help="only ours")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--out", type=Path, help="per-question results (JSON Lines)")
    parser.add_argument("--rescore", type=Path, help="an earlier --out file: its tables only")
    parser.add_argument(
        "--encoder", help="EMBEDDING_ENCODER for ours (default: the default, onnx-int8)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    require_inputs(args.corpus, args.questions)
    records = read_jsonl(args.corpus)
    questions = read_jsonl(args.questions, args.limit)
    if args.rescore:
        return rescore(args.rescore, questions, records)
    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmp:
        workdir = Path(tmp)
        store = args.store or workdir / "ours"
        ingest = ingest_ours(args.corpus, store, workdir, args.encoder)
        if ingest["articles"] != len(records):
            log(
                f"warning: the store holds {ingest['articles']} articles, the corpus {len(records)}"
            )
        asked = ask_ours(questions, store, workdir, args.encoder)
        ours = score_ours(questions, asked["answers"])
        peer = peer_rows = None
        if not args.skip_textbook:
            peer = run_textbook(records, questions, args.textbook_store or workdir / "textbook")
            peer_rows = score_textbook(questions, peer["results"])
    name = args.questions.name.removesuffix(".questions.jsonl")
    encoder = args.encoder or "default encoder"
    print(f"## {name}: {len(records)} documents, {len(questions)} questions, {encoder}\n")
    print(f"finished {time.strftime('%Y-%m-%d %H:%M')}, commit {revision()}; {machine()}\n")
    print(metrics_table(ours, peer_rows) + "\n")
    by_type = types_table(questions, ours, peer_rows)
    if by_type:
        print(by_type + "\n")
    print(outlets_table(question_outlets(questions, records), ours, peer_rows) + "\n")
    weeks = weeks_table(questions, records, ours, peer_rows)
    if weeks:
        print(weeks + "\n")
    leads = [asked["answers"][str(q["id"])]["answer"] for q in questions]
    print(furniture_table(leads) + "\n")
    print(timings_table(ingest, asked, peer, len(questions)))
    if args.out:
        write_jsonl(
            args.out,
            per_question(
                questions, records, asked, ours, peer["results"] if peer else None, peer_rows
            ),
        )
        log(f"per-question results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
