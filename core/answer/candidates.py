"""The lead's candidates: every sentence of the first relevant passages, with the lexical
features the ranker reads (`core.answer.lead` scores them).

A sentence is a candidate unless it is too short, has no verb-like word, or is a header cut
from the sentence after it; its features: coverage of the question's words, what the
question asks for and whether the sentence holds such a thing, position, passage rank.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.answer.kinds import ACCEPTS, AnswerKind, Candidate, SpanKind, answer_kind, matching
from core.answer.kinds import candidates as find_candidates
from core.language.lexical import stem, tokenize
from core.language.text import Span, is_timestamp, page_pitch, split_sentences
from core.models import Passage

MIN_WORDS = 4
_IDENTITY = re.compile(r"\s*(who|what)\s+(is|was|are|were)\b", re.IGNORECASE)

LEXICAL = (
    "coverage",
    "coverage_share",
    "coverage_context",
    "rarest",
    "first_mention",
    "describes",
    "novel_share",
    "typed",
    "match_name",
    "match_number",
    "match_date",
    "typed_miss",
    "match_near",
    "novel_name",
    "novel_number",
    "support",
    "support_title",
    "novel_support",
    "passage_rank",
    "passage_score",
    "passage_similarity",
    "position",
    "first_in_passage",
    "article_lede",
    "length",
    "quote",
)
DENSE = ("similarity", "similarity_gap", "hand_tuned")
DESCRIBES = LEXICAL.index("describes")


@dataclass
class Sentence:
    """A candidate lead: one sentence of one passage, with what it offers."""

    passage: int
    index: int
    span: Span
    matches: list[Candidate]


@dataclass
class Pool:
    """The candidates of one question and their lexical features (one row each)."""

    kind: AnswerKind
    sentences: list[Sentence]
    features: np.ndarray
    spans: list[list[Span]]  # every passage's sentences, for windows


def build_pool(
    question: str,
    query_terms: Sequence[str],
    passages: Sequence[Passage],
    idf: Callable[[str], float],
) -> Pool:
    """Every candidate sentence of the passages, with its lexical features."""
    kind = answer_kind(question)
    terms = set(query_terms)
    weights = {t: idf(t) for t in terms}
    total = sum(weights.values()) or 1.0
    # Sorted first so that a tie in IDF is broken the same way in every process.
    rarest = max(sorted(weights), key=lambda t: weights[t], default=None)
    identity = bool(_IDENTITY.match(question))
    top_score = max((p.score for p in passages), default=0.0) or 1.0
    sentences: list[Sentence] = []
    novels: list[list[Candidate]] = []
    rows: list[list[float]] = []
    spans_of: list[list[Span]] = []
    for rank, passage in enumerate(passages):
        spans = split_sentences(passage.text)
        spans_of.append(spans)
        tokens = [tokenize(s.text) for s in spans]
        covered = [sum(weights[t] for t in terms & set(ts)) / total for ts in tokens]
        mentioned = False
        kept = 0  # this passage's candidates so far: a skipped dateline does not count
        for index, span in enumerate(spans):
            if (
                _too_short(span.text)
                or not_a_sentence(span.text)
                or page_pitch(spans, index)
                or _glued_header(passage.text, spans, index)
                or _restates(span.text, tokens[index], terms)
            ):
                continue
            first_mention = bool(rarest and not mentioned and rarest in tokens[index])
            mentioned = mentioned or first_mention
            found = find_candidates(span.text)
            matches = matching(kind, found, terms)
            context = set(tokens[index])
            for j in (index - 1, index + 1):
                if 0 <= j < len(spans):
                    context |= set(tokens[j])
            row = _lexical_row(
                kind=kind,
                found=found,
                matches=matches,
                terms=terms,
                sentence=span.text,
                tokens=tokens[index],
                coverage=covered[index],
                context=sum(weights[t] for t in terms & context) / total,
                rarest=bool(rarest and rarest in tokens[index]),
                first_mention=first_mention,
                describes=bool(identity and first_mention and _describes(span.text, rarest)),
                rank=rank,
                passage=passage,
                top_score=top_score,
                ordinal=kept,
            )
            kept += 1
            sentences.append(Sentence(rank, index, span, matches))
            novels.append([c for c in found if set(tokenize(c.text)) - terms])
            rows.append(row)
    features = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(LEXICAL))
    if len(rows):
        best = features[:, 0].max()
        features[:, 1] = features[:, 0] / best if best > 0 else 0.0
        _add_support(features, sentences, novels, passages)
    return Pool(kind, sentences, features, spans_of)


def _add_support(
    features: np.ndarray,
    sentences: list[Sentence],
    novels: list[list[Candidate]],
    passages: Sequence[Passage],
) -> None:
    """Redundancy: an answer tends to recur across the relevant passages and their titles.

    `support` is the largest share of passages that mention one of the sentence's matching
    candidates, `support_title` whether a headline names one, `novel_support` the share for
    any new name or number (for questions whose kind is not known).
    """
    texts = [p.text.lower() for p in passages]
    titles = [p.title.lower() for p in passages]
    seen: dict[str, tuple[float, float]] = {}

    def spread(candidate: Candidate) -> tuple[float, float]:
        key = candidate.text.lower()
        if key not in seen:
            share = sum(key in t for t in texts) / len(texts)
            seen[key] = (share, float(any(key in t for t in titles)))
        return seen[key]

    column = {name: LEXICAL.index(name) for name in ("support", "support_title", "novel_support")}
    for row, (sentence, novel) in enumerate(zip(sentences, novels, strict=True)):
        matched = [spread(c) for c in sentence.matches]
        features[row, column["support"]] = max((m[0] for m in matched), default=0.0)
        features[row, column["support_title"]] = max((m[1] for m in matched), default=0.0)
        features[row, column["novel_support"]] = max((spread(c)[0] for c in novel), default=0.0)


def _lexical_row(
    *,
    kind: AnswerKind,
    found: list[Candidate],
    matches: list[Candidate],
    terms: set[str],
    sentence: str,
    tokens: list[str],
    coverage: float,
    context: float,
    rarest: bool,
    first_mention: bool,
    describes: bool,
    rank: int,
    passage: Passage,
    top_score: float,
    ordinal: int,
) -> list[float]:
    typed = bool(ACCEPTS[kind])
    kinds = {c.kind for c in matches}
    novel = {c.kind for c in found if set(tokenize(c.text)) - terms}
    content = set(tokens)
    values = {
        "coverage": coverage,
        "coverage_share": 0.0,  # filled in once the pool's best coverage is known
        "coverage_context": context,
        "rarest": float(rarest),
        "first_mention": float(first_mention),
        "describes": float(describes),
        "novel_share": len(content - terms) / len(content) if content else 0.0,
        "typed": float(typed),
        "match_name": float(bool(kinds & {SpanKind.NAME, SpanKind.TITLE})),
        "match_number": float(SpanKind.NUMBER in kinds),
        "match_date": float(SpanKind.DATE in kinds),
        "typed_miss": float(typed and not matches),
        "match_near": float(_near(sentence, matches, terms)),
        "novel_name": float(bool(novel & {SpanKind.NAME, SpanKind.TITLE})),
        "novel_number": float(bool(novel & {SpanKind.NUMBER, SpanKind.DATE})),
        "support": 0.0,  # the three filled in by `_add_support`, across the pool
        "support_title": 0.0,
        "novel_support": 0.0,
        "passage_rank": 1.0 / (1 + rank),
        "passage_score": passage.score / top_score,
        "passage_similarity": passage.similarity,
        "position": math.log1p(ordinal),
        "first_in_passage": float(ordinal == 0),
        "article_lede": float(ordinal == 0 and passage.start == 0),
        "length": math.log1p(len(sentence.split())),
        "quote": float(sentence[:1] in "“\"‘'"),
    }
    return [values[name] for name in LEXICAL]


def _too_short(sentence: str) -> bool:
    """Fewer than MIN_WORDS words with a letter or digit: a dateline ("New York CNN —"),
    a caption credit or a section line, not a sentence that can answer."""
    return sum(any(ch.isalnum() for ch in word) for word in sentence.split()) < MIN_WORDS


# Words in lower case that are never a sentence's verb: a line whose only lower-case words
# are these ("Ronald Reagan Washington National Airport", "Jordan Mendoza and Jane Roe,
# USA TODAY") names things and tells nothing.
_NO_VERB = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "for",
        "by",
        "and",
        "or",
        "nor",
        "to",
        "with",
        "from",
        "via",
        "per",
        "vs",
        "as",
        "de",
        "la",
        "del",
        "van",
        "von",
        "der",
        "a.m",
        "p.m",
        "am",
        "pm",
        "et",
        "al",
    ]
)
_LOWER_WORD = re.compile(r"(?<![\w@])[a-z][a-z'’.-]*")


def not_a_sentence(text: str) -> bool:
    """True for a line that cannot be a lead: a timestamp ("Updated April 20, 2026, 6:49
    p.m. ET", a live-blog header), or a line of names and numbers without a full stop and
    without a lower-case word that could be its verb (a byline, a caption credit, a list
    item). Without a tagger: on the dev sets it rejects about 1% of the sentences holding
    an answer, all of them list items or headings (docs/benchmarks.md, issue 20)."""
    if is_timestamp(text):
        return True
    if text.rstrip()[-1:] in '.!?"”’)':
        return False
    return not any(w.strip(".") not in _NO_VERB for w in _LOWER_WORD.findall(text))


def _glued_header(text: str, spans: list[Span], index: int) -> bool:
    """True for a piece the splitter cut from the line it heads: no closing punctuation,
    and the next sentence starts on the same line (a headline and byline before a
    dateline)."""
    span = spans[index]
    if index + 1 >= len(spans) or span.text[-1:] in '.!?"”’)':
        return False
    return "\n" not in text[span.end : spans[index + 1].start]


def _describes(sentence: str, term: str | None) -> bool:
    """True when the term is introduced with a description: a titled name or an appositive
    ("former Defense Minister Salvador Cienfuegos", "Cienfuegos, a retired general")."""
    for match in re.finditer(r"[\w’'-]+", sentence):
        if stem(match.group(0).lower()) != term:
            continue
        before = sentence[: match.start()].split()[-3:]
        after = sentence[match.end() :].lstrip()
        capitalised = [w for w in before if w[:1].isupper()]
        if len(capitalised) >= 2 or re.match(r",\s+(a|an|the|who|which)\b", after):
            return True
    return False


def _near(sentence: str, matches: list[Candidate], terms: set[str], reach: int = 40) -> bool:
    """True when a matching candidate stands within `reach` characters of a question word."""
    if not matches:
        return False
    spots = [i for i, word in _positions(sentence) if stem(word.lower().strip(".")) in terms]
    return any(any(c.start - reach <= i <= c.end + reach for i in spots) for c in matches)


def _positions(sentence: str) -> list[tuple[int, str]]:
    """Words with their offsets (letters and digits; inner apostrophes, dots, hyphens)."""
    out = []
    start = None
    for i, ch in enumerate(sentence + " "):
        if ch.isalnum() or (start is not None and ch in "'’.-"):
            if start is None:
                start = i
        elif start is not None:
            out.append((start, sentence[start:i]))
            start = None
    return out


def _restates(sentence: str, tokens: list[str], terms: set[str]) -> bool:
    """A question is not an answer: skip questions and sentences that only echo the asker."""
    if sentence.rstrip("”’\"' )").endswith("?"):
        return True
    return bool(tokens) and set(tokens) <= terms
