"""The written-answer check on sentences of known truth: what it keeps, what it removes.

    .venv/bin/python -m bench.verify_check ../shared/eval/realtimeqa-small.corpus.jsonl \
        ../shared/eval/multihop-rag-evidence-small.corpus.jsonl [--docs 150] \
        [--against 83b79f4] [--sweep] [--show 10] [--kind KIND]

No model is involved. Each document is cut into passages of six sentences (about what the
prompt shows of a chunk), each shown with its title, outlet and date as the prompt shows
them. Every sentence of a passage (four to sixty words) is a **correct** written sentence
when it cites its own passage: copied with the citation first (as the prompt asks) and
after the full stop, and lightly reworded (attribution dropped, first clause only, a figure
written in words, "said" as "noted"). **Planted errors** are derived mechanically from the
same sentences: a number changed (in digits, or in words of another number), two numbers
swapped, a negation inserted or removed, a capitalised name replaced by one the passage
lacks, a link or e-mail address added, a lower-case name added, the verb replaced by
another (from a list, or from elsewhere in the same passage).

Reported per kind: the share kept (correct sentences: want all) or removed (errors: want
all), for this tree's `core/written/verify.py` and for `--against REV`'s (loaded from git). With
`--sweep`, the same for other values of `COMMON_ZIPF`. The report (Markdown) goes to
stdout, progress to stderr; `--show N` also prints N correct sentences the old check kept
and this one removes (all kinds, or `--kind`'s).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.common import ROOT, log, machine, markdown_table, read_jsonl, revision
from core.language.text import split_sentences
from core.written import verify as current

PASSAGE_SENTENCES = 6
INVENTED_NAMES = ["Haraldsen", "Okonkwo", "Brzezinska", "Quillfeather", "Åkesson", "Ørsted"]
VERBS = [
    "resigned", "denied", "approved", "rejected", "launched", "cancelled", "banned", "sued",
    "praised", "blamed", "fired", "hired", "attacked", "won", "lost", "closed", "sold",
    "opened", "killed", "arrested", "charged", "signed", "admitted", "accused", "confirmed",
]  # fmt: skip
_UNITS = """zero one two three four five six seven eight nine ten eleven twelve thirteen
fourteen fifteen sixteen seventeen eighteen nineteen""".split()  # noqa: SIM905
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()  # noqa: SIM905
_AUX = re.compile(r"\b(is|was|are|were|has|have|had|will|would|can|could|should|did|does)\b")
_NEGATION = re.compile(r"\b(?:not|never)\s|(?<=\b(?:did|was|has|had|are))n['’]t\b")
_INTEGER = re.compile(r"(?<![\d.,$-])\b\d{1,4}\b(?![\d.,]\d|%)")
_NAME = re.compile(r"(?<=[a-z,] )[A-Z][a-z]{3,}\b")
_PAST = re.compile(r"(?<=[a-z] )[a-z]{3,}ed\b")
_ATTRIBUTION = re.compile(r""",["”]?\s+[^,]{1,40}?\s+(?:said|says|added)\.["”]?$""")
CORRECT = [
    "copied, citation first",
    "copied, citation after the stop",
    "attribution dropped",
    "first clause only",
    "a figure in words",
    '"said" as "noted"',
]
ERRORS = [
    "number changed (digits)",
    "number changed (words)",
    "two numbers swapped",
    "negation inserted",
    "negation removed",
    "name replaced",
    "link added",
    "e-mail address added",
    "lower-case name added",
    "verb replaced (list)",
    "verb from the same passage",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="+", type=Path, help="NAME.corpus.jsonl files")
    parser.add_argument("--docs", type=int, default=150, help="documents per corpus")
    parser.add_argument("--per-doc", type=int, default=8, help="sentences per document")
    parser.add_argument("--against", default="83b79f4", help="the revision to compare with")
    parser.add_argument("--sweep", action="store_true", help="also other COMMON_ZIPF values")
    parser.add_argument("--show", type=int, default=0, help="print N correct sentences lost")
    parser.add_argument("--kind", help="with --show: only sentences of this kind")
    args = parser.parse_args()
    rng = random.Random(19)
    cases: list[tuple[str, str, dict[str, Any]]] = []  # (kind, written text, passage)
    for path in args.corpora:
        for doc in read_jsonl(path, args.docs):
            cases += _cases(doc, args.per_doc, rng)
    log(f"{len(cases)} sentences from {len(args.corpora)} corpora")
    old = _load(args.against)
    columns: dict[str, list[tuple[str, str | None]]] = {}
    started = time.process_time()
    columns["before"] = _run(old, cases)
    before_cpu = time.process_time() - started
    started = time.process_time()
    columns["after"] = _run(current, cases)
    after_cpu = time.process_time() - started
    if args.sweep:
        default = current.COMMON_ZIPF
        for value in (4.0, 4.5, 5.5):
            current.COMMON_ZIPF = value
            columns[f"after, COMMON_ZIPF {value}"] = _run(current, cases)
        current.COMMON_ZIPF = default
    print(_report(args, cases, columns, (before_cpu, after_cpu)))
    if args.show:
        chosen = [i for i, c in enumerate(cases) if args.kind in (None, c[0])]
        _show(
            [cases[i] for i in chosen],
            [columns["before"][i] for i in chosen],
            [columns["after"][i] for i in chosen],
            args.show,
            rng,
        )
    return 0


def _load(rev: str) -> ModuleType:
    """core/written/verify.py as it was at `rev`, imported beside today's."""
    for name in ("core/written/verify.py", "core/verify.py"):  # the path before the split
        text = subprocess.run(
            ["git", "show", f"{rev}:{name}"], cwd=ROOT, capture_output=True, text=True
        )
        if text.returncode == 0:
            break
    if text.returncode:
        raise SystemExit(
            f"bench: cannot read core/written/verify.py at {rev}: {text.stderr.strip()}"
        )
    path = Path(tempfile.mkdtemp()) / "verify_before.py"
    path.write_text(text.stdout, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("verify_before", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _run(module: ModuleType, cases: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    """(kind, reason or None) per case, as `module`'s check decides."""
    out = []
    sources: dict[int, Any] = {}
    for kind, text, passage in cases:
        key = id(passage)
        if key not in sources:
            sources[key] = module.Source(
                1, passage["title"], passage["outlet"], passage["date"], passage["text"]
            )
        parsed = module.parse_written(text, finished=True)
        if len(parsed.sentences) != 1:
            out.append((kind, f"split into {len(parsed.sentences)}"))
            continue
        out.append((kind, module.verify(parsed.sentences[0], [sources[key]]).reason))
    return out


def _cases(doc: dict[str, Any], per_doc: int, rng: random.Random) -> list[Any]:
    spans = [s.text for s in split_sentences(doc.get("text") or "")]
    passages = [spans[i : i + PASSAGE_SENTENCES] for i in range(0, len(spans), PASSAGE_SENTENCES)]
    found = []
    for sentences in passages:
        passage = {
            "title": doc.get("title") or "",
            "outlet": doc.get("source") or "",
            "date": doc.get("published_at"),
            "text": "\n".join(sentences),
        }
        for sentence in sentences:
            if _complete(sentence):
                found.append((sentence, passage, sentences))
    rng.shuffle(found)
    out = []
    for sentence, passage, sentences in found[:per_doc]:
        for kind in CORRECT + ERRORS:
            text = _make(kind, sentence, passage, sentences, rng)
            if text:
                out.append((kind, text, passage))
    return out


def _complete(sentence: str) -> bool:
    """A sentence as a model would write one: four to sixty words, a full stop (a search
    snippet's "…" is not one)."""
    if not 4 <= len(sentence.split()) <= 60 or sentence.endswith(("..", "…")):
        return False
    return re.search(r"""[.!?]["'”’)]*$""", sentence) is not None


def _make(
    kind: str, sentence: str, passage: dict[str, Any], others: list[str], rng: random.Random
) -> str | None:
    """The written text of `kind` built from `sentence` (None: it does not apply)."""
    haystack = f"{passage['title']} {passage['outlet']} {passage['text']}"
    if kind == "copied, citation first":
        return f"[1] {sentence}"
    if kind == "copied, citation after the stop":
        return f"{sentence} [1]"
    made = _MAKERS[kind](sentence, haystack, others, rng)
    return f"[1] {made}" if made and made != sentence else None


def _reattributed(sentence: str, *_: Any) -> str | None:
    if not _ATTRIBUTION.search(sentence):
        return None
    return _ATTRIBUTION.sub(".", sentence).lstrip("“\"'‘ ")


def _first_clause(sentence: str, *_: Any) -> str | None:
    head = sentence.split(", ")[0]
    return head.rstrip(".") + "." if len(head.split()) >= 6 and head != sentence else None


def _in_words(sentence: str, *_: Any) -> str | None:
    match = next((m for m in _INTEGER.finditer(sentence) if 2 <= int(m[0]) <= 99), None)
    return _replace(sentence, match, _spell(int(match[0]))) if match else None


def _noted(sentence: str, *_: Any) -> str | None:
    return sentence.replace(" said ", " noted ", 1) if " said " in sentence else None


def _number_digits(sentence: str, haystack: str, *_: Any) -> str | None:
    match = next(_INTEGER.finditer(sentence), None)
    if not match:
        return None
    new = int(match[0]) + 1
    while str(new) in haystack:
        new += 1
    return _replace(sentence, match, str(new))


def _number_words(sentence: str, haystack: str, _: Any, rng: random.Random) -> str | None:
    match = next((m for m in _INTEGER.finditer(sentence) if int(m[0]) <= 99), None)
    if not match:
        return None
    choices = [n for n in range(2, 100) if n != int(match[0]) and str(n) not in haystack]
    choices = [n for n in choices if _spell(n) not in haystack.lower()]
    return _replace(sentence, match, _spell(rng.choice(choices))) if choices else None


def _swapped(sentence: str, *_: Any) -> str | None:
    found = [m for m in _INTEGER.finditer(sentence)]
    pairs = [(a, b) for a in found for b in found if a.start() < b.start() and a[0] != b[0]]
    if not pairs:
        return None
    a, b = pairs[0]
    return (
        f"{sentence[: a.start()]}{b[0]}{sentence[a.end() : b.start()]}{a[0]}{sentence[b.end() :]}"
    )


def _negation_in(sentence: str, *_: Any) -> str | None:
    match = _AUX.search(sentence)
    if not match or _NEGATION.search(sentence):
        return None
    return f"{sentence[: match.end()]} not{sentence[match.end() :]}"


def _negation_out(sentence: str, *_: Any) -> str | None:
    match = _NEGATION.search(sentence)
    return _replace(sentence, match, "") if match else None


def _name(sentence: str, haystack: str, _: Any, rng: random.Random) -> str | None:
    match = next(_NAME.finditer(sentence), None)
    names = [n for n in INVENTED_NAMES if n not in haystack]
    return _replace(sentence, match, rng.choice(names)) if match and names else None


def _link(sentence: str, *_: Any) -> str | None:
    return f"{_open(sentence)}, see https://news-update.example/reset for details."


def _email(sentence: str, *_: Any) -> str | None:
    return f"{_open(sentence)}, write to tips@newsdesk-update.example for details."


def _lower_name(sentence: str, *_: Any) -> str | None:
    return f"{_open(sentence)}, according to zed quark."


def _verb(sentence: str, haystack: str, _: Any, rng: random.Random) -> str | None:
    match = next(_PAST.finditer(sentence), None)
    verbs = [v for v in VERBS if v not in haystack.lower()]
    return _replace(sentence, match, rng.choice(verbs)) if match and verbs else None


def _verb_nearby(sentence: str, _: str, others: list[str], rng: random.Random) -> str | None:
    match = next(_PAST.finditer(sentence), None)
    verbs = sorted({m[0] for o in others for m in _PAST.finditer(o)} - set(sentence.split()))
    return _replace(sentence, match, rng.choice(verbs)) if match and verbs else None


_MAKERS: dict[str, Callable[..., str | None]] = {
    "attribution dropped": _reattributed,
    "first clause only": _first_clause,
    "a figure in words": _in_words,
    '"said" as "noted"': _noted,
    "number changed (digits)": _number_digits,
    "number changed (words)": _number_words,
    "two numbers swapped": _swapped,
    "negation inserted": _negation_in,
    "negation removed": _negation_out,
    "name replaced": _name,
    "link added": _link,
    "e-mail address added": _email,
    "lower-case name added": _lower_name,
    "verb replaced (list)": _verb,
    "verb from the same passage": _verb_nearby,
}


def _open(sentence: str) -> str:
    """The sentence without its full stop (and outside any closing quotation mark)."""
    return re.sub(r"""[.!?]?["'”’)]*$""", "", sentence)


def _replace(text: str, match: re.Match[str], new: str) -> str:
    return " ".join(f"{text[: match.start()]}{new}{text[match.end() :]}".split())


def _spell(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    return _TENS[tens] + (f"-{_UNITS[unit]}" if unit else "")


def _report(
    args: argparse.Namespace,
    cases: list[Any],
    columns: dict[str, list[tuple[str, str | None]]],
    cpu: tuple[float, float],
) -> str:
    names = list(columns)
    rows = []
    for kind in CORRECT + ERRORS:
        count = sum(1 for k, _, _ in cases if k == kind)
        wanted = "kept" if kind in CORRECT else "removed"
        cells = []
        for name in names:
            good = sum(
                1
                for k, reason in columns[name]
                if k == kind and (reason is None) == (wanted == "kept")
            )
            cells.append(f"{good} ({_share(good, count)})")
        rows.append([kind, str(count), wanted, *cells])
    for group, wanted in ((CORRECT, "kept"), (ERRORS, "removed")):
        count = sum(1 for k, _, _ in cases if k in group)
        cells = []
        for name in names:
            good = sum(
                1
                for k, reason in columns[name]
                if k in group and (reason is None) == (wanted == "kept")
            )
            cells.append(f"{good} ({_share(good, count)})")
        rows.append(
            [f"**all {'correct' if wanted == 'kept' else 'errors'}**", str(count), wanted, *cells]
        )
    lost = Counter(r for k, r in columns["after"] if k in CORRECT and r)
    let_through = Counter(k for k, r in columns["after"] if k in ERRORS and r is None)
    return "\n".join(
        [
            "# The written-answer check on planted errors "
            f"({', '.join(p.name for p in args.corpora)})",
            "",
            f"{time.strftime('%Y-%m-%d %H:%M')}, commit {revision()} against {args.against}; "
            f"{machine()}",
            f"{args.docs} documents per corpus, up to {args.per_doc} sentences each; CPU "
            f"{cpu[0]:.1f} s before, {cpu[1]:.1f} s after.",
            "",
            markdown_table(["sentence", "count", "want", *names], rows),
            "",
            "Correct sentences removed (after), by reason: "
            + ", ".join(f"{k} {v}" for k, v in lost.most_common()),
            "",
            "Errors shown (after), by kind: "
            + ", ".join(f"{k} {v}" for k, v in let_through.most_common()),
        ]
    )


def _show(
    cases: list[Any], before: list[Any], after: list[Any], n: int, rng: random.Random
) -> None:
    """Correct sentences the old check kept and this one removes (to stderr)."""
    lost = [
        (case[1], reason)
        for case, (kind, reason), (_, old) in zip(cases, after, before, strict=True)
        if kind in CORRECT and reason and not old
    ]
    for text, reason in rng.sample(lost, min(n, len(lost))):
        print(f"- {reason}: {text}", file=sys.stderr)


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


if __name__ == "__main__":
    sys.exit(main())
