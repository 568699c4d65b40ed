"""Fit the lead ranker on the dev sets and report it on held-out folds.

    .venv/bin/python -m bench.train_lead /tmp/lead2-work/{realtimeqa,multihop-rag-evidence,\
rgb-en-fact}.pkl --eval-only /tmp/lead2-work/{realtimeqa-small,multihop-rag-evidence-small}.pkl \
        [--write core/answer/lead_model.json]

Input: `bench/lead_data.py` pickles (what the lead saw for each question); the candidates
and their features are built here with `core.answer.candidates.build_pool`, so the figures
are those of the code checked out. Each set's questions are split into 5 folds by group,
so that no fold's questions share a group with its training folds: realtimeqa by the week
asked (`question_date`: other weeks of news are what the bot will meet), MultiHop-RAG and
RGB by their gold answer (a MultiHop-RAG answer such as one person's name recurs in
hundreds of questions over the same articles). A `-small` set takes its full set's folds.
For each fold the ranker is fitted on the other folds of all training sets and scored on
this fold, so every figure printed is held out. The settings (passages read, finalists
embedded, window margin, L2) are chosen by the mean held-out lead@1 of the training sets;
the answer-span confidence is a fixed prior (0.5). A second table gives lead@1 per
held-out fold and per outlet (the `source` of most of a question's evidence articles, read
from `--eval-dir`) beside the shipped `core/answer/lead_model.json` on the same pools (held out
only for the sets its provenance does not list), so that a re-fit that helps one week or
outlet and hurts another shows. `--write` then fits on everything and writes the model
with its provenance.

The ranker is a conditional logit (softmax over one question's candidates; the loss is the
negative log of the probability given to the sentences holding the answer), linear in
standardised features; the second stage is fitted on the first stage's finalists only.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import pickle
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ROOT, markdown_table
from bench.train_lead_fit import (
    ANSWER_CONFIDENCE,
    FOLDS,
    Settings,
    assign_folds,
    choose,
    family,
    subset,
    train,
)
from core.answer.candidates import DENSE, LEXICAL


def fold_of(folds: dict[str, dict[Any, int]], name: str, group: Any) -> int:
    """A question's fold: its group's in the set's family, else one fixed by the group."""
    known = folds.get(family(name), {})
    return known.get(group, zlib.crc32(str(group).encode()) % FOLDS)


def held_out(
    data: dict[str, list[dict[str, Any]]],
    folds: dict[str, dict[Any, int]],
    s: Settings,
    training_sets: list[str],
) -> dict[str, list[dict[str, Any]]]:
    """Every set's outcomes (in its records' order), each question scored by the model
    fitted without its fold."""
    out: dict[str, list[dict[str, Any]]] = {name: [{}] * len(recs) for name, recs in data.items()}
    pools = {name: [subset(r, s.passages, name) for r in recs] for name, recs in data.items()}
    for fold in range(FOLDS):
        training = [
            pool
            for name in training_sets
            for r, pool in zip(data[name], pools[name], strict=True)
            if fold_of(folds, name, r["group"]) != fold
        ]
        model = train(training, s)
        for name, recs in data.items():
            for i, (r, pool) in enumerate(zip(recs, pools[name], strict=True)):
                if fold_of(folds, name, r["group"]) == fold:
                    out[name][i] = choose(model, pool, s)
    return out


def shipped(data: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Every set's outcomes under the shipped `core/answer/lead_model.json` (held out only for the
    sets its provenance does not list)."""
    from core.answer.lead import load_model

    ship = load_model()
    model = {
        name: {"mean": st.mean, "scale": st.scale, "weights": st.weights} if st else None
        for name, st in (("lexical", ship.lexical), ("dense", ship.dense))
    }
    s = Settings(ship.passages, ship.embedded, ship.window_margin)
    return {
        name: [choose(model, subset(r, s.passages, name), s) for r in recs]
        for name, recs in data.items()
    }


def outlets(eval_dir: Path, name: str, records: list[dict[str, Any]]) -> list[str]:
    """Each question's outlet: the `source` of most of its evidence articles ("-" when the
    set's files are not at hand)."""
    questions, corpus = (eval_dir / f"{name}.{part}.jsonl" for part in ("questions", "corpus"))
    if not (questions.exists() and corpus.exists()):
        return ["-"] * len(records)
    from bench.common import read_jsonl
    from bench.retrieval import question_outlets

    asked = list(read_jsonl(questions))
    outlet = dict(
        zip(
            (str(q["id"]) for q in asked),
            question_outlets(asked, list(read_jsonl(corpus))),
            strict=True,
        )
    )
    return [outlet.get(str(r["id"]), "-") for r in records]


