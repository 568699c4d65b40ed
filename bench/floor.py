"""Calibrate the relevance floor: decline questions with no answer, keep the answerable.

    .venv/bin/python -m bench.floor --corpus ../shared/eval/multihop-rag-evidence.corpus.jsonl \\
        --questions ../shared/eval/multihop-rag-evidence.questions.jsonl --store DIR

Ingests the corpus into DIR (idempotent: unchanged articles cost nothing), searches every
question, and records for each its best passage's two floor signals (cosine similarity and
IDF-weighted coverage of the question's words, and the missing share of the question's
distinctive weight). Questions without `evidence_doc_ids` (MultiHop-RAG's `null_query`,
"Insufficient information") should be declined; the others answered. Prints, for a grid of
floors and for the floor in `core/answer/compose.py`, how many of each are declined, in
the same run.

`--small N` measures small archives instead (issue 9, point 13): a 6-article store is built
with the real ingest for each of N answerable questions (its gold articles and the
articles the full store ranks next for it: should be answered) and for each of N
no-evidence questions (the 6 articles the full store ranks first for it: near misses that
should be declined). A set without no-evidence questions (RGB) gets, for each answerable
question, a second store of the articles the full store ranks first for it apart from its
own documents (near misses of the kind "the terminal's cost" for "the bridge's cost").
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.common import read_jsonl, require_inputs, run_cli
from core.answer.compose import Floor, relevance
from core.search.query import parse_query
from core.service import open_searcher
from core.settings import Settings

PASSAGES = 3


Signal = tuple[float, float, float, float]


def signals(store: Path, questions: list[dict]) -> list[tuple[bool, list[Signal]]]:
    """(answerable, [floor signals (`core.answer.compose.relevance`) of each top passage])
    per question."""
    searcher = open_searcher(Settings(_env_file=None, chroma_path=store))
    idf = searcher.idf
    out = []
    for q in questions:
        ranked = searcher.search(parse_query(q["question"]), k=PASSAGES)
        pairs = [relevance(p, ranked.query_terms, idf) for p in ranked.passages]
        out.append((bool(q.get("evidence_doc_ids")), pairs))
    return out


def declined(pairs: list[Signal], floor: Floor) -> bool:
    """True when no top passage clears the floor (the answer would be declined)."""
    return not any(floor.admits(*signal) for signal in pairs)


Rows = list[tuple[bool, list[Signal]]]


def rates(rows: Rows, floor: Floor) -> tuple[float, float]:
    """(share of no-answer questions declined, share of answerable questions declined)."""
    null = [declined(p, floor) for ok, p in rows if not ok]
    good = [declined(p, floor) for ok, p in rows if ok]
    return sum(null) / max(len(null), 1), sum(good) / max(len(good), 1)


def small_archives(store: Path, records: list[dict], questions: list[dict], n: int) -> Rows:
    """Signals in 6-article stores: (True, an answerable question over its gold articles and
    the articles the full store ranks next for it) and (False, a no-evidence question over
    the 6 articles the full store ranks first for it). See the module docstring."""
    from core.store import open_store
    from ingest.pipeline import Ingestor
    from ingest.sources import expand

    big = open_searcher(Settings(_env_file=None, chroma_path=store))
    embedder = big.embedder
    texts = {r["id"]: r for r in records}
    rows: Rows = []
    answerable = [q for q in questions if q.get("evidence_doc_ids")]
    unanswerable = [q for q in questions if not q.get("evidence_doc_ids")]
    jobs: list[tuple[dict, bool]] = []
    for q in answerable[:: max(len(answerable) // n, 1)][:n]:
        jobs.append((q, True))
        if not unanswerable:
            jobs.append((q, False))  # the same question without its own documents
    jobs += [(q, False) for q in unanswerable[:: max(len(unanswerable) // n, 1)][:n]]
    for q, with_gold in jobs:
        gold = [d for d in q.get("evidence_doc_ids") or [] if d in texts][:2] if with_gold else []
        # RGB names each question's own documents (answers and noise) "<question id>-...".
        own = f"{q['id']}-"
        ranked = big.search(parse_query(q["question"]), k=30).passages
        others = [
            d
            for d in dict.fromkeys(p.doc_id for p in ranked)
            if d not in (q.get("evidence_doc_ids") or []) and not d.startswith(own)
        ]
        docs = gold + others[: 6 - len(gold)]
        with tempfile.TemporaryDirectory(prefix="floor-small-") as tmp:
            folder = Path(tmp)
            corpus = folder / "archive.jsonl"
            corpus.write_text("".join(json.dumps(texts[d]) + "\n" for d in docs), encoding="utf-8")
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None, chroma_path=folder / "chroma", index_path=folder / "index"
            )
            writer = open_store(settings.store, embedder.name, embedder.dim)
            Ingestor(writer, embedder).run(expand([str(corpus)], settings.ingest))
            writer.close()
            searcher = open_searcher(settings)
            found = searcher.search(parse_query(q["question"]), k=PASSAGES)
            signals_ = [relevance(p, found.query_terms, searcher.idf) for p in found.passages]
            searcher.close()
            rows.append((with_gold, signals_))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--signals", type=Path, help="cache the per-question signals here")
    parser.add_argument("--small", type=int, help="measure N pairs of 6-article stores")
    args = parser.parse_args()
    require_inputs(args.corpus, args.questions)
    with tempfile.TemporaryDirectory(prefix="floor-") as tmp:  # no .env in the way
        run_cli(["ingest", "--quiet", str(args.corpus.resolve())], args.store, Path(tmp), (0, 1))
    questions = read_jsonl(args.questions)
    started = time.perf_counter()
    if args.signals and args.signals.exists():
        rows = [
            (ok, [tuple(p) for p in pairs]) for ok, pairs in json.loads(args.signals.read_text())
        ]
    else:
        if args.small:
            records = read_jsonl(args.corpus)
            rows = small_archives(args.store, records, questions, args.small)
        else:
            rows = signals(args.store, questions)
        if args.signals:
            args.signals.write_text(json.dumps(rows))
    n_null = sum(1 for ok, _ in rows if not ok)
    what = "in near-miss stores" if args.small else "without an answer in the corpus"
    print(f"{len(rows)} questions ({n_null} {what}), in {time.perf_counter() - started:.0f} s\n")
    print_grid(rows)
    return 0


def print_grid(rows: Rows) -> None:
    """Declines of the current floor, of the floor before the missing-word rule, and of the
    rule at a grid of its two settings."""
    print("| missing gate | distinct threshold | no-answer declined | answerable declined |")
    print("|---|---|---|---|")
    current = Floor()
    grid = [(1.01, 0.0, "(no rule: the floor before)")]
    grid += [(current.missing_gate, current.distinct_threshold, "(current)")]
    grid += [(m, t, "") for m in (0.15, 0.2, 0.25, 0.3) for t in (0.9, 1.0, 1.1, 1.2)]
    for gate, threshold, note in grid:
        floor = Floor(missing_gate=gate, distinct_threshold=threshold)
        null_rate, good_rate = rates(rows, floor)
        print(f"| {gate} | {threshold} {note} | {null_rate:.3f} | {good_rate:.3f} |")


if __name__ == "__main__":
    sys.exit(main())
