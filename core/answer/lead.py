"""The lead: the sentence of the top passages that most likely holds the answer.

Every sentence of the first relevant passages is a candidate. A linear ranker fitted on
the dev sets (`bench/train_lead.py`; weights and provenance in `core/answer/lead_model.json`)
scores it in two stages: first on cheap signals (coverage of the question's words, what
the question asks for and whether the sentence holds such a thing the question does not
name, position, passage rank), then the best few again with their cosine similarity to
the question (one batch of sentence embeddings). When the winner lacks what the question
asks for and the next or previous sentence has it, the lead is the two sentences. When the
ranker is confident, the candidate answer inside the lead is marked (`Lead.answer`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from core.answer.candidates import DENSE, DESCRIBES, LEXICAL, Pool, Sentence, build_pool
from core.answer.kinds import ACCEPTS, Candidate
from core.models import Passage

MODEL_PATH = Path(__file__).with_name("lead_model.json")
MAX_LEAD_CHARS = 600


class Encoder(Protocol):
    """What the lead needs of the embedding model."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass
class Lead:
    """The chosen lead: verbatim text of `passage`, and the answer's offsets in it, if any."""

    text: str
    passage: Passage
    answer: tuple[int, int] | None = None


@dataclass
class Stage:
    """A linear scorer over standardised features."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray

    def score(self, rows: np.ndarray) -> np.ndarray:
        """One score per row (higher: more likely to hold the answer)."""
        return ((rows - self.mean) / self.scale) @ self.weights

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stage:
        """Read a stage written by `bench/train_lead.py`."""
        return cls(
            tuple(data["features"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["weights"], dtype=np.float64),
        )


@dataclass
class LeadModel:
    """The fitted ranker and the settings it was validated with."""

    lexical: Stage
    dense: Stage | None
    passages: int
    embedded: int
    window_margin: float
    answer_confidence: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LeadModel:
        """Read `core/answer/lead_model.json`."""
        dense = data.get("dense")
        return cls(
            Stage.from_json(data["lexical"]),
            Stage.from_json(dense) if dense else None,
            int(data["passages"]),
            int(data["embedded"]),
            float(data["window_margin"]),
            float(data["answer_confidence"]),
        )


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> LeadModel:
    """The shipped lead ranker (read once)."""
    return LeadModel.from_json(json.loads(path.read_text(encoding="utf-8")))


def dense_rows(similarities: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """The dense features of the embedded candidates: cosine, its gap to the best, and the
    score of the hand-tuned lead this ranker replaced (cosine and coverage, a nudge for the
    first sentence naming the question's rarest word and more for a describing one, a
    penalty per passage rank), which the ranker may lean on."""
    sims = np.asarray(similarities, dtype=np.float64)
    if not len(sims):
        return np.zeros((0, len(DENSE)))
    column = {name: lexical[:, LEXICAL.index(name)] for name in LEXICAL}
    rank = 1.0 / column["passage_rank"] - 1.0
    nudged = column["coverage"] + 0.1 * column["first_mention"] + 0.25 * column["describes"]
    hand_tuned = 0.6 * sims + 0.4 * nudged - 0.05 * rank
    return np.column_stack([sims, sims - sims.max(), hand_tuned])


def choose_lead(
    question: str,
    query_terms: Sequence[str],
    query_vector: np.ndarray,
    passages: Sequence[Passage],
    idf: Callable[[str], float],
    encoder: Encoder,
    model: LeadModel | None = None,
) -> Lead:
    """The lead of an answer: the best candidate sentence, its window, and the answer span.

    Args:
        question: The question as searched.
        query_terms: Its index terms (`Ranked.query_terms`).
        query_vector: Its embedding (`Ranked.query_vector`).
        passages: The relevant passages, best first.
        idf: Inverse document frequency of an index term.
        encoder: Embeds the few finalists.
        model: The ranker (default: the shipped one).
    """
    model = model or load_model()
    used = list(passages[: model.passages])
    pool = build_pool(question, query_terms, used, idf)
    if not pool.sentences:
        return Lead(used[0].text, used[0])
    scores = model.lexical.score(pool.features)
    order = np.argsort(-scores, kind="stable")[: max(model.embedded, 1)]
    if model.dense is not None and model.embedded > 0:
        similarities = _similarities(
            [pool.sentences[i].span.text for i in order], query_vector, encoder
        )
        rows = np.hstack([pool.features[order], dense_rows(similarities, pool.features[order])])
        finals = model.dense.score(rows)
    else:
        finals = scores[order]
    return compose_lead(pool, scores, order, finals, used, model)


def _similarities(texts: list[str], query_vector: np.ndarray, encoder: Encoder) -> np.ndarray:
    """Each text's cosine to the question, every distinct text embedded once: adjacent
    chunks overlap, so the same sentence can stand among the finalists twice."""
    distinct = list(dict.fromkeys(texts))
    cosine = dict(zip(distinct, encoder.encode(distinct) @ query_vector, strict=True))
    return np.asarray([cosine[t] for t in texts])


def compose_lead(
    pool: Pool,
    scores: np.ndarray,
    order: np.ndarray,
    finals: np.ndarray,
    passages: Sequence[Passage],
    model: LeadModel,
) -> Lead:
    """The lead from the scores: the finalist that scored best, with a neighbour when the
    answer the question asks for sits next to it, and the answer span when confident.

    Args:
        pool: The candidates.
        scores: Every candidate's first-stage score.
        order: The finalists (indices into the pool), by first-stage score.
        finals: The finalists' final scores.
        passages: The passages the pool was built from.
        model: The ranker's settings (window margin, answer confidence).
    """
    best = int(np.argmax(finals))
    describing = [k for k, i in enumerate(order.tolist()) if pool.features[i, DESCRIBES] > 0]
    if describing:
        # "Who was X?": the sentence that introduces X with a title or an appositive is the
        # answer news style gives; the dev sets hold too few such questions to learn it.
        best = max(describing, key=lambda k: finals[k])
    picked = int(order[best])
    chosen = pool.sentences[picked]
    probability = _softmax(finals)[best]
    passage = passages[chosen.passage]
    start, end = chosen.span.start, chosen.span.end
    answer_source = chosen
    if ACCEPTS[pool.kind] and not chosen.matches:
        neighbour = _neighbour(pool, scores, chosen, scores[picked] - model.window_margin)
        if neighbour is not None:
            start = min(start, neighbour.span.start)
            end = max(end, neighbour.span.end)
            answer_source = neighbour
    text = passage.text[start:end]
    if len(text) > MAX_LEAD_CHARS:
        start, end = chosen.span.start, chosen.span.end
        text, answer_source = passage.text[start:end], chosen
    answer = None
    span = _answer_span(answer_source, passages)
    if probability >= model.answer_confidence and span is not None:
        offset = answer_source.span.start - start
        answer = (span.start + offset, span.end + offset)
    return Lead(text, passage, answer)


def _answer_span(sentence: Sentence, passages: Sequence[Passage]) -> Candidate | None:
    """The sentence's candidate answer when it stands out: the only one of the kind asked
    for, or the one the most passages mention (an answer recurs); None when it is a tie."""
    if len(sentence.matches) == 1:
        return sentence.matches[0]
    texts = [f"{p.title}\n{p.text}".lower() for p in passages]
    support = [sum(c.text.lower() in t for t in texts) for c in sentence.matches]
    ranked = sorted(range(len(support)), key=lambda i: -support[i])
    if len(ranked) >= 2 and support[ranked[0]] > support[ranked[1]]:
        return sentence.matches[ranked[0]]
    return None


def _neighbour(pool: Pool, scores: np.ndarray, chosen: Sentence, floor: float) -> Sentence | None:
    """The adjacent sentence of the same passage that holds what the question asks for
    and scored (first stage) within the window margin of the chosen one, if any."""
    best: tuple[float, Sentence] | None = None
    for i, other in enumerate(pool.sentences):
        if other.passage != chosen.passage or abs(other.index - chosen.index) != 1:
            continue
        if other.matches and scores[i] >= floor and (best is None or scores[i] > best[0]):
            best = (float(scores[i]), other)
    return best[1] if best else None


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max())
    return np.asarray(shifted / shifted.sum())
