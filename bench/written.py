"""Written answers: what the verifier keeps from a real model, and what it lets through.

    .venv/bin/python -m bench.written --store /tmp/written-stores/realtimeqa-small-ours \
        --questions ../shared/eval/realtimeqa-small.questions.jsonl [--limit N] \
        [--model local:smollm2] [--out FILE.jsonl]

Two parts, on the same dev questions and the same passages `answer_question` picks:

1. **The real model.** Each question is answered as `ask` does (extractive answer, then the
   written one from its passages). Reported: the share of written sentences kept and
   removed (and why), the fallback rate (no sentence shown, and why), first-token and total
   latency, and a strict support check independent of the verifier: a kept sentence counts
   as supported when the normalized gold answer is in it *and* in a passage it cites. Also
   an independent scan of kept sentences for capitalised words and numbers that the cited
   passage does not contain verbatim.
2. **The hostile set.** Sentences built from those passages, with known truth: copied
   sentences citing their passage (must be kept: the "keeps nothing" failure), and the same
   with a number changed, an invented name, a name from another article, a citation to
   another article or to a passage not given (must be removed: the "keeps invented text"
   failure; target 0 shown).

The store is only read; point --store at a copy (never at a shared original). The report
(Markdown) goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import (
    asked_at,
    log,
    machine,
    markdown_table,
    percentile,
    read_jsonl,
    revision,
    write_jsonl,
)
from bench.metrics import gold_answers, normalize
from core.answer.compose import answer_question
from core.language.text import split_sentences
from core.models import WrittenSentence
from core.service import open_searcher
from core.settings import load_settings
from core.written.prompt import sources_from_passages
from core.written.verify import Source, verify
from core.written.writer import Writer

INVENTED_NAMES = ["Haraldsen", "Okonkwo-Vietti", "Brzezinska", "Quillfeather", "Marchetti-Ruiz"]
KINDS = [
    "changed number",
    "invented name",
    "name from another article",
    "cites another article",
    "cites a passage not given",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a copy of a dev store")
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--model", default="local:smollm2", help="ANSWER_MODEL to bench")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--out", type=Path, help="per-question records (JSON Lines)")
    args = parser.parse_args()
    settings = load_settings(
        _env_file=None,
        chroma_path=args.store,
        answer_model=args.model,
        answer_timeout=args.timeout,
    )
    questions = read_jsonl(args.questions, args.limit)
    searcher = open_searcher(settings)
    writer = Writer.from_settings(settings.answers)
    log(f"loading {writer.label}")
    writer.warm()
    rows = []
    hostile: list[tuple[str, bool, bool]] = []  # (kind, shown, has invented name/number)
    rng = random.Random(12)
    for number, question in enumerate(questions, 1):
        answer = answer_question(question["question"], searcher, now=asked_at(question))
        rows.append(_write(writer, question, answer))
        if answer.found:
            sources = sources_from_passages(answer.passages, question["question"])
            hostile += _hostile(sources, rng)
        log(f"{number}/{len(questions)}: {rows[-1]['kept']} kept, {rows[-1]['removed']} removed")
    if args.out:
        write_jsonl(args.out, rows)
    print(_report(args, writer.label, rows, hostile))
    return 0


def _write(writer: Writer, question: dict[str, Any], answer: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"id": question["id"], "found": answer.found, "kept": 0, "removed": 0}
    if not answer.found:
        return row
    sources = sources_from_passages(answer.passages, question["question"])
    written = writer.write_sources(question["question"], sources)
    golds = gold_answers(question)
    by_number = {s.number: s for s in sources}
    supported = [_supports(s, by_number, golds) for s in written.sentences]
    stray = [_stray_words(s, by_number) for s in written.sentences]
    row.update(
        kept=len(written.sentences),
        removed=written.removed,
        reasons=written.reasons,
        problem=written.problem,
        first_token=written.first_token_seconds,
        seconds=written.seconds,
        gold_supported=sum(supported),
        stray=[w for words in stray for w in words],
        gold_in_passages=any(g in normalize(s.text) for s in sources for g in golds),
    )
    return row


def _supports(sentence: WrittenSentence, sources: dict[int, Source], golds: list[str]) -> bool:
    """The strict check: the gold answer is in the sentence and in a passage it cites."""
    said = normalize(sentence.text)
    cited = [normalize(sources[n].text) for n in sentence.citations if n in sources]
    return any(g in said and any(g in c for c in cited) for g in golds)


def _stray_words(sentence: WrittenSentence, sources: dict[int, Source]) -> list[str]:
    """Capitalised words (after the first) and numbers missing verbatim from the cited
    passages and their bylines: a check that shares no code with the verifier."""
    cited = " ".join(
        f"{sources[n].title} {sources[n].outlet} {sources[n].published_at or ''} {sources[n].text}"
        for n in sentence.citations
        if n in sources
    )
    found = re.findall(r"\b(?:[A-Z][\w'.-]*|\d[\d,.]*)", sentence.text)[1:]
    return [w for w in (x.rstrip(".,'") for x in found) if w and w not in cited]


def _hostile(sources: list[Source], rng: random.Random) -> list[tuple[str, bool, bool]]:
    """Known-truth sentences from the passages and whether the verifier shows them."""
    out = []
    for source in sources[:3]:
        candidates = [s.text for s in split_sentences(source.text) if len(s.text.split()) >= 8]
        candidates = [c for c in candidates if not c.endswith("?")]
        if not candidates:
            continue
        sentence = rng.choice(candidates)
        out.append(
            ("copied, cites its passage", _shown(sentence, (source.number,), sources), False)
        )
        others = [s for s in sources if s.number != source.number]
        for kind in KINDS:
            made = _mutate(kind, sentence, source, others, len(sources), rng)
            if made is not None:
                text, citations = made
                out.append((kind, _shown(text, citations, sources), True))
    return out


def _shown(text: str, citations: tuple[int, ...], sources: list[Source]) -> bool:
    return verify(WrittenSentence(text, citations), sources).kept


def _mutate(
    kind: str,
    sentence: str,
    source: Source,
    others: list[Source],
    given: int,
    rng: random.Random,
) -> tuple[str, tuple[int, ...]] | None:
    here = (source.number,)
    if kind == "changed number":
        numbers = re.findall(r"\b\d[\d,]*\b", sentence)
        if numbers:
            old = rng.choice(numbers)
            new = str(int(old.replace(",", "")) + rng.randint(2, 9))
            if new in source.text:
                return None
            return re.sub(rf"\b{re.escape(old)}\b", new, sentence, count=1), here
        year = str(rng.randint(1950, 1990))
        return None if year in source.text else (f"{sentence.rstrip('.')} in {year}.", here)
    if kind == "invented name":
        name = rng.choice(INVENTED_NAMES)
        return f"{sentence.rstrip('.')}, {name} said.", here
    if kind == "name from another article":
        seen = source.byline_and_text.lower()
        names = {  # mid-sentence capitalised words of other articles, absent here in any case
            w
            for o in others
            for w in re.findall(r"(?<=[a-z,] )[A-Z][a-z]{3,}\b", o.text)
            if not re.search(rf"\b{w.lower()}\b", seen)
        }
        if not names:
            return None
        return f"{sentence.rstrip('.')}, {rng.choice(sorted(names))} said.", here
    if kind == "cites another article":
        specific = re.findall(r"(?<=[a-z,] )[A-Z][a-z]{3,}\b|\b\d[\d,]*\b", sentence)
        unsupported = [o for o in others if any(w not in f"{o.title} {o.text}" for w in specific)]
        return (sentence, (unsupported[0].number,)) if unsupported else None
    if kind == "cites a passage not given":
        return sentence, (given + 1,)
    raise ValueError(kind)


def _report(
    args: argparse.Namespace, label: str, rows: list[dict[str, Any]], hostile: list[Any]
) -> str:
    answered = [r for r in rows if r["found"]]
    kept = sum(r["kept"] for r in answered)
    removed = sum(r["removed"] for r in answered)
    written = kept + removed
    fallbacks = Counter(r.get("problem") or "shown" for r in answered if not r["kept"])
    reasons: Counter[str] = Counter()
    for r in answered:
        reasons.update(r.get("reasons") or {})
    firsts = [r["first_token"] for r in answered if r.get("first_token") is not None]
    totals = [r["seconds"] for r in answered]
    supported = sum(r["gold_supported"] for r in answered)
    with_gold = sum(1 for r in answered if r["gold_supported"])
    gold_reachable = sum(1 for r in answered if r["gold_in_passages"])
    stray = [w for r in answered for w in r["stray"]]
    lines = [
        f"# Written answers: {label}, {args.questions.name}",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, commit {revision()}; {machine()}",
        f"{len(rows)} questions, {len(answered)} with an extractive answer (the model is "
        "asked only then).",
        "",
        "## The real model",
        "",
        markdown_table(
            ["measure", "value"],
            [
                ["written sentences", str(written)],
                ["kept", f"{kept} ({_share(kept, written)})"],
                ["removed", f"{removed} ({_share(removed, written)})"],
                ["removed because", ", ".join(f"{k} {v}" for k, v in reasons.most_common())],
                [
                    "fallback rate (no sentence shown)",
                    f"{sum(fallbacks.values())}/{len(answered)} "
                    f"({_share(sum(fallbacks.values()), len(answered))})",
                ],
                ["fallbacks by reason", ", ".join(f"{k} {v}" for k, v in fallbacks.most_common())],
                ["first token, median / p90 (s)", _spread(firsts)],
                ["total, median / p90 (s)", _spread(totals)],
                [
                    "kept sentences with the gold answer in them and in a cited passage",
                    f"{supported}/{kept} ({_share(supported, kept)})",
                ],
                [
                    "questions with such a sentence / with the gold answer in the passages",
                    f"{with_gold}/{gold_reachable}",
                ],
                [
                    "kept sentences' names/numbers missing from the cited passage (independent)",
                    f"{len(stray)}" + (f": {', '.join(sorted(set(stray))[:12])}" if stray else ""),
                ],
            ],
        ),
        "",
        "## The hostile set (sentences of known truth, verified against the same passages)",
        "",
        markdown_table(
            ["sentence", "count", "shown", "target"],
            [
                [kind, str(n), f"{s} ({_share(s, n)})", "all" if not bad else "0"]
                for kind, n, s, bad in _by_kind(hostile)
            ],
        ),
    ]
    return "\n".join(lines)


def _by_kind(hostile: list[tuple[str, bool, bool]]) -> list[tuple[str, int, int, bool]]:
    kinds = ["copied, cites its passage", *KINDS]
    return [
        (
            kind,
            sum(1 for k, _, _ in hostile if k == kind),
            sum(1 for k, shown, _ in hostile if k == kind and shown),
            kind != kinds[0],
        )
        for kind in kinds
    ]


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{percentile(values, 50):.1f} / {percentile(values, 90):.1f}"


if __name__ == "__main__":
    sys.exit(main())