def slices(
    data: dict[str, list[dict[str, Any]]],
    folds: dict[str, dict[Any, int]],
    outcomes: dict[str, list[dict[str, Any]]],
    before: dict[str, list[dict[str, Any]]],
    eval_dir: Path,
    least: int = 10,
) -> list[list[str]]:
    """lead@1 (substring) per set, per held-out fold and per outlet with at least `least`
    questions: the re-fit's held-out figure beside the shipped model's, same pools."""
    rows = []
    for name, recs in data.items():
        labels = {
            "all": [True] * len(recs),
            **{
                f"fold {k}": [fold_of(folds, name, r["group"]) == k for r in recs]
                for k in range(FOLDS)
            },
        }
        where = outlets(eval_dir, name, recs)
        for outlet in sorted(set(where), key=where.count, reverse=True):
            if where.count(outlet) >= least and len(set(where)) > 1:
                labels[outlet] = [o == outlet for o in where]
        for label, mask in labels.items():
            picked = [i for i, m in enumerate(mask) if m]
            if not picked:
                continue
            now = np.mean([outcomes[name][i]["hit_substring"] for i in picked])
            then = np.mean([before[name][i]["hit_substring"] for i in picked])
            rows.append([name, label, str(len(picked)), f"{now:.3f}", f"{then:.3f}"])
    return rows


def summary(outcomes: list[dict[str, Any]]) -> dict[str, float]:
    """lead@1 (whole words, substring), mean lead chars, window share, the oracle (the
    share of questions where some candidate sentence holds the answer, substring) and the
    share where one of the ranker's first 2 or 3 does."""
    n = len(outcomes)
    chars = [o["chars"] for o in outcomes if o["chars"] is not None]
    ranks = [o["first_holding"] for o in outcomes if o["first_holding"] is not None]
    return {
        "n": n,
        "lead@1 words": sum(o["hit"] for o in outcomes) / n,
        "lead@1": sum(o["hit_substring"] for o in outcomes) / n,
        "chars": sum(chars) / max(len(chars), 1),
        "windows": sum(o["window"] for o in outcomes) / n,
        "oracle": sum(o["oracle"] for o in outcomes) / n,
        "top 2": sum(r < 2 for r in ranks) / n,
        "top 3": sum(r < 3 for r in ranks) / n,
    }


def span_table(outcomes: list[dict[str, Any]]) -> list[tuple[float, float, float]]:
    """(confidence, share of leads with a marked answer, precision of the mark) per cut."""
    rows = []
    for cut in [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]:
        marked = [
            o for o in outcomes if o["chars"] is not None and o["span"] and o["probability"] >= cut
        ]
        if marked:
            precision = sum(o["span_ok"] for o in marked) / len(marked)
            rows.append((cut, len(marked) / len(outcomes), precision))
    return rows


