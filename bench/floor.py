"""Calibrate the relevance floor: decline questions with no answer, keep the answerable.

    .venv/bin/python bench/floor.py --corpus ../shared/eval/multihop-rag-evidence.corpus.jsonl \\
        --questions ../shared/eval/multihop-rag-evidence.questions.jsonl --store DIR

Ingests the corpus into DIR (idempotent: unchanged articles cost nothing), searches every
question, and records for each its best passage's two floor signals (cosine similarity and
IDF-weighted coverage of the question's words). Questions without `evidence_doc_ids`
(MultiHop-RAG's `null_query`, "Insufficient information") should be declined; the others
answered. Prints, for a grid of floors and for the floor in `core/answer.py`, how many of
each are declined, in the same run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import read_jsonl, require_inputs  # noqa: E402
from core.answer import Floor, relevance  # noqa: E402
from core.query import parse_query  # noqa: E402
from core.service import open_searcher  # noqa: E402
from core.settings import Settings  # noqa: E402

PASSAGES = 3


def signals(store: Path, questions: list[dict]) -> list[tuple[bool, list[tuple[float, float]]]]:
    """(answerable, [(similarity, coverage) of each top passage]) per question."""
    searcher = open_searcher(Settings(_env_file=None, chroma_path=store))
    idf = searcher.idf
    out = []
    for q in questions:
        ranked = searcher.search(parse_query(q["question"]), k=PASSAGES)
        pairs = [relevance(p, ranked.query_terms, idf) for p in ranked.passages]
        out.append((bool(q.get("evidence_doc_ids")), pairs))
    return out


def declined(pairs: list[tuple[float, float]], floor: Floor) -> bool:
    """True when no top passage clears the floor (the answer would be declined)."""
    return not any(floor.admits(sim, cov) for sim, cov in pairs)


Rows = list[tuple[bool, list[tuple[float, float]]]]


def rates(rows: Rows, floor: Floor) -> tuple[float, float]:
    """(share of no-answer questions declined, share of answerable questions declined)."""
    null = [declined(p, floor) for ok, p in rows if not ok]
    good = [declined(p, floor) for ok, p in rows if ok]
    return sum(null) / max(len(null), 1), sum(good) / max(len(good), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--signals", type=Path, help="cache the per-question signals here")
    args = parser.parse_args()
    require_inputs(args.corpus, args.questions)
    env = {"CHROMA_PATH": str(args.store), "PATH": str(Path(sys.executable).parent)}
    subprocess.run(
        [str(Path(sys.executable).with_name("ingest")), "--quiet", str(args.corpus)],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    questions = read_jsonl(args.questions)
    started = time.perf_counter()
    if args.signals and args.signals.exists():
        rows = [
            (ok, [tuple(p) for p in pairs]) for ok, pairs in json.loads(args.signals.read_text())
        ]
    else:
        rows = signals(args.store, questions)
        if args.signals:
            args.signals.write_text(json.dumps(rows))
    n_null = sum(1 for ok, _ in rows if not ok)
    print(
        f"{len(rows)} questions ({n_null} without an answer in the corpus), "
        f"searched in {time.perf_counter() - started:.0f} s\n"
    )
    print("| threshold | coverage weight | no-answer declined | answerable declined |")
    print("|---|---|---|---|")
    current = Floor()
    results = []
    for threshold, weight in itertools.product(
        [t / 100 for t in range(35, 81)], [0.0, 0.5, 1.0, 1.5]
    ):
        floor = Floor(threshold, weight, current.rescue_similarity, current.rescue_coverage)
        results.append((floor, *rates(rows, floor)))
    # Best first: most no-answer questions declined among floors declining few answerable.
    for limit in (0.03, 0.05):
        fitting = [r for r in results if r[2] <= limit]
        fitting.sort(key=lambda r: (-r[1], r[2]))
        results_shown = fitting[:3]
        for floor, null_rate, good_rate in results_shown:
            print(
                f"| {floor.threshold} | {floor.coverage_weight} | {null_rate:.3f} | "
                f"{good_rate:.3f} (best at <= {limit:.0%}) |"
            )
    null_rate, good_rate = rates(rows, current)
    print(
        f"| {current.threshold} (current) | {current.coverage_weight} | {null_rate:.3f} | "
        f"{good_rate:.3f} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
