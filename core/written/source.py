"""A passage as the model was given it, and what the verifier looks up in it.

Owns: `Source` (number, byline, text) with its lookups: words as written and as stems,
numbers and what stands near them, links, and runs of sentences; `NUMBER_WINDOW` and
`WINDOW_SENTENCES`, the distances those lookups allow.
May import: `core.answer.shown`, `core.language`, `core.written.wording`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from core.answer.shown import written_day
from core.language.lexical import stem
from core.language.numbers import read_tokens
from core.language.text import split_sentences
from core.written.wording import (
    LINKS,
    WORD_PATTERN,
    Clause,
    bare,
    clause_of,
    link_form,
    lower_words,
    number_tokens,
)

# A number is bound to the content words within this many words of it: "Volume 7" is not
# supported by a passage that says "Volume 1 … at 7 p.m.".
NUMBER_WINDOW = 10
# A sentence's uncommon words must stand within this many sentences of each other in a
# passage (calibrated with bench/verify_check.py, with `verify.COMMON_ZIPF`).
WINDOW_SENTENCES = 3
_PERCENT = stem("percent")


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
    def words(self) -> frozenset[str]:
        """Its words in lower case, also without possessive and split at hyphens."""
        found = set(lower_words(self.byline_and_text))
        found |= {bare(w) for w in found}
        found |= {part for w in found if "-" in w for part in w.split("-") if part}
        return frozenset(found)

    @cached_property
    def cased(self) -> frozenset[str]:
        """Words as written (case kept): a name must appear with its capital."""
        found = {bare(w.strip(".")) for w in WORD_PATTERN.findall(self.byline_and_text)}
        found |= {part for w in found for part in re.split(r"[-–&]", w) if part}
        found |= {w.replace(".", "") for w in found}
        return frozenset(found)

    @cached_property
    def _tokens(self) -> list[str | None]:
        # Title, outlet, date and text apart: a number in one is not near words of another.
        gap: list[str | None] = [None] * NUMBER_WINDOW
        out: list[str | None] = []
        for part in self.byline_and_text.split("\n", 3):
            out += number_tokens(part) + gap
        return out

    @cached_property
    def _positions(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for index, token in enumerate(self._tokens):
            if token and token.startswith("#"):
                found.setdefault(token, []).append(index)
        return found

    @cached_property
    def stems(self) -> frozenset[str]:
        """The stems of its words."""
        return frozenset(stem(w) for w in self.words)

    @cached_property
    def _sentences(self) -> list[Clause]:
        """Each sentence (title, outlet and date lines too) as its roots and negated roots."""
        return [
            clause_of(read_tokens(LINKS.sub(" ", span.text)))
            for part in self.byline_and_text.split("\n", 3)
            for span in split_sentences(part)
        ]

    @cached_property
    def _links(self) -> frozenset[str]:
        return frozenset(link_form(m.group(0)) for m in LINKS.finditer(self.byline_and_text))

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
        form = link_form(link)
        paths = (f"{form}/", f"{form}?", f"{form}#")
        return any(held == form or held.startswith(paths) for held in self._links)
