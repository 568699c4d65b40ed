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
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from wordfreq import zipf_frequency

from core.answer.shown import written_day
from core.language.lexical import STOPWORDS, stem
from core.language.numbers import NUMBER_WORDS, read_tokens
from core.language.text import split_sentences
from core.models import WrittenSentence

# Share of a sentence's content words its cited passages must hold (calibrated with
# bench/written.py: faithful sentences pass, sentences padded with other facts do not).
MIN_WORD_SUPPORT = 0.6
# Fewer words than this is a heading or a fragment, not an answer.
MIN_WORDS = 4
# More characters than this is not one sentence of an answer (news sentences stay under
# ~400); the check's cost grows with the sentence, so a flood is refused before it.
MAX_CHARS = 2000
# A number is bound to the content words within this many words of it: "Volume 7" is not
# supported by a passage that says "Volume 1 … at 7 p.m.".
NUMBER_WINDOW = 10
NEAR_NUMBER = 3
# A lower-case word rarer than this (Zipf scale: log10 per billion words; "said" 6.0,
# "closed" 4.9, "resigned" 4.0, "quark" 3.0) states something, so the passage must hold it,
# within a few sentences of the sentence's other words (calibrated with
# bench/verify_check.py: copied and lightly reworded sentences pass, a verb swapped for
# another does not).
COMMON_ZIPF = 5.0
WINDOW_SENTENCES = 3

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

