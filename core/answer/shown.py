"""How a passage is shown to a reader, the same way on every surface: its byline (title,
outlet, dates) and its excerpt (the sentences nearest the question's words).

The Slack bot, the terminal CLI (`ask`) and the written answer's prompt call these with
their own style (dates as "2 May 2021" or as ISO days, the separator, the length), so a
passage is named and cut by one piece of code. The question's words are its index terms
(`core.language.lexical.tokenize`), the ones the search used. Imports `core.language` and
`core.models` only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from core.language.lexical import tokenize
from core.language.text import Span, split_sentences
from core.models import Answer, Passage

EXCERPT_CHARS = 600


def clip(text: str, limit: int) -> str:
    """Plain text cut at a word boundary to at most `limit` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"


def answer_terms(answer: Answer) -> set[str]:
    """The question's index terms, as the search used them (derived from the question only
    for an answer built by hand)."""
    terms = answer.query_terms if answer.query_terms is not None else tokenize(answer.question)
    return set(terms)


def byline(title: str, outlet: str, *dates: str, separator: str = ", ") -> str:
    """A passage's name for a reader: title, outlet and dates, the empty ones left out."""
    return separator.join(part for part in (title, outlet, *dates) if part)


def written_day(value: str | None, month: str = "%b") -> str:
    """A stored date as "2 May 2021" ("2 May 2021" with `month="%B"`), else its first ten
    characters as stored; "" for none."""
    if not value:
        return ""
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return value[:10]
    return f"{day.day} {day:{month} %Y}"


def iso_day(value: str | None) -> str:
    """A stored date's day as stored (YYYY-MM-DD); "" for none."""
    return (value or "")[:10]


def updated_note(passage: Passage, day: Callable[[str], str] | None = None) -> str:
    """ "updated …" when the outlet changed the article on another day than it published it;
    "". `day` writes the modification day (the ISO day when None)."""
    modified = passage.modified_at
    if not modified or modified[:10] == (passage.published_at or "")[:10]:
        return ""
    return f"updated {day(modified) if day else modified[:10]}"


def short_updated_day(modified: str, published_at: str | None) -> str:
    """The modification day as "12 Nov", with its year when the publication's differs."""
    try:
        day = date.fromisoformat(modified[:10])
    except ValueError:
        return modified[:10]
    same_year = (published_at or "")[:4] == f"{day.year:04d}"
    return f"{day.day} {day:%b}" + ("" if same_year else f" {day.year}")


def chat_dates(passage: Passage) -> tuple[str, str]:
    """A passage's dates as chat shows them: "2 May 2021", "updated 12 Nov"."""
    updated = updated_note(passage, lambda m: short_updated_day(m, passage.published_at))
    return written_day(passage.published_at), updated


def iso_dates(passage: Passage) -> tuple[str, str]:
    """A passage's dates as the terminal shows them: "2021-05-02", "updated 2021-11-12"."""
    return iso_day(passage.published_at), updated_note(passage)


def passage_byline(passage: Passage, iso: bool = False) -> str:
    """Title (or "(untitled)"), outlet, publish day and "updated …": chat's dates, or ISO
    days (`iso`, the terminal's)."""
    dates = iso_dates(passage) if iso else chat_dates(passage)
    return byline(passage.title or "(untitled)", passage.source, *dates)


def overlaps(spans: list[Span], terms: set[str]) -> list[int]:
    """How many of the question's terms each sentence holds."""
    return [len(terms & set(tokenize(span.text))) for span in spans]


def excerpt_of(
    text: str, terms: set[str], focus: str | None = None, budget: int = EXCERPT_CHARS
) -> str:
    """The part of a passage worth reading in chat: its best sentence and its neighbours.

    The best sentence is `focus` when given (the lead), else the one holding most of the
    question's words; neighbours are added while the budget lasts. Cuts are marked "…".
    """
    spans = split_sentences(text)
    if not spans:
        return clip(text, budget)
    best = _best_sentence(spans, terms, focus)
    first = last = best
    size = len(spans[best].text)
    while True:
        grew = False
        for candidate in (last + 1, first - 1):
            if 0 <= candidate < len(spans) and size + len(spans[candidate].text) + 1 <= budget:
                size += len(spans[candidate].text) + 1
                first, last = min(first, candidate), max(last, candidate)
                grew = True
        if not grew:
            break
    body = clip(text[spans[first].start : spans[last].end], budget)
    prefix = "… " if first > 0 else ""
    suffix = " …" if last < len(spans) - 1 and not body.endswith("…") else ""
    return f"{prefix}{' '.join(body.split())}{suffix}"


def _best_sentence(spans: list[Span], terms: set[str], focus: str | None) -> int:
    if focus:
        wanted = " ".join(focus.split())
        for index, span in enumerate(spans):
            if wanted and wanted in " ".join(span.text.split()):
                return index
    scores = overlaps(spans, terms)
    return max(range(len(spans)), key=lambda i: (scores[i], -i))


def nearest_sentences(text: str, terms: set[str], budget: int) -> str:
    """The passage's sentences that share most words with the question, in their order,
    within `budget` characters (the whole text, spaces collapsed, when it fits)."""
    text = " ".join(text.split())
    if len(text) <= budget:
        return text
    spans = split_sentences(text)
    scores = overlaps(spans, terms)
    ranked = sorted(range(len(spans)), key=lambda i: (-scores[i], i))
    chosen: list[int] = []
    size = 0
    for index in ranked:
        length = len(spans[index].text) + 1
        if size + length <= budget:
            chosen.append(index)
            size += length
    if not chosen:
        return spans[ranked[0]].text[:budget].rsplit(" ", 1)[0]
    return " ".join(spans[i].text for i in sorted(chosen))
