"""What a question asks for, and the candidates of that kind a sentence holds.

A person reads the quoted lead first, so the lead should hold the answer: for "which
airline cancelled the most flights?" a sentence naming an airline the question does not
name already. This module reads the question's wh-word and its head noun ("which
*airline*", "how *many*") into an `AnswerKind`, and finds in a sentence the spans of each
kind with plain patterns: numbers and amounts, dates, capitalised names, quoted titles.

Patterns, not a tagger: a spaCy pipeline would name people and places better, but no
offline copy of its weights could be checked against an official checksum here, and it
would cost tens of milliseconds per answer (see docs/benchmarks.md). The ranker in
`core.answer.lead` learns how much each signal is worth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from core.language.lexical import stem, tokenize
from core.language.text import split_sentences


class AnswerKind(StrEnum):
    """What a question asks for."""

    PERSON = "person"
    ORG = "org"
    PLACE = "place"
    NUMBER = "number"
    DATE = "date"
    NAME = "name"  # a title or a name of a thing: a show, a law, a storm, a product
    YES_NO = "yes/no"
    OTHER = "other"


class SpanKind(StrEnum):
    """The kinds of candidate spans found in a sentence."""

    NUMBER = "number"
    DATE = "date"
    NAME = "name"
    TITLE = "title"


# The span kinds that can answer each question kind.
ACCEPTS: dict[AnswerKind, frozenset[SpanKind]] = {
    AnswerKind.PERSON: frozenset({SpanKind.NAME}),
    AnswerKind.ORG: frozenset({SpanKind.NAME}),
    AnswerKind.PLACE: frozenset({SpanKind.NAME}),
    AnswerKind.NAME: frozenset({SpanKind.NAME, SpanKind.TITLE}),
    AnswerKind.NUMBER: frozenset({SpanKind.NUMBER}),
    AnswerKind.DATE: frozenset({SpanKind.DATE}),
    AnswerKind.YES_NO: frozenset(),
    AnswerKind.OTHER: frozenset(),
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Head nouns after "which"/"what" (general English, singular stems).
_HEADS: dict[AnswerKind, frozenset[str]] = {
    AnswerKind.PLACE: _words(
        "country nation city state continent region county island province town capital "
        "location place territory village neighborhood neighbourhood district area border "
        "coast river lake mountain sea ocean destination site venue"
    ),
    AnswerKind.ORG: _words(
        "company firm organization organisation agency airline bank team club party "
        "university college school network automaker carmaker retailer brand startup "
        "business corporation institution department ministry league union manufacturer "
        "outlet newspaper publication platform group chain insurer lender broadcaster "
        "studio publisher maker giant conglomerate exchange charity court"
    ),
    AnswerKind.PERSON: _words(
        "person man woman individual leader president ceo executive official actor "
        "actress singer player athlete politician senator governor candidate lawmaker "
        "minister judge founder author star rapper musician director coach king queen "
        "prince princess celebrity figure billionaire entrepreneur journalist member "
        "chief mayor spokesperson spokesman spokeswoman artist writer scientist astronaut "
        "pope lawyer attorney suspect victim winner owner host comedian chancellor "
        "secretary general commander investor chair chairman head"
    ),
    AnswerKind.NAME: _words(
        "show film movie book song album series game novel play name title word term "
        "nickname product app drug vaccine variant storm hurricane law bill act program "
        "programme policy plan award prize event festival tournament championship virus "
        "disease ship vehicle model phone device software tool character"
    ),
    AnswerKind.NUMBER: _words(
        "percentage percent number amount price cost total age share rate sum figure "
        "salary fee fine budget population count score temperature distance size value "
        "magnitude"
    ),
    AnswerKind.DATE: _words("year date day month decade century season time"),
}
_HOW = {
    "many": AnswerKind.NUMBER,
    "much": AnswerKind.NUMBER,
    "old": AnswerKind.NUMBER,
    "long": AnswerKind.NUMBER,
    "far": AnswerKind.NUMBER,
    "big": AnswerKind.NUMBER,
    "large": AnswerKind.NUMBER,
    "high": AnswerKind.NUMBER,
    "tall": AnswerKind.NUMBER,
    "often": AnswerKind.NUMBER,
}
_AUXILIARIES = _words(
    "is are was were do does did has have had can could will would should shall may might must"
)
_COPULAS = _words("is are was were")
_WH = re.compile(r"\b(who|whom|whose|which|what|when|where|why|how|name)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.-]*")

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
)
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}\s+(?:{_MONTHS})(?:\s+\d{{4}})?"
    rf"|(?:{_WEEKDAYS})"
    r"|(?:1[89]|20)\d\d(?:s)?)\b"
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    "eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|billion|billions|"
    "trillion|dozen|dozens|half|double|triple"
)
_NUMBER = re.compile(
    r"(?:[$€£¥]\s?)?\b\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent|per cent|million|billion|"
    r"trillion|thousand|bn|m|k)\b)?%?"
    rf"|\b(?:{_NUMBER_WORDS})(?:[\s-](?:{_NUMBER_WORDS}))*\b(?:\s(?:percent|per cent))?",
    re.IGNORECASE,
)
# A capitalised name: capitalised words, possibly joined by a few lower-case connectors.
_NAME = re.compile(
    r"\b[A-Z][\w’'&.-]*(?:\s+(?:(?:of|the|de|del|la|le|van|von|for|and|&|al|bin|da)\s+)*"
    r"[A-Z][\w’'&.-]*)*"
)
_QUOTED = re.compile(r"[“\"‘]([^”\"’]{2,80})[”\"’]")
_NOT_NAMES = _words(
    "i the a an this that these those it he she they we you his her their its our my "
    "in on at for but and or so if when while after before as by with from of to mr "
    "mrs ms dr"
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A span of a sentence that could answer a question: `text == sentence[start:end]`."""

    start: int
    end: int
    text: str
    kind: SpanKind


