"""Words as the verifier compares them: of a written sentence and of a passage alike.

Owns: the word and link patterns, word roots and stems, numbers as "#n" tokens, how
common a word is, and `Clause` (which words a "not" governs).
May import: `core.language`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from wordfreq import zipf_frequency

from core.language.lexical import STOPWORDS, stem
from core.language.numbers import read_tokens

# Letters and digits of any script: "Åsa" and "Ørsted" are names like "Alice".
WORD_PATTERN = re.compile(r"[^\W_][\w'’.&-]*[^\W_]|[^\W_]")
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


def number_tokens(text: str) -> list[str | None]:
    """Numbers as "#n" (however written), content words as stems, others None: positions
    kept, so that what stands near a number can be compared."""
    out: list[str | None] = []
    for token in read_tokens(text):
        if token.startswith("#"):
            out.append(token)
        elif is_content(token):
            out.append(stem(bare(token)))
        else:
            out.append(None)
    return out


def lower_words(text: str) -> list[str]:
    """The words of `text`, lower case, without a trailing stop."""
    return [w.lower().strip(".") for w in WORD_PATTERN.findall(text)]


def clause_of(tokens: list[str]) -> Clause:
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
            negated |= set([i for i in governed if is_content(tokens[i])][:1])
    return Clause(
        frozenset(root(t) for t in tokens),
        frozenset(root(tokens[i]) for i in negated),
        frozenset(root(t) for i, t in enumerate(tokens) if is_content(t) and i not in negated),
        negations,
    )


_SUFFIX = re.compile(r"(?:ations?|ements?|ments?|ings?|ions?|ures?|ed|es|ers?|ly|s|e)$")


def root(word: str) -> str:
    """A rough word root, so that "resigned", "resigns" and "resignation" meet."""
    word = bare(word).strip("'’")
    if len(word) > 4:
        word = _SUFFIX.sub("", word)
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]  # "close" and "closed", "case" and "cases"
    return word[:8]


@lru_cache(maxsize=50_000)
def zipf(word: str) -> float:
    """How common an English word is (Zipf scale: log10 per billion words)."""
    return float(zipf_frequency(word, "en"))


def link_form(link: str) -> str:
    """A link as compared: lower case, without scheme, "www." or trailing punctuation."""
    link = re.sub(r"^(?:https?|ftp)://", "", link.lower().rstrip(".,;:!?"))
    return re.sub(r"^www\.", "", link).rstrip("/")


def is_content(word: str) -> bool:
    """True for a word that says something: not a stop word, a number or a short word."""
    return len(word) > 2 and word not in STOPWORDS and not any(ch.isdigit() for ch in word)


def bare(word: str) -> str:
    """A word without its possessive."""
    return word[:-2] if word.endswith(("'s", "’s")) else word
