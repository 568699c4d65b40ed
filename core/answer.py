"""Passages -> Answer: the relevance floor, the lead sentence, the quoted passages.

The one function both surfaces call: `answer_question()`. The CLI and the Slack bot only
render the `Answer` it returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from core.lexical import stem, tokenize
from core.models import Answer, Passage
from core.query import parse_query
from core.search import Ranked, Searcher
from core.text import split_sentences

MAX_LEAD_CANDIDATES = 8
FIRST_MENTION_BONUS = 0.1
DESCRIPTION_BONUS = 0.25
_IDENTITY = re.compile(r"\s*(who|what)\s+(is|was|are|were)\b", re.IGNORECASE)


@dataclass
class Floor:
    """The relevance floor: below it the answer declines instead of quoting noise.

    A passage is relevant when its cosine similarity to the question plus the IDF-weighted
    share of the question's words it contains (`coverage`, so rare names weigh most)
    reaches `threshold`, or when it holds most of those words (`rescue_coverage`) at a
    modest similarity: short questions about names the model does not know.
    Calibrated with bench/floor.py on MultiHop-RAG (see docs/benchmarks.md).
    """

    threshold: float = 0.55
    coverage_weight: float = 1.0
    rescue_similarity: float = 0.2
    rescue_coverage: float = 0.6

    def admits(self, similarity: float, coverage: float) -> bool:
        """True when a passage with these signals counts as relevant."""
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
    text = " ".join(question.split())
    if len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0]
        notes.append(f"Your question was long; I answered its first {len(text)} characters.")
    query = parse_query(text, now)
    notes += query.notes
    ranked = searcher.search(query, k=max(k, considered))
    summary = searcher.summary()
    idf = searcher.idf
    relevant = [p for p in ranked.passages if _is_relevant(p, ranked.query_terms, idf, floor)]
    if not relevant:
        return Answer(query.text, None, None, [], ranked.passages, notes, summary)
    shown = _one_per_article(relevant)[:k]
    lead, lead_passage = _lead_sentence(query.text, searcher, ranked, relevant[:3], idf)
    return Answer(query.text, lead, lead_passage, shown, ranked.passages, notes, summary)


def _one_per_article(passages: list[Passage]) -> list[Passage]:
    seen: set[str] = set()
    out = []
    for passage in passages:
        if passage.doc_id not in seen:
            seen.add(passage.doc_id)
            out.append(passage)
    return out


def _coverage(terms: list[str], text: str, idf: Callable[[str], float]) -> float:
    unique = set(terms)
    if not unique:
        return 0.0
    present = set(tokenize(text))
    total = sum(idf(t) for t in unique)
    return sum(idf(t) for t in unique if t in present) / total if total else 0.0


def relevance(
    passage: Passage, terms: list[str], idf: Callable[[str], float]
) -> tuple[float, float]:
    """The two signals the floor reads: cosine similarity and IDF-weighted term coverage."""
    return passage.similarity, _coverage(terms, f"{passage.title}\n{passage.text}", idf)


def _is_relevant(
    passage: Passage, terms: list[str], idf: Callable[[str], float], floor: Floor
) -> bool:
    return floor.admits(*relevance(passage, terms, idf))


def _restates(sentence: str, question: str) -> bool:
    """A question is not an answer: skip questions and sentences that only echo the asker."""
    if sentence.rstrip("”’\"' )").endswith("?"):
        return True
    said = set(tokenize(sentence))
    return bool(said) and said <= set(tokenize(question))


def _describes(sentence: str, term: str) -> bool:
    """True when the term is introduced with a description: a titled name or an appositive."""
    for match in re.finditer(r"[\w’'-]+", sentence):
        if stem(match.group(0).lower()) != term:
            continue
        before = sentence[: match.start()].split()[-3:]
        after = sentence[match.end() :].lstrip()
        capitalised = [w for w in before if w[:1].isupper()]
        if len(capitalised) >= 2 or re.match(r",\s+(a|an|the|who|which)\b", after):
            return True
    return False


def _lead_sentence(
    question: str,
    searcher: Searcher,
    ranked: Ranked,
    passages: list[Passage],
    idf: Callable[[str], float],
) -> tuple[str, Passage]:
    """The sentence from the top passages that best answers the question."""
    candidates: list[tuple[str, int, float]] = []
    rare = max(ranked.query_terms, key=idf, default=None)
    identity = bool(_IDENTITY.match(question))
    for rank, passage in enumerate(passages):
        introduced = False
        for span in split_sentences(passage.text):
            if len(span.text.split()) < 4 or _restates(span.text, question):
                continue
            coverage = _coverage(ranked.query_terms, span.text, idf)
            # News style names and describes a person or thing fully at first mention:
            # the passage's first sentence holding the question's rarest word gets a nudge,
            # a bigger one when the question asks who or what something is and the
            # sentence describes it ("former Defense Minister Salvador Cienfuegos").
            if rare and not introduced and rare in tokenize(span.text):
                introduced = True
                coverage += FIRST_MENTION_BONUS
                if identity and _describes(span.text, rare):
                    coverage += DESCRIPTION_BONUS
            candidates.append((span.text, rank, coverage))
    if not candidates:
        return passages[0].text, passages[0]
    candidates.sort(key=lambda c: (-c[2], c[1]))
    candidates = candidates[:MAX_LEAD_CANDIDATES]
    vectors = searcher.embedder.encode([c[0] for c in candidates])
    sims = vectors @ ranked.query_vector
    scores = [
        0.6 * float(sim) + 0.4 * coverage - 0.05 * rank
        for (_, rank, coverage), sim in zip(candidates, sims, strict=True)
    ]
    best = int(np.argmax(scores))
    text, rank, _ = candidates[best]
    return text, passages[rank]
