"""Retrieval metrics per question, as `../shared/eval/README.md` suggests, and their means.

Ranked passages are collapsed to document ids (first occurrence). A question without
`evidence_doc_ids` is not scored for retrieval; it is scored as "did the pipeline decline".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

METRICS = (
    "hit@1",
    "hit@5",
    "mrr@10",
    "ans@5",
    "ans@5 words",
    "ans@1",
    "lead@1",
    "lead@1 words",
    "lead from top passage",
    "lead chars",
    "answer marked",
    "mark right",
    "recall@5",
    "declined",
    "chars@5",
)
_YES_NO = {"yes", "no"}


def normalize(text: str) -> str:
    """Lower-cased, punctuation (quotes, curly ones too) deleted, whitespace collapsed."""
    kept = [c for c in text.lower() if not unicodedata.category(c).startswith("P")]
    return " ".join("".join(kept).split())


def ranked_docs(doc_ids: Iterable[str]) -> list[str]:
    """Document ids in rank order, each once (its first occurrence)."""
    return list(dict.fromkeys(doc_ids))


def gold_answers(question: dict[str, Any]) -> list[str]:
    """The normalized answer strings to look for (the answer and any listed aliases).

    Yes/no answers are left out: "yes" inside a passage says nothing about retrieval.
    """
    aliases = question.get("answer_aliases") or []
    raw = [str(question.get("answer") or "")] + [str(a) for a in aliases]
    answers = dict.fromkeys(a for a in (normalize(r) for r in raw) if a and a not in _YES_NO)
    return list(answers)


def contains_answer(texts: Sequence[str], answers: Sequence[str], words: bool = False) -> bool:
    """True when a normalized answer occurs in a normalized text.

    Args:
        texts: Passage texts.
        answers: Normalized answers (`gold_answers`).
        words: Match on word boundaries only, so "6" is not found in "16". The plain
            substring test is the eval README's (and gives its textbook figure, 0.786).
    """
    if words:
        padded = [f" {normalize(t)} " for t in texts]
        return any(f" {a} " in text for a in answers for text in padded)
    normalized = [normalize(t) for t in texts]
    return any(a in text for a in answers for text in normalized)


def score_question(
    question: dict[str, Any],
    passages: Sequence[dict[str, Any]],
    declined: bool | None,
    lead: str | None = None,
    span: Sequence[int] | None = None,
) -> dict[str, Any]:
    """The metrics of one question, given the ranked passages (`doc_id`, `text`) returned.

    Args:
        question: A line of a `NAME.questions.jsonl` file.
        passages: Best first.
        declined: Whether the pipeline declined to answer (None: it cannot decline).
        lead: The sentence the answer shows first (None: declined, or no lead at all).
        span: The offsets of the answer the lead marks, if any.

    Returns:
        One value per name in `METRICS` (None where the metric does not apply) and `rank`,
        the 1-based rank of the first gold document among the top 10 (None if absent).
        `chars@5` is the mean length of the top-5 passages: longer passages make `ans@5`
        easier, so it belongs next to it. `ans@1` is the answer in the top passage;
        `lead@1` the answer in the lead (a declined question counts as a miss), `lead
        chars` its length (a longer lead makes `lead@1` easier), `lead from top passage`
        whether the lead is quoted from the first passage. The lead metrics need a
        pipeline with a lead (`lead` given or `declined` true).
    """
    gold = set(question.get("evidence_doc_ids") or [])
    row: dict[str, Any] = dict.fromkeys(METRICS)
    row["rank"] = None
    if not gold:
        row["declined"] = declined
        return row
    docs = ranked_docs(p["doc_id"] for p in passages)[:10]
    rank = next((i for i, d in enumerate(docs, 1) if d in gold), None)
    row.update(
        {
            "rank": rank,
            "hit@1": rank == 1,
            "hit@5": rank is not None and rank <= 5,
            "mrr@10": 1.0 / rank if rank else 0.0,
            "recall@5": len(gold & set(docs[:5])) / len(gold),
            "chars@5": sum(len(p["text"]) for p in passages[:5]) / max(len(passages[:5]), 1),
        }
    )
    answers = gold_answers(question)
    if answers:
        top = [p["text"] for p in passages[:5]]
        row["ans@5"] = contains_answer(top, answers)
        row["ans@5 words"] = contains_answer(top, answers, words=True)
        row["ans@1"] = contains_answer(top[:1], answers)
    if lead is not None or declined:
        row.update(score_lead(lead, passages, answers))
        if answers and lead:
            row["answer marked"] = span is not None
            if span is not None:
                row["mark right"] = mark_right(lead[span[0] : span[1]], answers)
    return row


def mark_right(marked: str, answers: Sequence[str]) -> bool:
    """A marked answer is right when it is the answer, holds it, or the answer holds it
    (whole words: "Sweden" for "Sweden and Finland" counts, "6" for "16" does not)."""
    said = normalize(marked)
    return bool(said) and any(f" {a} " in f" {said} " or f" {said} " in f" {a} " for a in answers)


def score_lead(
    lead: str | None, passages: Sequence[dict[str, Any]], answers: Sequence[str]
) -> dict[str, Any]:
    """The lead's metrics: answer in the lead (substring, whole words), its source and size."""
    said = lead or ""
    top = " ".join(passages[0]["text"].split()) if passages else ""
    row: dict[str, Any] = {
        "lead from top passage": bool(lead) and " ".join(said.split()) in top,
        "lead chars": len(said) if lead else None,
    }
    if answers:
        row["lead@1"] = bool(lead) and contains_answer([said], answers)
        row["lead@1 words"] = bool(lead) and contains_answer([said], answers, words=True)
    return row


def mean_metrics(rows: Sequence[dict[str, Any]]) -> dict[str, tuple[float | None, int]]:
    """Per metric: the mean over the questions where it applies, and how many those are."""
    out: dict[str, tuple[float | None, int]] = {}
    for name in METRICS:
        values = [float(r[name]) for r in rows if r.get(name) is not None]
        out[name] = (sum(values) / len(values) if values else None, len(values))
    return out
