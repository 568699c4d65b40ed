"""The lead ranker as bench.train_lead fits it: folds, candidate pools cut to the settings,
the regularised logistic fit of each stage, and the lead each fitted model chooses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize

from bench.metrics import contains_answer, mark_right
from core.answer.candidates import LEXICAL, build_pool
from core.answer.lead import dense_rows

FOLDS = 5
# The ranker's probability above which the lead's answer is marked: a fixed prior, not
# fitted (the mark's precision depends on which candidate is chosen, see core.answer.lead).
ANSWER_CONFIDENCE = 0.5


@dataclass
class Settings:
    """What is chosen on held-out folds."""

    passages: int = 8
    embedded: int = 8
    margin: float = 1.0
    l2: float = 1.0


def family(name: str) -> str:
    """The full set a `-small` set was drawn from."""
    return name.removesuffix("-small")


def assign_folds(records: list[dict[str, Any]]) -> dict[Any, int]:
    """Group -> fold: largest groups first, each to the fold with fewest questions so far."""
    sizes: dict[Any, int] = {}
    for r in records:
        sizes[r["group"]] = sizes.get(r["group"], 0) + 1
    load = [0] * FOLDS
    folds = {}
    for group in sorted(sizes, key=lambda g: (-sizes[g], str(g))):
        fold = min(range(FOLDS), key=lambda f: (load[f], f))
        folds[group] = fold
        load[fold] += sizes[group]
    return folds


def subset(record: dict[str, Any], passages: int, name: str = "") -> dict[str, Any]:
    """A question's candidates, as `core.answer.lead` builds them from its first `passages`
    relevant passages: features, cosines, labels (holds the gold answer) and windows."""
    from core.models import Passage

    used = [Passage(**p) for p in record["passages"][:passages]]
    table = record["idf"]
    pool = build_pool(
        record["question"], record["query_terms"], used, lambda t: table.get(t, table["  "])
    )
    answers = record["answers"]
    texts = [s.span.text for s in pool.sentences]
    where = {(s.passage, s.index): i for i, s in enumerate(pool.sentences)}
    windows = []
    for s in pool.sentences:
        spans = pool.spans[s.passage]
        pair = {}
        for step in (-1, 1):
            j = where.get((s.passage, s.index + step))
            if j is not None:
                a, b = sorted([spans[s.index], spans[s.index + step]], key=lambda x: x.start)
                text = used[s.passage].text[a.start : b.end]
                pair[step] = (j, contains_answer([text], answers, words=True), len(text))
        windows.append(pair)
    label = np.asarray([contains_answer([t], answers, words=True) for t in texts], dtype=bool)
    substring = np.asarray([contains_answer([t], answers) for t in texts], dtype=bool)
    return {
        "set": name,
        "features": pool.features,
        "similarity": np.asarray([record["similarity"][t] for t in texts], dtype=np.float64),
        "label": label,
        "label_substring": substring,
        # Fitted on the substring label: "Australia’s" holds the answer "Australia", which
        # the whole-word test (scored too) does not see.
        "target": substring,
        "chars": np.asarray([len(t) for t in texts]),
        "span_ok": np.asarray(
            [bool(s.matches) and mark_right(s.matches[0].text, answers) for s in pool.sentences],
            dtype=bool,
        ),
        "has_match": np.asarray([bool(s.matches) for s in pool.sentences], dtype=bool),
        "windows": windows,
        "typed": str(pool.kind) not in ("other", "yes/no"),
    }


def fit(
    groups: list[tuple[np.ndarray, np.ndarray]], l2: float, weights: list[float] | None = None
) -> dict[str, Any]:
    """Conditional logit over the questions' candidate groups (X, labels) with some positive,
    each question's loss multiplied by its weight (default 1)."""
    weighted = [
        (x, y, w)
        for (x, y), w in zip(groups, weights or [1.0] * len(groups), strict=True)
        if len(x) and y.any()
    ]
    stacked = np.vstack([x for x, _, _ in weighted])
    mean = stacked.mean(axis=0)
    scale = stacked.std(axis=0)
    scale[scale < 1e-9] = 1.0
    standard = [((x - mean) / scale, y, w) for x, y, w in weighted]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * l2 * float(w @ w), l2 * w
        for x, y, weight in standard:
            s = x @ w
            s = s - s.max()
            e = np.exp(s)
            p = e / e.sum()
            pos = p[y].sum()
            total -= weight * float(np.log(pos + 1e-300))
            q = np.where(y, p / max(pos, 1e-300), 0.0)
            grad = grad + weight * (x.T @ (p - q))
        return total, grad

    result = minimize(loss, np.zeros(stacked.shape[1]), jac=True, method="L-BFGS-B")
    return {"mean": mean, "scale": scale, "weights": result.x}