_CITATION = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]")
# The stop and any closing quotation marks: `rebuild the port.” [2]` cites the quote.
_CITATIONS_AFTER_STOP = re.compile(
    r"""([.!?]["'”’»›“)]*)((?:\s*\[\s*\d{1,3}(?:\s*[,;]\s*\d{1,3})*\s*\])+)"""
)
_OPEN_CITATION = re.compile(r"\[[\d,;\s]*$")
_THINKING = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)
_MARKUP = re.compile(r"<[^<>\n]*>|[<>]")
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+", re.MULTILINE)
_EMPHASIS = re.compile(r"\*\*|__|`|^#+\s*", re.MULTILINE)
# Letters and digits of any script: "Åsa" and "Ørsted" are names like "Alice".
_WORD = re.compile(r"[^\W_][\w'’.&-]*[^\W_]|[^\W_]")
_TLDS = "com|org|net|gov|edu|int|mil|io|co|uk|us|eu|info|biz|news|app|dev|ly|me|tv|example"
# A web address, "www." name, e-mail address or bare domain ("phish.example/reset"). The
# lookbehinds let a match start only where a run of such characters starts: linear time.
LINKS = re.compile(
    r"\b(?:https?://|ftp://|www\.)[^\s<>|\"'”’)\]]++"
    r"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    rf"|(?<![\w.-])(?:[a-z0-9-]+\.)+(?:{_TLDS})\b(?:/[^\s<>|\"'”’)\]]*+)?",
    re.IGNORECASE,
)
_NEGATIONS = frozenset(
    "not no never without nor neither none nobody nothing nowhere cannot".split()  # noqa: SIM905
)
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
_PERCENT = stem("percent")
_END = re.compile(r"""[.!?]["'”’»›“)\]]*$""")
_REFUSAL = re.compile(
    r"passages? (do|does) not (answer|say|mention|contain)|not (enough|sufficient) information"
    r"|\b(cannot|can't|can not|unable to) (answer|find|determine)|\bI('m| am) sorry\b",
    re.IGNORECASE,
)

# Capitalised only because they open a sentence: no name to check.
_OPENERS = frozenset(
    """according after also although as because before both despite during earlier each
    finally following however in instead later meanwhile moreover neither no none on one
    overall since some still such that then there these they this those though thus today
    together under until when where whether which while who yes yesterday""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Clause:
    """A sentence as word roots, the roots a negation governs ("did not close": close) and
    those of content words no negation governs."""

    roots: frozenset[str]
    negated: frozenset[str]
    plain: frozenset[str]
    # Negations in it (a "not" before no content word, "is not in", still counts).
    negations: int

    def contradicts(self, passage: Clause) -> bool:
        """One says only "not" of a word the other states only plainly, or this one says
        "not" of nothing in particular where the passage sentence has no negation."""
        return bool(
            (self.negated - self.plain) & (passage.plain - passage.negated)
            or (passage.negated - passage.plain) & (self.plain - self.negated)
            or (self.negations > len(self.negated) and not passage.negations)
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
        return written_day(self.published_at, "%B")

    @property
    def byline_and_text(self) -> str:
        """Everything the model saw of this passage, the date as the prompt shows it."""
        return f"{self.title}\n{self.outlet}\n{self.shown_date}\n{self.text}"

    @cached_property
    def _words(self) -> frozenset[str]:
        found = set(_lower_words(self.byline_and_text))
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
    def _positions(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for index, token in enumerate(self._tokens):
            if token and token.startswith("#"):
                found.setdefault(token, []).append(index)
        return found

    @cached_property
    def _stems(self) -> frozenset[str]:
        return frozenset(stem(w) for w in self._words)

    @cached_property
    def _sentences(self) -> list[Clause]:
        """Each sentence (title, outlet and date lines too) as its roots and negated roots."""
        return [
            _clause(read_tokens(LINKS.sub(" ", span.text)))
            for part in self.byline_and_text.split("\n", 3)
            for span in split_sentences(part)
        ]

    @cached_property
    def _links(self) -> frozenset[str]:
        return frozenset(_link_form(m.group(0)) for m in LINKS.finditer(self.byline_and_text))

    def holds_number(self, number: str, near: set[str]) -> bool:
        """True when `number` occurs here within a few words of one of the words `near` it
        in the sentence (any occurrence will do when the sentence gives it no context)."""
        tokens = self._tokens
        for index in self._positions.get(f"#{number}", []):
            window = tokens[max(0, index - NUMBER_WINDOW) : index + NUMBER_WINDOW + 1]
            if not near or near & set(window):
                return True
        return False

    def holds_unit(self, number: str, unit: str) -> bool:
        """True when `number` stands here with `unit` just before or after it ("12 days",
        "$3.5 million", "40 per cent")."""
        tokens = self._tokens
        for index in self._positions.get(f"#{number}", []):
            around = tokens[max(0, index - 2) : index + 4]
            if unit in around or unit == _PERCENT and "cent" in around:
                return True
        return False

    def orders(self, first: str, second: str) -> tuple[bool, bool]:
        """Whether `first` comes before `second` within a few words here, and whether the
        reverse does."""
        ahead = self._positions.get(f"#{first}", [])
        behind = self._positions.get(f"#{second}", [])
        forward = any(0 < b - a <= NUMBER_WINDOW for a in ahead for b in behind)
        backward = any(0 < a - b <= NUMBER_WINDOW for a in ahead for b in behind)
        return forward, backward

    def best_window(self, roots: frozenset[str]) -> tuple[frozenset[str], list[Clause]]:
        """The roots of the run of up to WINDOW_SENTENCES sentences that holds most of
        `roots`, and the sentences that hold most of them (several on a tie)."""
        sentences = self._sentences
        best: tuple[int, frozenset[str]] = (-1, frozenset())
        for start in range(len(sentences)):
            run = sentences[start : start + WINDOW_SENTENCES]
            held = frozenset().union(*(c.roots for c in run))
            if len(held & roots) > best[0]:
                best = (len(held & roots), held)
        top = max((len(c.roots & roots) for c in sentences), default=0)
        return best[1], [c for c in sentences if len(c.roots & roots) == top]

    def holds_link(self, link: str) -> bool:
        """True when this passage shows the same address, or one it leads into ("x.example/a"
        of "x.example/a/b"), scheme and "www." aside; never another host or mailbox that is
        only part of one it shows ("ample.com", "lp@x.example")."""
        form = _link_form(link)
        paths = (f"{form}/", f"{form}?", f"{form}#")
        return any(held == form or held.startswith(paths) for held in self._links)


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
    if len(sentence.text) > MAX_CHARS:
        return Verdict(sentence, TOO_LONG)
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
    if any(not any(s.holds_link(m.group(0)) for s in cited) for m in LINKS.finditer(text)):
        return LINK
    text = LINKS.sub(" ", text)
    tokens = _tokens(text)
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
    content = {stem(w) for w in _lower_words(text) if _is_content(w)}
    if not content and not numbers:
        return NOTHING
    if content:
        held = {w for w in content if any(w in s._stems for s in cited)}
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
    roots = frozenset(_root(t) for t in tokens)
    windows = [s.best_window(roots) for s in cited]
    near = frozenset().union(*(held for held, _ in windows))
    for word in set(_WORD.findall(text)):
        lower = _bare(word.lower().strip("."))
        if word[0].isupper() or not _is_content(lower) or lower in _FREE:
            continue
        parts = [p for p in lower.split("-") if _is_content(p) and p not in NUMBER_WORDS]
        if any(_root(p) not in near and _zipf(p) < COMMON_ZIPF for p in parts):
            return WORD
    # The sentence and the passage sentence(s) most like it must not differ in a "not".
    clause = _clause(tokens)
    if any(all(clause.contradicts(c) for c in best) for _, best in windows if best):
        return NEGATION
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


def _caseless(text: str) -> list[str]:
    """Words of a script without capitals (Chinese, Korean, Arabic, Hindi …): a name there
    has no capital to tell it by, and "李强" is as short as "of". Each must be in a cited
    passage as written (within a longer run too: such scripts may not space their words)."""
    return [w for w in _WORD.findall(text) if w[0].isalpha() and w[0].lower() == w[0].upper()]


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
    """Numbers as "#n" (however written), content words as stems, others None: positions
    kept, so that what stands near a number can be compared."""
    out: list[str | None] = []
    for token in read_tokens(text):
        if token.startswith("#"):
            out.append(token)
        elif _is_content(token):
            out.append(stem(_bare(token)))
        else:
            out.append(None)
    return out


def _lower_words(text: str) -> list[str]:
    return [w.lower().strip(".") for w in _WORD.findall(text)]


def _clause(tokens: list[str]) -> Clause:
    """The roots of `tokens`, and those of the content words a negation governs (the next
    one within four words of "not", "never", "didn't", "without" …)."""
    negated: set[int] = set()
    negations = 0
    for index, token in enumerate(tokens):
        if token in _NEGATIONS or token.endswith(("n't", "n’t")):
            negations += 1
            # "no longer closed": "longer" belongs to the negation, which governs "closed".
            skip = {"longer"} if token == "no" else set()
            governed = [i for i in range(index + 1, index + 5) if i < len(tokens)]
            governed = [i for i in governed if tokens[i] not in skip]
            negated |= set([i for i in governed if _is_content(tokens[i])][:1])
    return Clause(
        frozenset(_root(t) for t in tokens),
        frozenset(_root(tokens[i]) for i in negated),
        frozenset(_root(t) for i, t in enumerate(tokens) if _is_content(t) and i not in negated),
        negations,
    )


_SUFFIX = re.compile(r"(?:ations?|ements?|ments?|ings?|ions?|ures?|ed|es|ers?|ly|s|e)$")


def _root(word: str) -> str:
    """A rough word root, so that "resigned", "resigns" and "resignation" meet."""
    word = _bare(word).strip("'’")
    if len(word) > 4:
        word = _SUFFIX.sub("", word)
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]  # "close" and "closed", "case" and "cases"
    return word[:8]


@lru_cache(maxsize=50_000)
def _zipf(word: str) -> float:
    return float(zipf_frequency(word, "en"))


def _link_form(link: str) -> str:
    """A link as compared: lower case, without scheme, "www." or trailing punctuation."""
    link = re.sub(r"^(?:https?|ftp)://", "", link.lower().rstrip(".,;:!?"))
    return re.sub(r"^www\.", "", link).rstrip("/")


def _is_content(word: str) -> bool:
    return len(word) > 2 and word not in STOPWORDS and not any(ch.isdigit() for ch in word)


def _bare(word: str) -> str:
    """A word without its possessive."""
    return word[:-2] if word.endswith(("'s", "’s")) else word
