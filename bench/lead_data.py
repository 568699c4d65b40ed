"""Candidate leads of every dev question, with their features and labels, for the ranker.

    .venv/bin/python bench/lead_data.py --set realtimeqa --store /tmp/lead-stores/realtimeqa-ours \
        --out /tmp/lead-work/realtimeqa.pkl [--eval ../shared/eval] [--limit N]

Runs what `answer_question` runs up to the lead (query parsing with the question's date,
search, relevance floor) on an existing store (the store is not written), then builds the
candidate pool of `core.lead` from the first `--passages` relevant passages and embeds every
candidate (training may then try any number of finalists). A candidate's label is whether
it holds the gold answer (whole words, normalised as in bench/metrics.py); so is the
label of its window with each neighbour. Yes/no and no-evidence questions are left out:
a substring test cannot tell whether a sentence says yes. Output: a pickle of one record
per question (the data stays in /tmp; nothing of the dev sets goes into the repository).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from bench.common import log, read_jsonl  # noqa: E402
from bench.metrics import contains_answer, gold_answers  # noqa: E402

PASSAGES = 8


def question_record(question: dict[str, Any], searcher: Any, passages: int) -> dict[str, Any]:
    """The pool of one question: features, similarities, labels, and what spans offer."""
    from core.answer import Floor, _is_relevant
    from core.lead import build_pool
    from core.query import parse_query

    answers = gold_answers(question)
    date = question.get("question_date")
    now = datetime.fromisoformat(date).replace(tzinfo=UTC) if date else None
    query = parse_query(" ".join(question["question"].split()), now)
    ranked = searcher.search(query, k=10)
    floor = Floor()
    relevant = [
        p for p in ranked.passages if _is_relevant(p, ranked.query_terms, searcher.idf, floor)
    ]
    used = relevant[:passages]
    pool = build_pool(query.text, ranked.query_terms, used, searcher.idf)
    texts = [s.span.text for s in pool.sentences]
    sims = searcher.embedder.encode(texts) @ ranked.query_vector if texts else []
    where = {(s.passage, s.index): i for i, s in enumerate(pool.sentences)}
    windows = []
    for s in pool.sentences:
        spans = pool.spans[s.passage]
        pair = {}
        for step in (-1, 1):
            j = where.get((s.passage, s.index + step))
            if j is not None:
                a, b = sorted([spans[s.index], spans[s.index + step]], key=lambda x: x.start)
                text = used[s.passage].text[a.start : b.end]
                pair[step] = (j, contains_answer([text], answers, words=True), len(text))
        windows.append(pair)
    return {
        "id": question["id"],
        "group": question.get("question_date") or answers[0],  # a week of news, or an answer
        "kind": str(pool.kind),
        "features": pool.features,
        "similarity": sims,
        "label": [contains_answer([t], answers, words=True) for t in texts],
        "label_substring": [contains_answer([t], answers) for t in texts],
        "chars": [len(t) for t in texts],
        "passage": [s.passage for s in pool.sentences],
        "windows": windows,
        "span_ok": [
            bool(s.matches) and _span_ok(s.matches[0].text, answers) for s in pool.sentences
        ],
        "has_match": [bool(s.matches) for s in pool.sentences],
        "relevant": len(relevant),
        "answers": answers,
    }


def _span_ok(span: str, answers: list[str]) -> bool:
    """The marked span is right when it is the answer, or holds it, or the answer holds it."""
    from bench.metrics import normalize

    said = normalize(span)
    return bool(said) and any(
        a == said or f" {a} " in f" {said} " or f" {said} " in f" {a} " for a in answers
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", required=True, help="dev set name, e.g. realtimeqa")
    parser.add_argument("--store", type=Path, required=True, help="a built store of that set")
    parser.add_argument("--eval", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--passages", type=int, default=PASSAGES)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args(argv)
    questions_file = args.eval / f"{args.set}.questions.jsonl"
    if not questions_file.exists():
        raise SystemExit(f"{questions_file} is missing: the dev sets live in ../shared/eval")
    from core.service import open_searcher
    from core.settings import Settings

    questions = [
        q for q in read_jsonl(questions_file) if q.get("evidence_doc_ids") and gold_answers(q)
    ][: args.limit]
    searcher = open_searcher(Settings(_env_file=None, chroma_path=args.store))  # type: ignore[call-arg]
    started = time.perf_counter()
    records = []
    for number, q in enumerate(questions, 1):
        records.append(question_record(q, searcher, args.passages))
        if number % 100 == 0:
            log(f"{args.set}: {number}/{len(questions)} in {time.perf_counter() - started:.0f} s")
    with args.out.open("wb") as handle:
        pickle.dump({"set": args.set, "records": records}, handle)
    seconds = time.perf_counter() - started
    log(f"{args.set}: {len(records)} questions in {seconds:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
