"""Check a model's written answer against the passages it was given, sentence by sentence.

A sentence is kept only when it cites passages that were given and those passages hold
every number (however spelled), date, proper name, link and uncommon word it states, and
most of its other words; its numbers stand in the passage's order, its uncommon words
near each other, and it says "not" where the passage does. Anything else is removed. The
check is lexical and strict on purpose: it may drop a fair paraphrase, but a name, figure
or address the passages do not contain never gets through (docs/written-answers.md says
what it cannot see: a wrong relation between words the passage does hold).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.language.lexical import STOPWORDS, stem
from core.language.numbers import NUMBER_WORDS, read_tokens
from core.models import WrittenSentence
from core.written.parse import SENTENCE_END, Parsed, parse_written, refuses
from core.written.source import NUMBER_WINDOW, WINDOW_SENTENCES, Source
from core.written.wording import (
    LINKS,
    WORD_PATTERN,
    bare,
    clause_of,
    is_content,
    lower_words,
    number_tokens,
    root,
    zipf,
)

__all__ = [
    "LINKS",
    "NUMBER_WINDOW",
    "WINDOW_SENTENCES",
    "Parsed",
    "Source",
    "Verdict",
    "parse_written",
    "refuses",
    "verify",
]

# Share of a sentence's content words its cited passages must hold (calibrated with
# bench/written.py: faithful sentences pass, sentences padded with other facts do not).
MIN_WORD_SUPPORT = 0.6
# Fewer words than this is a heading or a fragment, not an answer.
MIN_WORDS = 4
# More characters than this is not one sentence of an answer (news sentences stay under
# ~400); the check's cost grows with the sentence, so a flood is refused before it.
MAX_CHARS = 2000
# A sentence's words this close to one of its numbers are what binds it (the passage must
# hold one of them within `source.NUMBER_WINDOW` words of the number).
NEAR_NUMBER = 3
# A lower-case word rarer than this (Zipf scale: log10 per billion words; "said" 6.0,
# "closed" 4.9, "resigned" 4.0, "quark" 3.0) states something, so the passage must hold it,
# within a few sentences of the sentence's other words (calibrated with
# bench/verify_check.py: copied and lightly reworded sentences pass, a verb swapped for
# another does not; the window is `source.WINDOW_SENTENCES`).
COMMON_ZIPF = 5.0

NO_CITATION = "no citation"
BAD_CITATION = "cites a passage that was not given"
NUMBER = "number not in the cited passages"
NAME = "name not in the cited passages"
WORDS = "too few of its words in the cited passages"
NOTHING = "nothing to check"
FRAGMENT = "not a full sentence"
TOO_LONG = "too long for one sentence"
LINK = "link or address not in the cited passages"
ORDER = "numbers in another order than in the cited passages"
WORD = "word not in the cited passages, or not near the rest"
NEGATION = "says not where the cited passage does not, or the reverse"

# Words that carry no fact of their own: a reporting verb or a connective may be added.
_FREE = frozenset(
    """according added additionally adds also approximately around asked currently explained
    further furthermore including mentioned nearly noted recently reported reportedly reports
    roughly say saying stated states stating told""".split()  # noqa: SIM905
)
# What a number counts: "12 weeks" is not "12 days", nor "€3.5 million" "$3.5 million".
_UNITS = frozenset(
    stem(w)
    for w in """second minute hour day week month year decade century percent dollar euro pound
    yen mile kilometre kilometer km metre meter foot feet ton tonne kilogram kg acre hectare
    """.split()  # noqa: SIM905
)
_CURRENCY_UNITS = frozenset(stem(w) for w in ("dollar", "euro", "pound", "yen"))

# Capitalised only because they open a sentence: no name to check.
_OPENERS = frozenset(
    """according after also although as because before both despite during earlier each
    finally following however in instead later meanwhile moreover neither no none on one
    overall since some still such that then there these they this those though thus today
    together under until when where whether which while who yes yesterday""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Verdict:
    """The check of one sentence: kept, or removed and why (the reason names no text)."""

    sentence: WrittenSentence
    reason: str | None = None

    @property
    def kept(self) -> bool:
        return self.reason is None


def verify(sentence: WrittenSentence, sources: Sequence[Source]) -> Verdict:
    """Keep a sentence only when the passages it cites support it.

    Args:
        sentence: One written sentence and the passage numbers it cites.
        sources: The passages the model was given.
    """
    by_number = {s.number: s for s in sources}
    if len(sentence.text) > MAX_CHARS:
        return Verdict(sentence, TOO_LONG)
    if not SENTENCE_END.search(sentence.text) or len(sentence.text.split()) < MIN_WORDS:
        return Verdict(sentence, FRAGMENT)
    if not sentence.citations:
        return Verdict(sentence, NO_CITATION)
    if any(n not in by_number for n in sentence.citations):
        return Verdict(sentence, BAD_CITATION)
    cited = [by_number[n] for n in sentence.citations]
    reason = _unsupported(sentence.text, cited)
    return Verdict(sentence, reason)


