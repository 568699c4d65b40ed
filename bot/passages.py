"""How one passage of an article is shown: its excerpt, its source line, its byline.

The excerpt is the passage's best sentence (the lead, else the one holding most of the
question's words) and its neighbours while a character budget lasts; the source line links
the title and names the outlet and the days it published and updated the article.
Everything from the article passes through `mrkdwn.escape`/`emphasize`.
"""

from __future__ import annotations

from datetime import date

from bot.mrkdwn import blockquote, clip, emphasize, escape, link, query_terms
from core.language.text import Span, split_sentences
from core.models import Passage

EXCERPT_CHARS = 600


def lead_text(
    lead: str,
    passage: Passage | None,
    terms: set[str],
    title: int,
    answer: tuple[int, int] | None = None,
) -> str:
    """The quoted lead: the answer in bold when the core marked one (then only it, so it
    stands out), else the question's words."""
    shown = clip(lead, 1500)
    if answer and answer[1] <= len(shown) and shown[: answer[1]] == lead[: answer[1]]:
        start, end = answer
        body = f"{escape(lead[:start])}*{escape(lead[start:end])}*{escape(shown[end:])}"
    else:
        body = emphasize(shown, terms)
    quoted = blockquote(f"“{body}”")
    return f"{quoted}\n— {source_line(passage, title)}" if passage else quoted


def passage_text(
    number: int, passage: Passage, terms: set[str], focus: str | None, budget: int, title: int
) -> str:
    excerpt = excerpt_of(passage.text, terms, focus, budget)
    line = source_line(passage, title)
    return f"*{number}.* {line}\n{blockquote(emphasize(excerpt, terms))}"


def source_line(passage: Passage | None, title_chars: int = 250) -> str:
    if passage is None:
        return ""
    title = clip(passage.title or "(untitled)", title_chars)
    parts = [f"*{link(passage.url, title)}*"]
    dates = (passage.source, _date(passage.published_at), _updated(passage))
    parts += [escape(clip(x, 100)) for x in dates if x]
    return " · ".join(parts)


def byline(passage: Passage | None) -> str:
    if passage is None:
        return ""
    parts = [passage.title or "(untitled)", passage.source, _date(passage.published_at)]
    parts.append(_updated(passage))
    return ", ".join(p for p in parts if p)


def _updated(passage: Passage) -> str:
    """ "updated 12 Nov" when the outlet changed the article on another day than it published
    it (the year too when it differs from the publication's)."""
    modified = passage.modified_at
    if not modified or modified[:10] == (passage.published_at or "")[:10]:
        return ""
    try:
        day = date.fromisoformat(modified[:10])
    except ValueError:
        return f"updated {modified[:10]}"
    same_year = (passage.published_at or "")[:4] == f"{day.year:04d}"
    return f"updated {day.day} {day:%b}" + ("" if same_year else f" {day.year}")


def _date(published_at: str | None) -> str:
    if not published_at:
        return ""
    try:
        day = date.fromisoformat(published_at[:10])
    except ValueError:
        return published_at[:10]
    return f"{day.day} {day:%b %Y}"


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
    scores = [len(query_terms(span.text) & terms) for span in spans]
    return max(range(len(spans)), key=lambda i: (scores[i], -i))
