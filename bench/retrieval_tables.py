"""The Markdown tables of bench.retrieval: metrics beside the textbook's, by question type,
by outlet, the leads that are page furniture, and the time each step took.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from typing import Any

from bench.common import fmt, markdown_table, percentile
from bench.metrics import METRICS, mean_metrics
from core.answer.candidates import not_a_sentence
from core.language.text import split_sentences, stamp_header

OUTLET_METRICS = ("ans@5", "lead@1", "mrr@10", "hit@5")
WEEKS_DAYS = 21  # a question's "this week" and the two weeks before it, its day included

LABELS = {
    "declined": "decline rate (no-evidence questions)",
    "chars@5": "mean chars of a top-5 passage",
    "ans@5 words": "ans@5, whole words only",
    "ans@1": "ans@1 (answer in the top passage)",
    "lead@1": "lead@1 (answer in the lead)",
    "lead@1 words": "lead@1, whole words only",
    "lead chars": "mean chars of the lead",
    "answer marked": "leads with a marked (bold) answer",
    "mark right": "marked answer right",
}


def metrics_table(ours: list[dict[str, Any]], peer: list[dict[str, Any]] | None) -> str:
    """Ours next to the textbook pipeline: the value, the difference and the ratio."""
    mine = mean_metrics(ours)
    theirs = mean_metrics(peer) if peer is not None else None
    rows = []
    for name in METRICS:
        value, n = mine[name]
        if value is None:
            continue
        label = LABELS.get(name, name)
        digits = 0 if name in ("chars@5", "lead chars") else 3
        other = theirs[name][0] if theirs else None
        diff = value - other if other is not None else None
        ratio = value / other if other else None
        rows.append(
            [
                label,
                str(n),
                fmt(value, digits),
                fmt(other, digits),
                "-" if diff is None else f"{diff:+.{digits}f}",
                fmt(ratio, 2),
            ]
        )
    return markdown_table(
        ["metric", "n", "ours", "textbook", "ours - textbook", "ours / textbook"], rows
    )


def types_table(
    questions: list[dict[str, Any]], ours: list[dict[str, Any]], peer: list[dict[str, Any]] | None
) -> str | None:
    """hit@5, MRR@10 and recall@5 per question type, when a set has several types."""
    kinds = Counter(str(q.get("type")) for q in questions)
    if len(kinds) < 2:
        return None
    rows = []
    for kind in sorted(kinds):
        picked = [i for i, q in enumerate(questions) if str(q.get("type")) == kind]
        mine = mean_metrics([ours[i] for i in picked])
        theirs = mean_metrics([peer[i] for i in picked]) if peer is not None else None
        cells = [kind, str(kinds[kind])]
        for name in ("hit@5", "mrr@10", "recall@5", "declined"):
            cells.append(f"{fmt(mine[name][0])} / {fmt(theirs[name][0]) if theirs else '-'}")
        rows.append(cells)
    header = ["type", "n", "hit@5 ours/textbook", "MRR@10", "recall@5", "declined"]
    return markdown_table(header, rows)


def timings_table(
    ingest: dict[str, Any], asked: dict[str, Any], peer: dict[str, Any] | None, n: int
) -> str:
    """Wall times of both pipelines."""
    gaps = asked["gaps"] or [asked["first"]]
    rows = [
        ["ours: `ingest` (wall, incl. start-up)", f"{ingest['seconds']:.1f} s", ingest["line"]],
        [
            "ours: `ask --batch` (wall)",
            f"{asked['seconds']:.1f} s",
            f"{n} questions; start-up + first answer {asked['first']:.1f} s; then per question "
            f"p50 {percentile(gaps, 50) * 1000:.0f} ms, p95 {percentile(gaps, 95) * 1000:.0f} ms",
        ],
    ]
    if peer is not None:
        built = peer["built"]
        lat = peer["latencies"]
        rows += [
            ["textbook: split", f"{built.split_seconds:.1f} s", f"{built.chunks} chunks"],
            [
                "textbook: embed + add",
                f"{built.embed_seconds:.1f} s",
                f"{built.added} chunks embedded ({built.chunks - built.added} cached)",
            ],
            [
                "textbook: `similarity_search` (total)",
                f"{sum(lat):.1f} s",
                f"per question p50 {percentile(lat, 50) * 1000:.0f} ms, "
                f"p95 {percentile(lat, 95) * 1000:.0f} ms",
            ],
        ]
    return markdown_table(["step", "time", "detail"], rows)


def furniture_lead(lead: str | None) -> bool:
    """True when a lead is page furniture or starts with it: a timestamp, a live-blog
    header, a dateline line ("New York CNN —"), a line of names without a verb."""
    if not lead:
        return False
    first = lead.strip().split("\n")[0].strip()
    if stamp_header(first) or not_a_sentence(first) or re.fullmatch(r".{0,60}\s[—–―−-]", first):
        return True
    spans = split_sentences(first)
    return bool(spans) and (spans[0].text != first and not_a_sentence(spans[0].text))


def question_outlets(questions: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[str]:
    """Each question's outlet: the `source` of most of its evidence articles."""
    source = {str(r["id"]): str(r.get("source") or "-") for r in records}
    out = []
    for q in questions:
        counts = Counter(source.get(str(d), "-") for d in q.get("evidence_doc_ids") or [])
        out.append(counts.most_common(1)[0][0] if counts else "-")
    return out


