"""`ask`: answer a question from the terminal, as the Slack bot would, or a batch as JSON.

`ask --batch FILE.jsonl --json` reads `{"id", "question"}` lines (optionally `asked_at`,
an ISO date for "this week") and prints one JSON line per question:
`{"id", "question", "answer", "passages": [{"doc_id", "title", "url", "source",
"published_at", "chunk_index", "text", "score"}]}`, passages best first. Benchmarks read
this contract: keep it stable.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from datetime import UTC, datetime
from typing import Any

from core.answer import answer_question
from core.errors import NewsroomError
from core.models import Answer, Passage
from core.search import Searcher
from core.service import open_searcher
from core.settings import load_settings

CONSIDERED = 10


def passage_json(passage: Passage) -> dict[str, Any]:
    """One passage in the `--json` contract."""
    return {
        "doc_id": passage.doc_id,
        "title": passage.title,
        "url": passage.url or passage.path,
        "source": passage.source,
        "published_at": passage.published_at,
        "chunk_index": passage.chunk_index,
        "text": passage.text,
        "score": round(passage.score, 6),
        "similarity": round(passage.similarity, 4),
    }


def answer_json(answer: Answer, question_id: Any = None) -> dict[str, Any]:
    """An answer in the `--json` contract (passages: every one considered, best first)."""
    data = {
        "id": question_id,
        "question": answer.question,
        "answer": answer.lead,
        "passages": [passage_json(p) for p in answer.considered],
        "notes": answer.notes,
    }
    if answer.written is not None:  # citations [n] number `answer.passages`, not these
        from core.ask_written import written_json

        data["written"] = written_json(answer.written)
    return data


def _byline(p: Passage) -> str:
    parts = [p.title or "(untitled)"]
    parts += [x for x in (p.source, (p.published_at or "")[:10]) if x]
    return ", ".join(parts)


def render_text(answer: Answer) -> str:
    """An answer as a person reads it in a terminal."""
    lines: list[str] = [f"Q: {answer.question}", ""]
    lines += [f"Note: {n}" for n in answer.notes]
    if not answer.found or answer.lead_passage is None:
        lines.append(render_nothing(answer))
        return "\n".join(lines)
    if answer.written is not None:
        from core.ask_written import render_written

        lines += render_written(answer.written)
    lines.append(textwrap.fill(f"“{answer.lead}”", width=88))
    lead = answer.lead_passage
    lines.append(f"  — {_byline(lead)}" + (f"  {lead.link}" if lead.link else ""))
    lines += ["", "Passages:"]
    for i, p in enumerate(answer.passages, 1):
        lines.append(f"{i}. {_byline(p)}")
        if p.link:
            lines.append(f"   {p.link}")
        lines.append(textwrap.indent(textwrap.fill(" ".join(p.text.split()), width=84), "   > "))
        lines.append("")
    return "\n".join(lines).rstrip()


def render_nothing(answer: Answer) -> str:
    """The honest reply when nothing relevant is stored."""
    summary = answer.summary
    if summary is None or summary.articles == 0:
        return "The archive is empty. Add articles with `ingest PATH_OR_URL`, then ask again."
    span = ""
    if summary.oldest:
        span = f", published {summary.oldest} to {summary.newest}"
    return (
        f"I found nothing relevant to that among {summary.articles} articles{span}. "
        "Try other words, or add articles with `ingest PATH_OR_URL`."
    )


def _batch(searcher: Searcher, path: str, k: int, max_chars: int) -> int:
    handle = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    failures = 0
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                question = str(record["question"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                print(
                    f'ask: {path} line {number}: needs {{"id", "question"}} ({exc})',
                    file=sys.stderr,
                )
                failures += 1
                continue
            now = _asked_at(record.get("asked_at"))
            answer = answer_question(
                question, searcher, k=k, considered=max(CONSIDERED, k), max_chars=max_chars, now=now
            )
            print(json.dumps(answer_json(answer, record.get("id")), ensure_ascii=False), flush=True)
    return 1 if failures else 0


def _asked_at(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ask` console script."""
    parser = argparse.ArgumentParser(prog="ask", description="Answer a question from the archive.")
    parser.add_argument("question", nargs="?", help="the question, in quotes")
    parser.add_argument("--k", type=int, default=None, help="passages to show (default 5)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--batch", metavar="FILE.jsonl", help="answer {id, question} lines")
    parser.add_argument("--collection", help="collection name (default: COLLECTION or 'news')")
    parser.add_argument(
        "--extractive", action="store_true", help="quote only, even when ANSWER_MODEL is set"
    )
    args = parser.parse_args(argv)
    if not args.question and not args.batch:
        parser.print_usage(sys.stderr)
        print('ask: give a question in quotes, e.g. ask "who was Cienfuegos?"', file=sys.stderr)
        return 2
    try:
        settings = load_settings(**({"collection": args.collection} if args.collection else {}))
        k = args.k or settings.answer_passages
        searcher = open_searcher(settings)
        if args.batch:
            return _batch(searcher, args.batch, k, settings.max_question_chars)
        answer = answer_question(
            args.question,
            searcher,
            k=k,
            considered=max(CONSIDERED, k),
            max_chars=settings.max_question_chars,
        )
        if settings.writes_answers and not args.extractive:
            from core.ask_written import write_answer  # LangChain only when configured

            write_answer(answer, settings, args.question)
    except NewsroomError as exc:
        print(f"ask: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"ask: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
    else:
        print(render_text(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
