"""Passages -> Answer: the relevance floor, the lead (see `core.answer.lead`), the quoted passages.

The one function both surfaces call: `answer_question()`. The CLI and the Slack bot only
render the `Answer` it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from core.answer.lead import choose_lead
from core.answer.shown import written_day
from core.language.background import rarity
from core.language.lexical import tokenize
from core.models import Answer, Passage
from core.search.query import Query, parse_query
from core.search.searcher import Searcher
from core.store.records import to_timestamp


@dataclass
class Floor:
    """The relevance floor: below it the answer declines instead of quoting noise.

    A passage is relevant when its cosine similarity to the question plus the IDF-weighted
    share of the question's words it contains (`coverage`, so rare names weigh most)
    reaches `threshold`, or when it holds most of those words (`rescue_coverage`) at a
    modest similarity: short questions about names the model does not know.
    Calibrated with bench/floor.py on MultiHop-RAG (see docs/benchmarks.md).

    A passage that lacks a word carrying `missing_gate` or more of the question's
    distinctive weight (see `distinctive_coverage`) must also reach `distinct_threshold`
    in similarity plus distinctive coverage: "how much did the new bridge cost?" is not
    answered by the terminal's cost. Only short questions have such heavy words, so long
    ones are judged as before. Measured on small archives with bench/floor.py --small.
    """

    threshold: float = 0.55
    coverage_weight: float = 1.0
    rescue_similarity: float = 0.2
    rescue_coverage: float = 0.6
    missing_gate: float = 0.2
    distinct_threshold: float = 1.0

    def admits(
        self, similarity: float, coverage: float, distinct: float = 1.0, missing: float = 0.0
    ) -> bool:
        """True when a passage with these signals counts as relevant."""
        if missing >= self.missing_gate and similarity + distinct < self.distinct_threshold:
            return False
        if similarity + self.coverage_weight * coverage >= self.threshold:
            return True
        return similarity >= self.rescue_similarity and coverage >= self.rescue_coverage


def answer_question(
    question: str,
    searcher: Searcher,
    k: int = 5,
    considered: int = 10,
    max_chars: int = 1000,
    now: datetime | None = None,
    floor: Floor | None = None,
) -> Answer:
    """Answer a question from the store.

    Args:
        question: As the person typed it (filters such as `since:2022-06-01` allowed).
        searcher: The searcher over the store.
        k: Passages to show a person.
        considered: Passages to rank in all (returned in `Answer.considered`).
        max_chars: Longer questions are answered for their first `max_chars` characters.
        now: Time of asking, for "this week" and the like.
        floor: The relevance floor.

    Raises:
        StoreUnavailableError: the store cannot be reached.
    """
    floor = floor or Floor()
    notes: list[str] = []
    text = answered_part(question, max_chars)
    if text != " ".join(question.split()):
        notes.append(f"Your question was long; I answered its first {len(text)} characters.")
    query = parse_query(text, now)
    notes += query.notes
    ranked = searcher.search(query, k=max(k, considered))
    summary = searcher.summary()
    idf = ranked.idf
    terms = tuple(ranked.query_terms)
    relevant = [p for p in ranked.passages if _is_relevant(p, ranked.query_terms, idf, floor)]
    if not relevant:
        return Answer(
            query.text, None, None, [], ranked.passages, notes, summary, query_terms=terms
        )
    shown = _one_per_article(relevant)[:k]
    stale = _older_than_asked(query, shown)
    if stale:
        notes.append(stale)
    lead = choose_lead(
        query.text, ranked.query_terms, ranked.query_vector, relevant, idf, searcher.embedder
    )
    return Answer(
        query.text,
        lead.text,
        lead.passage,
        shown,
        ranked.passages,
        notes,
        summary,
        lead.answer,
        query_terms=terms,
    )


def answered_part(question: str, max_chars: int) -> str:
    """The part of a question that is answered: its first `max_chars` characters (spaces
    collapsed), cut at a word. The search and the model are both given only this."""
    text = " ".join(question.split())
    if len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0]
    return text


def _older_than_asked(query: Query, shown: list[Passage]) -> str | None:
    """A note when the question asks for recent news ("this week", "recently") and every
    passage shown is older: the archive may lack the story, and the reader should know the
    quotes are not from then. None when a passage is that recent, or undated (it may be)."""
    if query.soft_since is None or not shown:
        return None
    # By day: most archives date an article to the day, and one published on the window's
    # first day is in it, whatever the hour of asking.
    since = datetime.fromtimestamp(query.soft_since, UTC).date().isoformat()
    days = [(p.published_at or "")[:10] if to_timestamp(p.published_at) else "" for p in shown]
    if any(not day or day >= since for day in days):
        return None
    return (  # ISO days, all valid here: the largest is the newest
        f"Nothing published since {written_day(since)} matched; "
        f"the newest passage below is from {written_day(max(days))}."
    )


def _one_per_article(passages: list[Passage]) -> list[Passage]:
    seen: set[str] = set()
    out = []
    for passage in passages:
        if passage.doc_id not in seen:
            seen.add(passage.doc_id)
            out.append(passage)
    return out


def _coverage(terms: list[str], present: set[str], idf: Callable[[str], float]) -> float:
    unique = set(terms)
    if not unique:
        return 0.0
    total = sum(idf(t) for t in unique)
    return sum(idf(t) for t in unique if t in present) / total if total else 0.0


def relevance(
    passage: Passage, terms: list[str], idf: Callable[[str], float]
) -> tuple[float, float, float, float]:
    """The floor's signals: cosine similarity, IDF-weighted term coverage, the share of the
    question's distinctive weight the passage holds, and the largest share one word it
    lacks carries (see `distinctive_coverage`)."""
    # Tokenized once: both coverages read the same words.
    present = set(tokenize(f"{passage.title}\n{passage.text}"))
    coverage = _coverage(terms, present, idf)
    return passage.similarity, coverage, *_distinctive(terms, present, idf)


def distinctive_coverage(
    terms: list[str], text: str, idf: Callable[[str], float]
) -> tuple[float, float]:
    """The share of a question's distinctive weight a text holds, and the largest share
    that one word it lacks carries.

    A word's distinctive weight is the lesser of its rarity in the archive (IDF over the
    archive's largest possible IDF) and in English at large (`core.language.background`): a name the
    archive never mentions weighs fully, "tomorrow" does not, whatever the archive holds.
    """
    return _distinctive(terms, set(tokenize(text)), idf)


def _distinctive(
    terms: list[str], present: set[str], idf: Callable[[str], float]
) -> tuple[float, float]:
    """`distinctive_coverage` of a text whose index terms are `present`."""
    unique = set(terms)
    # A term with a space is never indexed: its IDF is the archive's largest possible.
    most = idf("  ") or 1.0
    weights = {t: min(idf(t) / most, rarity(t)) for t in unique}
    total = sum(weights.values())
    if total <= 0:
        return 1.0, 0.0
    held = sum(w for t, w in weights.items() if t in present) / total
    missing = max((w / total for t, w in weights.items() if t not in present), default=0.0)
    return held, missing


def _is_relevant(
    passage: Passage, terms: list[str], idf: Callable[[str], float], floor: Floor
) -> bool:
    return floor.admits(*relevance(passage, terms, idf))