def sha256(path: Path) -> str:
    """Hex digest of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stage_json(stage: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """A fitted stage as `core.answer.lead.Stage.from_json` reads it."""
    return {
        "features": list(names),
        "mean": [round(float(v), 6) for v in stage["mean"]],
        "scale": [round(float(v), 6) for v in stage["scale"]],
        "weights": [round(float(v), 6) for v in stage["weights"]],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("train", nargs="+", type=Path, help="lead_data.py pickles to fit on")
    parser.add_argument("--eval-only", nargs="*", type=Path, default=[], help="scored only")
    parser.add_argument("--grid", action="store_true", help="search the settings")
    parser.add_argument("--write", type=Path, help="fit on everything, write the model here")
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    args = parser.parse_args(argv)
    data: dict[str, list[dict[str, Any]]] = {}
    training_sets: list[str] = []
    for path in [*args.train, *args.eval_only]:
        with path.open("rb") as handle:
            loaded = pickle.load(handle)
        data[loaded["set"]] = loaded["records"]
        if path in args.train:
            training_sets.append(loaded["set"])
    folds: dict[str, dict[Any, int]] = {}
    for name in [*training_sets, *data]:  # a family's folds come from its training set
        folds.setdefault(family(name), assign_folds(data[name]))
    started = time.perf_counter()
    best = Settings()
    if args.grid:
        trials = []
        for passages, embedded, margin, l2 in itertools.product(
            (3, 5, 8), (0, 4, 8), (0.5, 1.0, 2.0), (0.1, 1.0, 10.0)
        ):
            s = Settings(passages, embedded, margin, l2)
            result = held_out({k: data[k] for k in training_sets}, folds, s, training_sets)
            mean = float(np.mean([summary(result[k])["lead@1 words"] for k in result]))
            trials.append((mean, s))
            print(f"{s}: mean held-out lead@1 words {mean:.3f}", file=sys.stderr, flush=True)
        best = max(trials, key=lambda t: t[0])[1]
    result = held_out(data, folds, best, training_sets)
    print(f"settings: {best} ({time.perf_counter() - started:.0f} s)\n")
    rows = []
    for name in data:
        m = summary(result[name])
        rows.append(
            [
                name,
                str(m["n"]),
                f"{m['lead@1']:.3f}",
                f"{m['lead@1 words']:.3f}",
                f"{m['windows']:.2f}",
                f"{m['chars']:.0f}",
                f"{m['top 2']:.3f}",
                f"{m['top 3']:.3f}",
                f"{m['oracle']:.3f}",
            ]
        )
    header = ["set (held-out folds)", "n", "lead@1", "lead@1 words", "2-sentence leads", "chars"]
    header += ["in top 2", "in top 3", "oracle (a candidate holds it)"]
    print(markdown_table(header, rows) + "\n")
    table = slices(data, folds, result, shipped(data), args.eval_dir)
    header = ["set", "held-out slice", "n", "lead@1 re-fit (held out)", "lead@1 shipped"]
    print(markdown_table(header, table) + "\n")
    pooled = [o for k in training_sets for o in result[k]]
    spans = span_table(pooled)
    print(
        markdown_table(
            ["confidence >=", "leads with a marked answer", "mark right"],
            [[f"{c:.1f}", f"{share:.2f}", f"{prec:.2f}"] for c, share, prec in spans],
        )
    )
    confidence = ANSWER_CONFIDENCE
    print("\n(marks above: the first candidate of the lead; core.answer.lead marks the one that")
    print(f"stands out, at confidence {confidence}: measured by bench/retrieval.py)")
    if args.write:
        training = [subset(r, best.passages, k) for k in training_sets for r in data[k]]
        model = train(training, best)
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        files = {
            k: {
                "questions": f"{k}.questions.jsonl",
                "questions_sha256": sha256(args.eval_dir / f"{k}.questions.jsonl"),
                "corpus_sha256": sha256(args.eval_dir / f"{k}.corpus.jsonl"),
                "questions_used": len(data[k]),
            }
            for k in training_sets
        }
        held = {k: {m: round(v, 4) for m, v in summary(result[k]).items()} for k in result}
        out = {
            "lexical": stage_json(model["lexical"], LEXICAL),
            "dense": stage_json(model["dense"], LEXICAL + DENSE) if model["dense"] else None,
            "passages": best.passages,
            "embedded": best.embedded,
            "window_margin": best.margin,
            "answer_confidence": confidence,
            "provenance": {
                "trained": time.strftime("%Y-%m-%d %H:%M"),
                "commit": commit,
                "script": "bench/train_lead.py "
                "(pools from bench/lead_data.py, features by core.answer.lead)",
                "data": files,
                "folds": f"{FOLDS} per set, by group: realtimeqa by question_date (week), "
                "the others by gold answer; the final model is fitted on all folds",
                "settings": vars(best),
                "held_out": held,
            },
        }
        args.write.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