def answer_kind(question: str) -> AnswerKind:
    """What the question asks for, from its wh-word and the noun after "which"/"what".

    A question that opens with an auxiliary verb ("Did the council…") is a yes/no
    question; one with no wh-word and no auxiliary (a headline-style query) is OTHER.
    When context comes first ("A court ruled on Monday. How many months…?"), the
    sentence that asks is read.
    """
    question = asking_clause(question)
    words = [w.lower() for w in _WORD.findall(question)]
    if words and words[0] in _AUXILIARIES:
        return AnswerKind.YES_NO
    match = _asking_word(question)
    if match is None:
        # A headline-style query ("Super Bowl 2021 location") names what it wants last.
        return _head_kind(words[-1:])
    wh = match.group(1).lower()
    after = [w.lower() for w in _WORD.findall(question[match.end() :])][:6]
    if wh in ("who", "whom", "whose"):
        return AnswerKind.PERSON
    if wh == "when":
        return AnswerKind.DATE
    if wh == "where":
        return AnswerKind.PLACE
    if wh == "why":
        return AnswerKind.OTHER
    if wh == "how":
        return _HOW.get(after[0], AnswerKind.OTHER) if after else AnswerKind.OTHER
    if wh == "name":
        return AnswerKind.NAME if match.start() == 0 else _head_kind(after)
    if after and after[0] in _AUXILIARIES and (words[-1] in ("called", "named") or "name" in after):
        return AnswerKind.NAME  # "what is the new vaccine called?", "what is the name of…"
    if after[:1] and after[0] in _COPULAS and after[1:2] and after[1] in ("the", "a", "an"):
        return _head_kind(after[2:])  # "what was the magnitude of the quake?"
    return _head_kind(after)


def asking_clause(question: str) -> str:
    """The sentence of a question that asks (the last one with a question mark or a
    wh-word); the whole question when it is one sentence."""
    parts = [s.text for s in split_sentences(question)]
    for part in reversed(parts):
        if part.rstrip().endswith("?"):
            return part
    for part in reversed(parts):
        if _WH.search(part):
            return part
    return question


def _asking_word(question: str) -> re.Match[str] | None:
    """The wh-word that asks: the first one not opening a relative clause after a comma
    ("…the terrorist, who was associated with which group?" asks for the group)."""
    found = list(_WH.finditer(question))
    for match in found:
        if not question[: match.start()].rstrip().endswith(","):
            return match
    return found[0] if found else None


def _head_kind(after: list[str]) -> AnswerKind:
    """The kind named by the first known head noun among the words after "which"/"what"."""
    for word in after:
        if word in _AUXILIARIES:
            break  # "what did…", "which was…": no head noun
        noun = stem(word)
        for kind, heads in _HEADS.items():
            if noun in heads:
                return kind
    return AnswerKind.OTHER


def candidates(sentence: str) -> list[Candidate]:
    """Numbers, dates, names and quoted titles in a sentence, in order, not overlapping.

    Dates win over numbers ("June 17, 2022" is one date) and over names ("June").
    """
    found: list[Candidate] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, kind: SpanKind) -> None:
        text = sentence[start:end].strip(" ,.-'’")
        if not text:
            return
        start = sentence.index(text, start)
        end = start + len(text)
        if any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        found.append(Candidate(start, end, text, kind))

    for m in _DATE.finditer(sentence):
        add(m.start(), m.end(), SpanKind.DATE)
    for m in _QUOTED.finditer(sentence):
        inner = m.group(1)
        if any(w[:1].isupper() for w in inner.split()) and len(inner.split()) <= 10:
            add(m.start(1), m.end(1), SpanKind.TITLE)
    for m in _NUMBER.finditer(sentence):
        add(m.start(), m.end(), SpanKind.NUMBER)
    for m in _NAME.finditer(sentence):
        start, end = _trim_name(sentence, m.start(), m.end())
        if end > start:
            add(start, end, SpanKind.NAME)
    return sorted(found, key=lambda c: c.start)


def _trim_name(sentence: str, start: int, end: int) -> tuple[int, int]:
    """Drop function words that are capitalised only because they open the sentence."""
    words = sentence[start:end].split()
    at_start = not sentence[:start].strip(" “\"‘'(")
    while words and (words[0].lower() in _NOT_NAMES or (at_start and len(words) == 1)):
        start += len(words[0])
        start += len(sentence[start:end]) - len(sentence[start:end].lstrip())
        words = words[1:]
        at_start = False
    return (start, end) if words else (start, start)


def novel(candidate: Candidate, question_terms: set[str]) -> bool:
    """True when the candidate says something the question does not already say."""
    terms = tokenize(candidate.text)
    return bool(terms) and not set(terms) <= question_terms


def matching(kind: AnswerKind, found: list[Candidate], question_terms: set[str]) -> list[Candidate]:
    """The candidates of a kind the question accepts that the question does not contain."""
    accepted = ACCEPTS[kind]
    return [c for c in found if c.kind in accepted and novel(c, question_terms)]
