"""Error analysis of a `bench/retrieval.py --out` file: the questions a pipeline ranks badly.

    .venv/bin/python -m bench.misses /tmp/bench-results/realtimeqa.jsonl [--pipeline ours]
        [--worse-than 1]

Prints, per question whose first gold document is not within `--worse-than` (default 1,
i.e. every question not answered by the first document), the question, the gold title, the
rank we gave it, what we ranked first, and the textbook pipeline's rank for comparison.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def rank_text(rank: int | None) -> str:
    """A rank for people: '>10' when the document is not in the top 10."""
    return ">10" if rank is None else str(rank)


def describe(row: dict[str, Any], pipeline: str, other: str | None) -> str:
    """A few lines on one badly ranked question."""
    mine = row[pipeline]
    first = mine["top"][0] if mine.get("top") else {"title": "(nothing)", "doc_id": "-"}
    gold = "; ".join(g["title"] or g["doc_id"] for g in row["gold"])
    lines = [
        f"- [{row['id']}] {row['question']}  (asked {row.get('question_date') or '-'}; "
        f"answer: {row.get('answer')})",
        f"    gold: {gold}",
        f"    {pipeline}: gold at rank {rank_text(mine['rank'])}; first: {first['title']!r}"
        f" ({first['doc_id']}); ans@5 {mine.get('ans@5')}",
    ]
    if other and other in row:
        lines.append(f"    {other}: gold at rank {rank_text(row[other]['rank'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Questions a pipeline ranks badly.")
    parser.add_argument("results", type=Path, help="a retrieval.py --out file")
    parser.add_argument("--pipeline", default="ours", choices=["ours", "textbook"])
    parser.add_argument("--worse-than", type=int, default=1, help="show gold ranks above this")
    args = parser.parse_args(argv)
    other = "textbook" if args.pipeline == "ours" else "ours"
    with args.results.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    shown = 0
    for row in rows:
        rank = row[args.pipeline]["rank"]
        if not row["gold"] or (rank is not None and rank <= args.worse_than):
            continue
        print(describe(row, args.pipeline, other))
        shown += 1
    scored = sum(1 for r in rows if r["gold"])
    print(f"\n{shown} of {scored} questions have their gold document below rank {args.worse_than}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
