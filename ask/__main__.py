"""`ask`: answer a question from the terminal, as the Slack bot would, or a batch as JSON.

`ask --batch FILE.jsonl --json` reads `{"id", "question"}` lines (optionally `asked_at`,
an ISO date for "this week") and prints one JSON line per question:
`{"id", "question", "answer", "passages": [{"doc_id", "title", "url", "source",
"published_at", "modified_at", "chunk_index", "text", "score"}]}`, passages best first, and with
ANSWER_MODEL set (and no --extractive) the `"written"` answer, as for one question. A line
that cannot be asked (not UTF-8, not JSON, no question) gets `{"id", "line", "answer": null,
"passages": [], "error"}` and the rest of the batch is still answered (exit code 1).
Benchmarks read this contract: keep it stable.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from buildtools.onnx import ensure_encoder
from core.answer.compose import answer_question
from core.answer.shown import passage_byline
from core.console import console_script
from core.errors import NewsroomError
from core.language.text import counted, has_lone_surrogate, printable
from core.models import Answer, Passage
from core.search.searcher import Searcher
from core.service import open_searcher
from core.settings import Settings, load_settings

if TYPE_CHECKING:
    from core.written.writer import Writer

# Characters json.dumps(ensure_ascii=False) leaves raw that a terminal acts on (C1, DEL,
# bidi controls) or that no UTF-8 stream can carry (lone surrogates); they can only occur
# inside strings, where a \uNNNN escape is valid JSON.
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def dump_json(value: Any, indent: int | None = None) -> str:
    """JSON for a terminal or a pipe: UTF-8 text, but no raw control characters."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


CONSIDERED = 10
_BOLD_ON, _BOLD_OFF = "\ue000", "\ue001"


def passage_json(passage: Passage) -> dict[str, Any]:
    """One passage in the `--json` contract."""
    return {
        "doc_id": passage.doc_id,
        "title": passage.title,
        "url": passage.url or passage.path,
        "source": passage.source,
        "published_at": passage.published_at,
        "modified_at": passage.modified_at,
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
        "answer_span": list(answer.lead_answer) if answer.lead_answer else None,
        "passages": [passage_json(p) for p in answer.considered],
        "notes": answer.notes,
    }
    if answer.written is not None:  # citations [n] number `answer.passages`, not these
        from ask.written import written_json

        data["written"] = written_json(answer.written)
    return data


def render_text(answer: Answer, bold: bool = False) -> str:
    """An answer as a person reads it in a terminal: no control character of an article
    gets through (`bold`: the answer in the lead in the terminal's bold, our only escape)."""
    text = printable(_render_lines(answer, bold))
    return text.replace(_BOLD_ON, "\033[1m").replace(_BOLD_OFF, "\033[0m")


def _render_lines(answer: Answer, bold: bool) -> str:
    lines: list[str] = [f"Q: {answer.question}", ""]
    lines += [f"Note: {n}" for n in answer.notes]
    if answer.lead is None or answer.lead_passage is None:
        lines.append(render_nothing(answer))
        return "\n".join(lines)
    if answer.written is not None:
        from ask.written import render_written

        # a model's text must not carry our bold markers either
        lines += [_unmarked(line) for line in render_written(answer.written)]
    lines.append(_quoted_lead(answer.lead, answer.lead_answer if bold else None))
    lead = answer.lead_passage
    lines.append(f"  — {passage_byline(lead, iso=True)}" + (f"  {lead.link}" if lead.link else ""))
    lines += ["", "Passages:"]
    for i, p in enumerate(answer.passages, 1):
        lines.append(f"{i}. {passage_byline(p, iso=True)}")
        if p.link:
            lines.append(f"   {p.link}")
        lines.append(textwrap.indent(textwrap.fill(" ".join(p.text.split()), width=84), "   > "))
        lines.append("")
    return "\n".join(lines).rstrip()


def _quoted_lead(lead: str, answer: tuple[int, int] | None) -> str:
    """The lead in quotes, wrapped; the answer span between bold markers when given (the
    markers are private-use characters, turned into the terminal's bold after everything
    else was made printable)."""
    if answer is None:
        return textwrap.fill(f"“{lead}”", width=88)
    start, end = answer
    parts = [lead[:start], lead[start:end], lead[end:]]
    parts = [_unmarked(p) for p in parts]
    marked = f"{parts[0]}{_BOLD_ON}{parts[1]}{_BOLD_OFF}{parts[2]}"
    return textwrap.fill(f"“{marked}”", width=88)


def _unmarked(text: str) -> str:
    """The text without the private-use characters that stand for bold."""
    return text.replace(_BOLD_ON, "").replace(_BOLD_OFF, "")


def render_nothing(answer: Answer) -> str:
    """The honest reply when nothing relevant is stored."""
    summary = answer.summary
    if summary is None or summary.articles == 0:
        return "The archive is empty. Add articles with `ingest PATH_OR_URL`, then ask again."
    span = ""
    if summary.oldest:
        span = f", published {summary.oldest} to {summary.newest}"
    return (
        f"I found nothing relevant to that among {counted(summary.articles, 'article')}{span}. "
        "Try other words, or add articles with `ingest PATH_OR_URL`."
    )


class _BadLine(ValueError):
    """One line of a batch that cannot be asked; the message says why."""

    def __init__(self, message: str, record_id: Any = None):
        super().__init__(message)
        self.record_id = record_id


