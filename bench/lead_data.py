"""What the lead ranker sees for every dev question, saved once so features can be recomputed.

    .venv/bin/python -m bench.lead_data --set realtimeqa --store /tmp/lead2-stores/realtimeqa-ours \
        --out /tmp/lead2-work/realtimeqa.pkl [--eval ../shared/eval] [--limit N]

Runs what `answer_question` runs up to the lead (query parsing with the question's date,
search, relevance floor) on an existing store (the store is not written) and keeps the raw
material of the lead: the relevant passages, the query's terms, the IDF of every term the
passages hold, and the cosine to the question of every sentence of the first `--passages`
passages (so that training may embed any number of finalists). Features are computed from
this by `bench/train_lead.py` with `core.answer.lead`, so a changed feature costs no new search.
Yes/no and no-evidence questions are left out: a substring test cannot tell whether a
sentence says yes. Output: a pickle of one record per question (the data stays in /tmp;
nothing of the dev sets goes into the repository).
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, asked_at, log, read_jsonl, require_inputs
from bench.metrics import gold_answers

PASSAGES = 10


def question_record(question: dict[str, Any], searcher: Any, passages: int) -> dict[str, Any]:
    """The raw pool of one question: passages, terms, IDF, sentence similarities."""
    from core.answer.compose import Floor, _is_relevant
    from core.language.lexical import tokenize
    from core.language.text import split_sentences
    from core.models import Passage
    from core.search.query import parse_query

    answers = gold_answers(question)
    query = parse_query(" ".join(question["question"].split()), asked_at(question))
    ranked = searcher.search(query, k=10)
    floor = Floor()
    relevant: list[Passage] = [
        p for p in ranked.passages if _is_relevant(p, ranked.query_terms, searcher.idf, floor)
    ]
    used = relevant[:passages]
    texts = list(dict.fromkeys(s.text for p in used for s in split_sentences(p.text)))
    sims = searcher.embedder.encode(texts) @ ranked.query_vector if texts else []
    terms = set(ranked.query_terms) | {"  "}
    for p in used:
        terms |= set(tokenize(f"{p.title}\n{p.text}"))
    return {
        "id": question["id"],
        "group": question.get("question_date") or answers[0],  # a week of news, or an answer
        "question": query.text,
        "query_terms": list(ranked.query_terms),
        "passages": [dataclasses.asdict(p) for p in used],
        "idf": {t: searcher.idf(t) for t in terms},
        "similarity": {t: float(s) for t, s in zip(texts, sims, strict=True)},
        "relevant": len(relevant),
        "answers": answers,
    }


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
    require_inputs(questions_file)
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
    searcher.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