def _unsupported(text: str, cited: list[Source]) -> str | None:
    if any(not any(s.holds_link(m.group(0)) for s in cited) for m in LINKS.finditer(text)):
        return LINK
    text = LINKS.sub(" ", text)
    tokens = number_tokens(text)
    numbers = [(i, t[1:]) for i, t in enumerate(tokens) if t and t.startswith("#")]
    for index, number in numbers:
        around = tokens[max(0, index - NEAR_NUMBER) : index + NEAR_NUMBER + 1]
        near = {t for t in around if t and not t.startswith("#")}
        if not any(s.holds_number(number, near) for s in cited):
            return NUMBER
    for index, number in numbers:
        for unit in _units_of(tokens, index):
            if not any(s.holds_unit(number, unit) for s in cited):
                return NUMBER
    if _reordered(numbers, cited):
        return ORDER
    if any(not _named_in(name, first, cited) for name, first in _names(text)):
        return NAME
    if any(not any(w in s.byline_and_text for s in cited) for w in _caseless(text)):
        return NAME
    content = {stem(w) for w in lower_words(text) if is_content(w)}
    if not content and not numbers:
        return NOTHING
    if content:
        held = {w for w in content if any(w in s.stems for s in cited)}
        if len(held) < MIN_WORD_SUPPORT * len(content):
            return WORDS
    return _unrelated(text, cited)


def _units_of(tokens: list[str | None], index: int) -> set[str]:
    """The unit the number at `index` counts: the word after it, or a currency before it."""
    after = tokens[index + 1] if index + 1 < len(tokens) else None
    before = tokens[index - 1] if index else None
    units = {after} & _UNITS if after else set()
    return units | ({before} & _CURRENCY_UNITS if before else set())


def _reordered(numbers: list[tuple[int, str]], cited: list[Source]) -> bool:
    """Two numbers close together that the passages hold only the other way round
    ("2 to 5" where they say "5 to 2")."""
    for position, (at, first) in enumerate(numbers):
        for other, second in numbers[position + 1 :]:
            if other > at + NUMBER_WINDOW:
                break
            if first != second:
                found = [s.orders(first, second) for s in cited]
                if not any(forward for forward, _ in found) and any(b for _, b in found):
                    return True
    return False


def _unrelated(text: str, cited: list[Source]) -> str | None:
    """An uncommon lower-case word the passages do not hold near the sentence's other
    words (an invented verb, a lower-case name), or a negation the passage lacks."""
    tokens = read_tokens(text)
    roots = frozenset(root(t) for t in tokens)
    windows = [s.best_window(roots) for s in cited]
    near = frozenset().union(*(held for held, _ in windows))
    for word in set(WORD_PATTERN.findall(text)):
        lower = bare(word.lower().strip("."))
        if word[0].isupper() or not is_content(lower) or lower in _FREE:
            continue
        parts = [p for p in lower.split("-") if is_content(p) and p not in NUMBER_WORDS]
        if any(root(p) not in near and zipf(p) < COMMON_ZIPF for p in parts):
            return WORD
    # The sentence and the passage sentence(s) most like it must not differ in a "not".
    clause = clause_of(tokens)
    if any(all(clause.contradicts(c) for c in best) for _, best in windows if best):
        return NEGATION
    return None


def _names(text: str) -> list[tuple[str, bool]]:
    """Capitalised words (proper names, months) and whether each opens the sentence (the
    first word is skipped when it is a common opener)."""
    found = []
    for index, match in enumerate(WORD_PATTERN.finditer(text)):
        word = match.group(0)
        if not word[0].isupper() or word == "I":
            continue
        lower = word.lower()
        if index == 0 and (lower in STOPWORDS or lower in _OPENERS):
            continue
        found.append((word, index == 0))
    return found


def _caseless(text: str) -> list[str]:
    """Words of a script without capitals (Chinese, Korean, Arabic, Hindi …): a name there
    has no capital to tell it by, and "李强" is as short as "of". Each must be in a cited
    passage as written (within a longer run too: such scripts may not space their words)."""
    return [
        w for w in WORD_PATTERN.findall(text) if w[0].isalpha() and w[0].lower() == w[0].upper()
    ]


def _named_in(name: str, first: bool, cited: list[Source]) -> bool:
    """A name must appear with its capital; the first word of a sentence may be any word
    of the passage, capitalised only by its place."""
    word = bare(name.strip("."))
    forms = {word, word.replace(".", ""), word.upper()}
    if first:
        forms.add(word.lower())
    parts = [p for p in re.split(r"[-–&]", word) if p]
    if any(ch.isdigit() for ch in word):  # "Covid-21" is not "Covid" plus a 21 elsewhere
        parts = [word]
    return any(
        forms & s.cased or (first and word.lower() in s.words) or all(p in s.cased for p in parts)
        for s in cited
    )
