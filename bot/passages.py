"""How one passage of an article is shown: its excerpt, its source line, its byline.

The excerpt and the dates are the core's (`core.answer.shown`, one for every surface); here
they become mrkdwn: the source line links the title and names the outlet and the days it
published and updated the article. Everything from the article passes through
`mrkdwn.escape`/`emphasize`.
"""

from __future__ import annotations

from bot.mrkdwn import blockquote, clip, emphasize, escape, link
from core.answer.shown import chat_dates, excerpt_of, passage_byline
from core.models import Passage


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
    dates = (passage.source, *chat_dates(passage))
    parts += [escape(clip(x, 100)) for x in dates if x]
    return " · ".join(parts)


def byline(passage: Passage | None) -> str:
    return "" if passage is None else passage_byline(passage)
