"""The sentences of known truth bench.verify_check checks: a document cut into passages,
and from each complete sentence the correct rewordings (CORRECT) and the planted errors
(ERRORS) derived from it mechanically.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from core.language.text import split_sentences

PASSAGE_SENTENCES = 6
INVENTED_NAMES = ["Haraldsen", "Okonkwo", "Brzezinska", "Quillfeather", "Åkesson", "Ørsted"]
VERBS = [
    "resigned", "denied", "approved", "rejected", "launched", "cancelled", "banned", "sued",
    "praised", "blamed", "fired", "hired", "attacked", "won", "lost", "closed", "sold",
    "opened", "killed", "arrested", "charged", "signed", "admitted", "accused", "confirmed",
]  # fmt: skip
_UNITS = """zero one two three four five six seven eight nine ten eleven twelve thirteen
fourteen fifteen sixteen seventeen eighteen nineteen""".split()  # noqa: SIM905
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()  # noqa: SIM905
_AUX = re.compile(r"\b(is|was|are|were|has|have|had|will|would|can|could|should|did|does)\b")
_NEGATION = re.compile(r"\b(?:not|never)\s|(?<=\b(?:did|was|has|had|are))n['’]t\b")
_INTEGER = re.compile(r"(?<![\d.,$-])\b\d{1,4}\b(?![\d.,]\d|%)")
_NAME = re.compile(r"(?<=[a-z,] )[A-Z][a-z]{3,}\b")
_PAST = re.compile(r"(?<=[a-z] )[a-z]{3,}ed\b")
_ATTRIBUTION = re.compile(r""",["”]?\s+[^,]{1,40}?\s+(?:said|says|added)\.["”]?$""")
CORRECT = [
    "copied, citation first",
    "copied, citation after the stop",
    "attribution dropped",
    "first clause only",
    "a figure in words",
    '"said" as "noted"',
]
ERRORS = [
    "number changed (digits)",
    "number changed (words)",
    "two numbers swapped",
    "negation inserted",
    "negation removed",
    "name replaced",
    "link added",
    "e-mail address added",
    "lower-case name added",
    "verb replaced (list)",
    "verb from the same passage",
]


def cases_of(doc: dict[str, Any], per_doc: int, rng: random.Random) -> list[Any]:
    spans = [s.text for s in split_sentences(doc.get("text") or "")]
    passages = [spans[i : i + PASSAGE_SENTENCES] for i in range(0, len(spans), PASSAGE_SENTENCES)]
    found = []
    for sentences in passages:
        passage = {
            "title": doc.get("title") or "",
            "outlet": doc.get("source") or "",
            "date": doc.get("published_at"),
            "text": "\n".join(sentences),
        }
        for sentence in sentences:
            if _complete(sentence):
                found.append((sentence, passage, sentences))
    rng.shuffle(found)
    out = []
    for sentence, passage, sentences in found[:per_doc]:
        for kind in CORRECT + ERRORS:
            text = _make(kind, sentence, passage, sentences, rng)
            if text:
                out.append((kind, text, passage))
    return out


def _complete(sentence: str) -> bool:
    """A sentence as a model would write one: four to sixty words, a full stop (a search
    snippet's "…" is not one)."""
    if not 4 <= len(sentence.split()) <= 60 or sentence.endswith(("..", "…")):
        return False
    return re.search(r"""[.!?]["'”’)]*$""", sentence) is not None


def _make(
    kind: str, sentence: str, passage: dict[str, Any], others: list[str], rng: random.Random
) -> str | None:
    """The written text of `kind` built from `sentence` (None: it does not apply)."""
    haystack = f"{passage['title']} {passage['outlet']} {passage['text']}"
    if kind == "copied, citation first":
        return f"[1] {sentence}"
    if kind == "copied, citation after the stop":
        return f"{sentence} [1]"
    made = _MAKERS[kind](sentence, haystack, others, rng)
    return f"[1] {made}" if made and made != sentence else None


def _reattributed(sentence: str, *_: Any) -> str | None:
    if not _ATTRIBUTION.search(sentence):
        return None
    return _ATTRIBUTION.sub(".", sentence).lstrip("“\"'‘ ")


def _first_clause(sentence: str, *_: Any) -> str | None:
    head = sentence.split(", ")[0]
    return head.rstrip(".") + "." if len(head.split()) >= 6 and head != sentence else None


def _in_words(sentence: str, *_: Any) -> str | None:
    match = next((m for m in _INTEGER.finditer(sentence) if 2 <= int(m[0]) <= 99), None)
    return _replace(sentence, match, _spell(int(match[0]))) if match else None


def _noted(sentence: str, *_: Any) -> str | None:
    return sentence.replace(" said ", " noted ", 1) if " said " in sentence else None


def _number_digits(sentence: str, haystack: str, *_: Any) -> str | None:
    match = next(_INTEGER.finditer(sentence), None)
    if not match:
        return None
    new = int(match[0]) + 1
    while str(new) in haystack:
        new += 1
    return _replace(sentence, match, str(new))


def _number_words(sentence: str, haystack: str, _: Any, rng: random.Random) -> str | None:
    match = next((m for m in _INTEGER.finditer(sentence) if int(m[0]) <= 99), None)
    if not match:
        return None
    choices = [n for n in range(2, 100) if n != int(match[0]) and str(n) not in haystack]
    choices = [n for n in choices if _spell(n) not in haystack.lower()]
    return _replace(sentence, match, _spell(rng.choice(choices))) if choices else None


def _swapped(sentence: str, *_: Any) -> str | None:
    found = [m for m in _INTEGER.finditer(sentence)]
    pairs = [(a, b) for a in found for b in found if a.start() < b.start() and a[0] != b[0]]
    if not pairs:
        return None
    a, b = pairs[0]
    return (
        f"{sentence[: a.start()]}{b[0]}{sentence[a.end() : b.start()]}{a[0]}{sentence[b.end() :]}"
    )


def _negation_in(sentence: str, *_: Any) -> str | None:
    match = _AUX.search(sentence)
    if not match or _NEGATION.search(sentence):
        return None
    return f"{sentence[: match.end()]} not{sentence[match.end() :]}"


def _negation_out(sentence: str, *_: Any) -> str | None:
    match = _NEGATION.search(sentence)
    return _replace(sentence, match, "") if match else None


def _name(sentence: str, haystack: str, _: Any, rng: random.Random) -> str | None:
    match = next(_NAME.finditer(sentence), None)
    names = [n for n in INVENTED_NAMES if n not in haystack]
    return _replace(sentence, match, rng.choice(names)) if match and names else None


def _link(sentence: str, *_: Any) -> str | None:
    return f"{_open(sentence)}, see https://news-update.example/reset for details."


def _email(sentence: str, *_: Any) -> str | None:
    return f"{_open(sentence)}, write to tips@newsdesk-update.example for details."


def _lower_name(sentence: str, *_: Any) -> str | None:
    return f"{_open(sentence)}, according to zed quark."


def _verb(sentence: str, haystack: str, _: Any, rng: random.Random) -> str | None:
    match = next(_PAST.finditer(sentence), None)
    verbs = [v for v in VERBS if v not in haystack.lower()]
    return _replace(sentence, match, rng.choice(verbs)) if match and verbs else None


def _verb_nearby(sentence: str, _: str, others: list[str], rng: random.Random) -> str | None:
    match = next(_PAST.finditer(sentence), None)
    verbs = sorted({m[0] for o in others for m in _PAST.finditer(o)} - set(sentence.split()))
    return _replace(sentence, match, rng.choice(verbs)) if match and verbs else None


_MAKERS: dict[str, Callable[..., str | None]] = {
    "attribution dropped": _reattributed,
    "first clause only": _first_clause,
    "a figure in words": _in_words,
    '"said" as "noted"': _noted,
    "number changed (digits)": _number_digits,
    "number changed (words)": _number_words,
    "two numbers swapped": _swapped,
    "negation inserted": _negation_in,
    "negation removed": _negation_out,
    "name replaced": _name,
    "link added": _link,
    "e-mail address added": _email,
    "lower-case name added": _lower_name,
    "verb replaced (list)": _verb,
    "verb from the same passage": _verb_nearby,
}


def _open(sentence: str) -> str:
    """The sentence without its full stop (and outside any closing quotation mark)."""
    return re.sub(r"""[.!?]?["'”’)]*$""", "", sentence)


def _replace(text: str, match: re.Match[str], new: str) -> str:
    return " ".join(f"{text[: match.start()]}{new}{text[match.end() :]}".split())


def _spell(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    return _TENS[tens] + (f"-{_UNITS[unit]}" if unit else "")
