"""Check a model's written answer against the passages it was given, sentence by sentence.

A sentence is kept only when it cites passages that were given and those passages hold
every number, date and proper name it states, and most of its other words. Anything else
is removed. The check is lexical and strict on purpose: it may drop a fair paraphrase,
but a name or figure the passages do not contain never gets through.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from core.lexical import STOPWORDS, stem
from core.models import WrittenSentence
from core.text import split_sentences, words

# Share of a sentence's content words its cited passages must hold (calibrated with
# bench/written.py: faithful sentences pass, sentences padded with other facts do not).
MIN_WORD_SUPPORT = 0.6
# Fewer words than this is a heading or a fragment, not an answer.
MIN_WORDS = 4
# A number is bound to the content words within this many words of it: "Volume 7" is not
# supported by a passage that says "Volume 1 … at 7 p.m.".
NUMBER_WINDOW = 10
NEAR_NUMBER = 3

NO_CITATION = "no citation"
BAD_CITATION = "cites a passage that was not given"
NUMBER = "number not in the cited passages"
NAME = "name not in the cited passages"
WORDS = "too few of its words in the cited passages"
NOTHING = "nothing to check"
FRAGMENT = "not a full sentence"

_CITATION = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]")
_CITATIONS_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\s*\d{1,3}(?:\s*[,;]\s*\d{1,3})*\s*\])+)")
_OPEN_CITATION = re.compile(r"\[[\d,;\s]*$")
_THINKING = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)
_MARKUP = re.compile(r"<[^<>\n]*>|[<>]")
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+", re.MULTILINE)
_EMPHASIS = re.compile(r"\*\*|__|`|^#+\s*", re.MULTILINE)
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?|[A-Za-z][A-Za-z'’.-]*")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.&-]*[A-Za-z0-9]|[A-Za-z0-9]")
_END = re.compile(r"""[.!?]["'”’)\]]*$""")
_REFUSAL = re.compile(
    r"passages? (do|does) not (answer|say|mention|contain)|not (enough|sufficient) information"
    r"|\b(cannot|can't|can not|unable to) (answer|find|determine)|\bI('m| am) sorry\b",
    re.IGNORECASE,
)

_NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16",
    "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20", "thirty": "30",
    "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80",
    "ninety": "90", "hundred": "100", "thousand": "1000", "million": "1000000",
    "billion": "1000000000", "trillion": "1000000000000", "dozen": "12",
}  # fmt: skip
# Capitalised only because they open a sentence: no name to check.
_OPENERS = frozenset(
    """according after also although as because before both despite during earlier each
    finally following however in instead later meanwhile moreover neither no none on one
    overall since some still such that then there these they this those though thus today
    together under until when where whether which while who yes yesterday""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Source:
    """A passage as the model was given it: its number, byline and the text it saw."""

    number: int
    title: str
    outlet: str
    published_at: str | None
    text: str

    @property
    def shown_date(self) -> str:
        """The publication date as the prompt shows it: "2 May 2021", else as stored."""
        try:
            day = date.fromisoformat((self.published_at or "")[:10])
        except ValueError:
            return (self.published_at or "")[:10]
        return f"{day.day} {day:%B %Y}"

    @property
    def byline_and_text(self) -> str:
        """Everything the model saw of this passage, the date as the prompt shows it."""
        return f"{self.title}\n{self.outlet}\n{self.shown_date}\n{self.text}"

    @cached_property
    def _words(self) -> frozenset[str]:
        found = set(words(self.byline_and_text))
        found |= {_bare(w) for w in found}
        found |= {part for w in found if "-" in w for part in w.split("-") if part}
        return frozenset(found)

    @cached_property
    def _cased(self) -> frozenset[str]:
        """Words as written (case kept): a name must appear with its capital."""
        found = {_bare(w.strip(".")) for w in _WORD.findall(self.byline_and_text)}
        found |= {part for w in found for part in re.split(r"[-–&]", w) if part}
        found |= {w.replace(".", "") for w in found}
        return frozenset(found)

    @cached_property
    def _tokens(self) -> list[str | None]:
        # Title, outlet, date and text apart: a number in one is not near words of another.
        gap: list[str | None] = [None] * NUMBER_WINDOW
        out: list[str | None] = []
        for part in self.byline_and_text.split("\n", 3):
            out += _tokens(part) + gap
        return out

    @cached_property
    def _stems(self) -> frozenset[str]:
        return frozenset(stem(w) for w in self._words)

    def holds_number(self, number: str, near: set[str]) -> bool:
        """True when `number` occurs here within a few words of one of the words `near` it
        in the sentence (any occurrence will do when the sentence gives it no context)."""
        tokens = self._tokens
        for index, token in enumerate(tokens):
            if token != f"#{number}":
                continue
            window = tokens[max(0, index - NUMBER_WINDOW) : index + NUMBER_WINDOW + 1]
            if not near or near & set(window):
                return True
        return False


@dataclass(frozen=True)
class Verdict:
    """The check of one sentence: kept, or removed and why (the reason names no text)."""

    sentence: WrittenSentence
    reason: str | None = None

    @property
    def kept(self) -> bool:
        return self.reason is None


@dataclass
class Parsed:
    """A model's text split into sentences; `complete` excludes an unfinished last one."""

    sentences: list[WrittenSentence] = field(default_factory=list)
    complete: int = 0


def parse_written(text: str, finished: bool) -> Parsed:
    """Split a model's text (so far) into sentences with their citations.

    Args:
        text: The text the model has written, possibly cut mid-stream.
        finished: The model is done; a last sentence then counts when it ends with a full
            stop or a citation (a sentence cut off by the token budget does not).
    """
    text = _THINKING.sub("", text)
    if not finished:
        text = _OPEN_CITATION.sub("", text)
    text = _MARKUP.sub("", text)
    text = _EMPHASIS.sub("", _LIST_MARK.sub("", text))
    if not _CITATION.match(text.lstrip()):
        # "… in 2008. [1] The …": a citation after the stop belongs to the sentence before,
        # unless the model puts citations first ("[1] The …"), as our prompt asks.
        text = _CITATIONS_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", text)
    sentences = []
    for span in split_sentences(text):
        citations = tuple(
            int(n) for match in _CITATION.finditer(span.text) for n in re.split(r"[,;]", match[1])
        )
        body = " ".join(_CITATION.sub(" ", span.text).split())
        body = re.sub(r"\s+([.,;:!?])", r"\1", body)
        if citations and re.search(r"\]\W*$", span.text) and not _END.search(body):
            body = body.rstrip(" ,;:") + "."  # "… in 2020 [1]": the citation ends it
        if body.strip(" .,;:!?"):
            sentences.append(WrittenSentence(body, tuple(dict.fromkeys(citations))))
    complete = len(sentences)
    if sentences and not (finished and _END.search(sentences[-1].text)):
        complete -= 1
    return Parsed(sentences, complete)


def refuses(text: str) -> bool:
    """True when the model says it cannot answer from the passages."""
    return bool(_REFUSAL.search(text))


def verify(sentence: WrittenSentence, sources: Sequence[Source]) -> Verdict:
    """Keep a sentence only when the passages it cites support it.

    Args:
        sentence: One written sentence and the passage numbers it cites.
        sources: The passages the model was given.
    """
    by_number = {s.number: s for s in sources}
    if not _END.search(sentence.text) or len(sentence.text.split()) < MIN_WORDS:
        return Verdict(sentence, FRAGMENT)
    if not sentence.citations:
        return Verdict(sentence, NO_CITATION)
    if any(n not in by_number for n in sentence.citations):
        return Verdict(sentence, BAD_CITATION)
    cited = [by_number[n] for n in sentence.citations]
    reason = _unsupported(sentence.text, cited)
    return Verdict(sentence, reason)


def _unsupported(text: str, cited: list[Source]) -> str | None:
    tokens = _tokens(text)
    numbers = set()
    for index, token in enumerate(tokens):
        if token and token.startswith("#"):
            number = token[1:]
            numbers.add(number)
            around = tokens[max(0, index - NEAR_NUMBER) : index + NEAR_NUMBER + 1]
            near = {t for t in around if t and not t.startswith("#")}
            if not any(s.holds_number(number, near) for s in cited):
                return NUMBER
    if any(not _named_in(name, first, cited) for name, first in _names(text)):
        return NAME
    content = {stem(w) for w in words(text) if _is_content(w)}
    if not content and not numbers:
        return NOTHING
    if content:
        held = {w for w in content if any(w in s._stems for s in cited)}
        if len(held) < MIN_WORD_SUPPORT * len(content):
            return WORDS
    return None


def _names(text: str) -> list[tuple[str, bool]]:
    """Capitalised words (proper names, months) and whether each opens the sentence (the
    first word is skipped when it is a common opener)."""
    found = []
    for index, match in enumerate(_WORD.finditer(text)):
        word = match.group(0)
        if not word[0].isupper() or word == "I":
            continue
        lower = word.lower()
        if index == 0 and (lower in STOPWORDS or lower in _OPENERS):
            continue
        found.append((word, index == 0))
    return found


def _named_in(name: str, first: bool, cited: list[Source]) -> bool:
    """A name must appear with its capital; the first word of a sentence may be any word
    of the passage, capitalised only by its place."""
    bare = _bare(name.strip("."))
    forms = {bare, bare.replace(".", ""), bare.upper()}
    if first:
        forms.add(bare.lower())
    parts = [p for p in re.split(r"[-–&]", bare) if p]
    if any(ch.isdigit() for ch in bare):  # "Covid-21" is not "Covid" plus a 21 elsewhere
        parts = [bare]
    return any(
        forms & s._cased
        or (first and bare.lower() in s._words)
        or all(p in s._cased for p in parts)
        for s in cited
    )


def _tokens(text: str) -> list[str | None]:
    """Numbers as "#n" (digits or number words), content words as stems, others None:
    positions kept, so that what stands near a number can be compared."""
    out: list[str | None] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token[0].isdigit():
            out.append(f"#{_number(token)}")
            continue
        word = token.lower().strip(".")
        if word in _NUMBER_WORDS:
            out.append(f"#{_NUMBER_WORDS[word]}")
        elif _is_content(word):
            out.append(stem(_bare(word)))
        else:
            out.append(None)
    return out


def _is_content(word: str) -> bool:
    return len(word) > 2 and word not in STOPWORDS and not any(ch.isdigit() for ch in word)


def _bare(word: str) -> str:
    """A word without its possessive."""
    return word[:-2] if word.endswith(("'s", "’s")) else word


def _number(text: str) -> str:
    """A number as compared: no thousands separators, no leading zeros, no trailing '.0'."""
    value = text.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"