def error_json(line: int, message: str, record_id: Any = None) -> dict[str, Any]:
    """The `--json` entry for a batch line that could not be asked: no answer, a reason."""
    return {
        "id": record_id,
        "line": line,
        "question": None,
        "answer": None,
        "passages": [],
        "notes": [],
        "error": message,
    }


def _batch(
    searcher: Searcher, path: str, k: int, max_chars: int, writer: Writer | None = None
) -> int:
    """Answer every line (with a written answer when `writer` is given); a line that cannot
    be asked gets an error entry, the rest go on."""
    failures = 0
    with _open_batch(path) as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                record, question = _batch_question(raw, f"{path} line {number}")
            except _BadLine as exc:
                failures += 1
                print(f"ask: {exc}", file=sys.stderr)
                print(dump_json(error_json(number, str(exc), exc.record_id)), flush=True)
                continue
            now = _asked_at(record.get("asked_at"))
            answer = answer_question(
                question, searcher, k=k, considered=max(CONSIDERED, k), max_chars=max_chars, now=now
            )
            if writer is not None:
                _write(answer, writer, question)
            print(dump_json(answer_json(answer, record.get("id"))), flush=True)
    return 1 if failures else 0


def _open_writer(settings: Settings) -> Writer:
    """The writer ANSWER_MODEL configures (LangChain is imported only then).

    Raises:
        ConfigError: ANSWER_MODEL cannot be set up; the message says what to do.
    """
    from core.written.writer import Writer

    return Writer.from_settings(settings.answers)


def _write(answer: Answer, writer: Writer, question: str) -> None:
    from core.written.writer import attach_written

    attach_written(answer, writer, question)


def _open_batch(path: str) -> BinaryIO:
    """The batch as bytes: each line is decoded on its own, so one bad line fails alone."""
    return sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115


def _batch_question(raw: bytes, where: str) -> tuple[dict[str, Any], str]:
    """The record of one batch line and its question."""
    try:
        record = json.loads(raw.decode("utf-8-sig"))  # a byte-order mark may open the file
    except UnicodeDecodeError as exc:
        raise _BadLine(f"{where}: not UTF-8; save the file as UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise _BadLine(f'{where}: needs {{"id", "question"}} ({exc})') from exc
    except RecursionError as exc:
        raise _BadLine(f"{where}: the JSON is nested too deeply") from exc
    if not isinstance(record, dict) or not isinstance(record.get("question"), str | int | float):
        raise _BadLine(f'{where}: needs {{"id", "question"}} with the question as text')
    question = str(record["question"])
    if not question.strip():
        raise _BadLine(f"{where}: the question is empty", record.get("id"))
    if has_lone_surrogate(question):
        raise _BadLine(
            f"{where}: the question holds a broken character (a lone UTF-16 surrogate, such "
            "as half an emoji); fix its encoding",
            record.get("id"),
        )
    return record, question


def _asked_at(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@console_script("ask")
def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ask` console script."""
    parser = argparse.ArgumentParser(prog="ask", description="Answer a question from the archive.")
    parser.add_argument("question", nargs="?", help="the question, in quotes")
    parser.add_argument("--k", type=int, default=None, help="passages to show as text (default 5)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print JSON instead of text: every passage considered, best first; "
        '"answer": null when nothing relevant is stored',
    )
    parser.add_argument("--batch", metavar="FILE.jsonl", help="answer {id, question} lines")
    parser.add_argument("--collection", help="collection name (default: COLLECTION or 'news')")
    parser.add_argument(
        "--extractive", action="store_true", help="quote only, even when ANSWER_MODEL is set"
    )
    args = parser.parse_args(argv)
    if args.k is not None and args.k < 1:
        parser.error("--k must be 1 or more")
    if not args.question and not args.batch:
        parser.print_usage(sys.stderr)
        print('ask: give a question in quotes, e.g. ask "who was Cienfuegos?"', file=sys.stderr)
        return 2
    if args.question and has_lone_surrogate(args.question):
        print(
            "ask: the question is not valid UTF-8; check your terminal's encoding "
            "(for example LANG=C.UTF-8)",
            file=sys.stderr,
        )
        return 2
    searcher: Searcher | None = None
    try:
        settings = load_settings(**({"collection": args.collection} if args.collection else {}))
        k = args.k or settings.answer_passages
        # One question or a batch: the same model, checked before anything is asked.
        writer = _open_writer(settings) if settings.writes_answers and not args.extractive else None
        ensure_encoder(settings.encoder)  # built on first use unless `make install` did
        searcher = open_searcher(settings)
        if args.batch:
            return _batch(searcher, args.batch, k, settings.max_question_chars, writer)
        answer = answer_question(
            args.question,
            searcher,
            k=k,
            considered=max(CONSIDERED, k),
            max_chars=settings.max_question_chars,
        )
        if writer is not None:
            _write(answer, writer, args.question)
    except NewsroomError as exc:
        print(f"ask: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise  # the reader of a batch's output went away: see console_script
    except OSError as exc:
        print(f"ask: {exc}", file=sys.stderr)
        return 2
    finally:
        if searcher is not None:
            searcher.close()
    if args.json:
        print(dump_json(answer_json(answer), indent=2))
    else:
        print(render_text(answer, bold=sys.stdout.isatty()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
