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
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.common import ROOT, log, machine, markdown_table, read_jsonl, revision
from bench.verify_cases import CORRECT, ERRORS, cases_of
from core.written import verify as current


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
            cases += cases_of(doc, args.per_doc, rng)
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