def question_weeks(
    questions: list[dict[str, Any]], records: list[dict[str, Any]], days: int = WEEKS_DAYS
) -> list[str]:
    """Whether the news of a question's own weeks holds its answer: an evidence article
    published in the `days` days up to the question's date, or the day after it (what the
    search admits: `core.search.query` asks "as of" the end of that day): "in the 21 days to
    the question"; else "outside those days". A quiz asks about the week's news; where the archive
    lacks that week's article, the answer string can still occur in an older one by chance
    ("Japan" in a 2016 story), which counts for ans@5 and lead@1 but answers nothing. "-":
    the question has no date or no evidence."""
    published = {str(r["id"]): _day(r.get("published_at")) for r in records}
    out = []
    for q in questions:
        asked = _day(q.get("question_date"))
        dates = [published.get(str(d)) for d in q.get("evidence_doc_ids") or []]
        known = [d for d in dates if d is not None]
        if asked is None or not known:
            out.append("-")
        elif any(-1 <= (asked - d).days < days for d in known):
            out.append(f"in the {days} days to the question")
        else:
            out.append("outside those days")
    return out


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def outlets_table(
    outlets: list[str],
    ours: list[dict[str, Any]],
    peer: list[dict[str, Any]] | None,
    label: str = "outlet (most evidence)",
) -> str:
    """ans@5, lead@1, MRR@10 and hit@5 per outlet (or per any other label of the
    questions), ours / the textbook's."""
    rows = []
    for outlet, n in Counter(outlets).most_common():
        picked = [i for i, o in enumerate(outlets) if o == outlet]
        mine = mean_metrics([ours[i] for i in picked])
        theirs = mean_metrics([peer[i] for i in picked]) if peer is not None else None
        cells = [outlet, str(n)]
        for name in OUTLET_METRICS:
            other = fmt(theirs[name][0]) if theirs else "-"
            cells.append(f"{fmt(mine[name][0])} / {other}")
        rows.append(cells)
    header = [label, "n", *(f"{m} ours / textbook" for m in OUTLET_METRICS)]
    return markdown_table(header, rows)


def furniture_table(leads: list[str | None]) -> str:
    """How many leads are page furniture, with up to three of them."""
    bad = [lead for lead in leads if furniture_lead(lead)]
    examples = "; ".join(repr(" ".join(b.split())[:90]) for b in bad[:3]) if bad else "-"
    return markdown_table(
        ["leads", "furniture leads", "examples"], [[str(len(leads)), str(len(bad)), examples]]
    )