def scores(stage: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """The stage's linear scores (as `core.answer.lead.Stage.score`)."""
    return np.asarray(((x - stage["mean"]) / stage["scale"]) @ stage["weights"])


def train(pools: list[dict[str, Any]], s: Settings) -> dict[str, Any]:
    """Both stages, fitted on the given pools; every training set weighs the same in all
    (a pool's weight is 1 / its set's number of pools), so the largest does not decide."""
    sizes: dict[str, int] = {}
    for p in pools:
        sizes[p["set"]] = sizes.get(p["set"], 0) + 1
    weights = [len(pools) / (len(sizes) * sizes[p["set"]]) for p in pools]
    lexical = fit([(p["features"], p["target"]) for p in pools], s.l2, weights)
    if s.embedded <= 0:
        return {"lexical": lexical, "dense": None}
    groups, kept = [], []
    for p, weight in zip(pools, weights, strict=True):
        if not len(p["label"]):
            continue
        order = np.argsort(-scores(lexical, p["features"]), kind="stable")[: s.embedded]
        x = np.hstack(
            [p["features"][order], dense_rows(p["similarity"][order], p["features"][order])]
        )
        groups.append((x, p["target"][order]))
        kept.append(weight)
    return {"lexical": lexical, "dense": fit(groups, s.l2, kept)}


def choose(model: dict[str, Any], p: dict[str, Any], s: Settings) -> dict[str, Any]:
    """What `core.answer.lead.choose_lead` would show for this pool: the outcome, not the text."""
    if not len(p["label"]):
        return {
            "hit": False,
            "hit_substring": False,
            "chars": None,
            "window": False,
            "oracle": 0,
            "first_holding": None,
        }
    first = scores(model["lexical"], p["features"])
    order = np.argsort(-first, kind="stable")[: max(s.embedded, 1)]
    if model["dense"] is not None:
        x = np.hstack(
            [p["features"][order], dense_rows(p["similarity"][order], p["features"][order])]
        )
        finals = scores(model["dense"], x)
    else:
        finals = first[order]
    ranking = np.concatenate([order[np.argsort(-finals, kind="stable")], np.argsort(-first)])
    holds = p["label_substring"][list(dict.fromkeys(ranking.tolist()))]
    best = int(np.argmax(finals))
    describes = LEXICAL.index("describes")
    describing = [k for k, j in enumerate(order.tolist()) if p["features"][j, describes] > 0]
    if describing:  # as core.answer.lead.compose_lead
        best = max(describing, key=lambda k: finals[k])
    i = int(order[best])
    e = np.exp(finals - finals.max())
    probability = float(e[best] / e.sum())
    hit, hit_sub, chars = bool(p["label"][i]), bool(p["label_substring"][i]), int(p["chars"][i])
    window, span_source = False, i
    if p["typed"] and not p["has_match"][i]:
        options = [
            (first[j], step, ok, n)
            for step, (j, ok, n) in p["windows"][i].items()
            if p["has_match"][j] and first[j] >= first[i] - s.margin
        ]
        if options:
            _, step, ok, n = max(options)
            j = p["windows"][i][step][0]
            if n <= 600:
                window, span_source = True, j
                hit, hit_sub, chars = bool(ok), bool(ok) or hit_sub, n
    return {
        "hit": hit,
        "hit_substring": hit_sub,
        "chars": chars,
        "window": window,
        "probability": probability,
        "span": bool(p["has_match"][span_source]),
        "span_ok": bool(p["span_ok"][span_source]),
        "oracle": int(p["label_substring"].any()),
        # where the first candidate holding the answer ranks (finalists by final score)
        "first_holding": int(np.argmax(holds)) if holds.any() else None,
    }
