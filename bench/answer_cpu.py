"""CPU time per question of the answer path, in one process, on a store already built:
`answer_question`, the relevance floor inside it (10 ranked passages), and rendering the
answer for Slack and the terminal.

    ingest --quiet CORPUS.jsonl            # with CHROMA_PATH=DIR (once)
    python -m bench.answer_cpu --store DIR --questions QUESTIONS.jsonl [--runs 5]

Each figure is the median over `--runs` passes of the per-question mean (`process_time`),
after one warm-up pass. IDF is looked up once before the floor is timed, so the floor's
figure is its own text work. Run it on two trees against the same store to compare.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ask.__main__ import render_text
from bot.render import render_answer
from core.answer.compose import answer_question, relevance
from core.search.query import parse_query
from core.service import open_searcher
from core.settings import Settings

NOW = datetime(2024, 1, 1)


def _median_ms(runs: int, count: int, work: Callable[[], None]) -> float:
    work()
    means = []
    for _ in range(runs):
        started = time.process_time()
        work()
        means.append((time.process_time() - started) / count * 1000)
    return statistics.median(means)


def main() -> None:
    """Print the three figures, one a line."""
    parser = argparse.ArgumentParser(description="CPU per question of the answer path.")
    parser.add_argument("--store", type=Path, required=True, help="CHROMA_PATH of a built store")
    parser.add_argument("--questions", type=Path, required=True, help="NAME.questions.jsonl")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    settings = Settings(_env_file=None, chroma_path=args.store)  # type: ignore[call-arg]
    lines = args.questions.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    searcher = open_searcher(settings)
    try:
        answers = [answer_question(q, searcher, now=NOW) for q in questions]
        ranked = [searcher.search(parse_query(q, NOW), k=10) for q in questions]
        idf = {t: searcher.idf(t) for r in ranked for t in [*r.query_terms, "  "]}

        def answer_all() -> None:
            for question in questions:
                answer_question(question, searcher, now=NOW)

        def floor_all() -> None:
            for found in ranked:
                for passage in found.passages:
                    relevance(passage, found.query_terms, idf.__getitem__)

        def render_all() -> None:
            for answer in answers:
                render_answer(answer, "A1")
                render_text(answer)

        n = len(questions)
        print(f"answer_question  {_median_ms(args.runs, n, answer_all):8.2f} ms CPU/question")
        print(f"floor (10 pass.) {_median_ms(args.runs, n, floor_all):8.3f} ms CPU/question")
        print(f"render Slack+cli {_median_ms(args.runs, n, render_all):8.3f} ms CPU/question")
    finally:
        searcher.close()


if __name__ == "__main__":
    main()
