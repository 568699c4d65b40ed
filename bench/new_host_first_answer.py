"""New host: how long until a bot with no local index answers its first question.

    .venv/bin/python -m bench.new_host_first_answer --store /tmp/copy-of-a-store [--question "..."]

Runs in this process, as `bot` opens the archive (`bot.answerer.ArchiveAnswerer`), each
time over a fresh INDEX_PATH (a new host): once building the local index first (today's
`ask`, and the bot before issue 24), once answering while it builds (the bot now). Reports
for each the time from start to the first answer (wall and CPU), which search gave it,
and, for the second, when the full hybrid search took over. Works on a copy: it only
reads the store, but writes an index folder next to nothing of the store's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bot.answerer import ArchiveAnswerer
from core.settings import Settings

QUESTION = "Who won the election?"


def first_answer(store: Path, index: Path, question: str, background: bool) -> dict:
    """Seconds from start to the first answer, and to the hybrid search, on a new host."""
    settings = Settings(_env_file=None, chroma_path=store, index_path=index)  # type: ignore[call-arg]
    wall, cpu = time.perf_counter(), time.process_time()
    answerer = ArchiveAnswerer(settings)
    try:
        answerer.warm(build_in_background=background)
        answer = answerer(question)
        got = {
            "first_answer_s": round(time.perf_counter() - wall, 2),
            "first_answer_cpu_s": round(time.process_time() - cpu, 2),
            "search": answerer.search,
            "passages": len(answer.passages),
        }
        while answerer.search != "hybrid":
            time.sleep(0.1)
        got["hybrid_s"] = round(time.perf_counter() - wall, 2)
        got["chunks"] = answerer.searcher().summary().chunks
        return got
    finally:
        answerer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.new_host_first_answer", description=__doc__)
    parser.add_argument("--store", type=Path, required=True, help="an embedded store (a copy)")
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        for background in (False, True):
            index = Path(work) / ("background" if background else "first")
            row = first_answer(args.store, index, args.question, background)
            mode = "answer while building" if background else "build first"
            print(json.dumps({"mode": mode, **row}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
