"""Answer -> a Slack message: Block Kit blocks plus the fallback `text` for notifications.

Everything from an article passes through `mrkdwn.escape`/`emphasize`, and every section
text is sent `verbatim` so Slack does not turn words of an article into links or mentions.
Slack's limits are kept here: 3,000 characters a section, 50 blocks, 2,000 a button value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.mrkdwn import blockquote, clip, emphasize, escape, link, mention, query_terms
from bot.written import written_blocks
from core.models import Answer, Passage, StoreSummary
from core.text import Span, split_sentences

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
VALUE_LIMIT = 2000
EXCERPT_CHARS = 600
FALLBACK_CHARS = 600

FEEDBACK_UP = "feedback_up"
FEEDBACK_DOWN = "feedback_down"
SHARE = "share_answer"


@dataclass
class Message:
    """What `chat.postMessage`, `chat.postEphemeral` and `respond()` take."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the Web API (links are not unfurled: sources are shown)."""
        kwargs: dict[str, Any] = {"text": self.text, "unfurl_links": False, "unfurl_media": False}
        if self.blocks:
            kwargs["blocks"] = self.blocks
        return kwargs


def render_answer(
    answer: Answer,
    answer_id: str,
    *,
    feedback: bool = True,
    share: bool = False,
    asked_by: str | None = None,
    context_question: str | None = None,
) -> Message:
    """An answer as a Slack message.

    Args:
        answer: What the core answered.
        answer_id: Identifies the answer in feedback clicks.
        feedback: Add 👍/👎 buttons (when something was found).
        share: Add a "Share in channel" button (private `/ask` answers).
        asked_by: The user whose question this is, shown above the answer (shared answers).
        context_question: The thread's earlier question the search also used.
    """
    blocks: list[dict[str, Any]] = []
    asked = mention(asked_by) if asked_by else ""
    if asked:
        blocks.append(_section(f"{asked} asked: *{escape(clip(answer.question, 500))}*"))
    if context_question:
        note = f"Read with the thread's earlier question: “{clip(context_question, 200)}”"
        blocks.append(_context([escape(note)]))
    if answer.notes:
        blocks.append(_context([escape(note) for note in answer.notes[:10]]))
    if not answer.found or answer.lead is None:
        blocks.append(_section(escape(nothing_found(answer.summary))))
        return Message(_fallback(asked, nothing_found(answer.summary)), _cap(blocks))
    terms = query_terms(answer.question)
    if answer.written is not None and answer.written.shown:  # a model's verified answer first
        blocks += written_blocks(answer.written, answer.passages)
    blocks.append(_section(_lead_text(answer.lead, answer.lead_passage, terms)))
    room = MAX_BLOCKS - len(blocks) - 1
    for number, passage in enumerate(answer.passages[:room], 1):
        focus = answer.lead if passage is answer.lead_passage else None
        blocks.append(_section(_passage_text(number, passage, terms, focus)))
    buttons = []
    if feedback:
        value = feedback_value(answer_id, answer)
        buttons += [
            _button("👍 Helpful", FEEDBACK_UP, value),
            _button("👎 Not helpful", FEEDBACK_DOWN, value),
        ]
    if share:
        buttons.append(_share_button(answer.question))
    if buttons:
        blocks.append(_actions(buttons))
    return Message(
        _fallback(asked, f"“{answer.lead}” — {_byline(answer.lead_passage)}"), _cap(blocks)
    )


def render_notice(text: str) -> Message:
    """A short message of our own (already mrkdwn, nothing from articles)."""
    return Message(text, [_section(text)])


def nothing_found(summary: StoreSummary | None) -> str:
    """The honest reply when nothing relevant is stored: what the archive holds, what to do."""
    if summary is None or summary.articles == 0:
        return (
            "The archive is empty, so I have nothing to quote yet. Whoever runs me can add "
            "articles with `ingest PATH_OR_URL`; they become answerable within seconds."
        )
    count = f"{summary.articles} article" + ("" if summary.articles == 1 else "s")
    span = f", published {summary.oldest} to {summary.newest}" if summary.oldest else ""
    return (
        f"I found nothing relevant to that among {count}{span}. Try other words (names help), "
        "or ask whoever runs me to add articles with `ingest PATH_OR_URL`."
    )


def feedback_value(answer_id: str, answer: Answer) -> str:
    """The button value a feedback click brings back: the answer's id, question and lead."""
    lead = f"“{answer.lead}” — {_byline(answer.lead_passage)}" if answer.lead else ""
    question_room, lead_room = 600, 1100
    while True:
        value = json.dumps(
            {
                "id": answer_id,
                "q": clip(answer.question, question_room),
                "a": clip(lead, lead_room),
            },
            ensure_ascii=False,
        )
        if len(value) <= VALUE_LIMIT:
            return value
        question_room, lead_room = question_room // 2, lead_room // 2


def _lead_text(lead: str, passage: Passage | None, terms: set[str]) -> str:
    quoted = blockquote(emphasize(f"“{clip(lead, 1500)}”", terms))
    return f"{quoted}\n— {_source_line(passage)}" if passage else quoted


def _passage_text(number: int, passage: Passage, terms: set[str], focus: str | None) -> str:
    excerpt = excerpt_of(passage.text, terms, focus)
    return f"*{number}.* {_source_line(passage)}\n{blockquote(emphasize(excerpt, terms))}"


def _source_line(passage: Passage | None) -> str:
    if passage is None:
        return ""
    title = clip(passage.title or "(untitled)", 250)
    parts = [f"*{link(passage.url, title)}*"]
    parts += [escape(clip(x, 100)) for x in (passage.source, _date(passage.published_at)) if x]
    return " · ".join(parts)


def _byline(passage: Passage | None) -> str:
    if passage is None:
        return ""
    parts = [passage.title or "(untitled)", passage.source, _date(passage.published_at)]
    return ", ".join(p for p in parts if p)


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


def _fallback(asked: str, text: str) -> str:
    prefix = f"{asked} asked a question. " if asked else ""
    return prefix + escape(clip(" ".join(text.split()), FALLBACK_CHARS))


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _fit(mrkdwn), "verbatim": True}}


def _context(mrkdwn_items: list[str]) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": _fit(t), "verbatim": True} for t in mrkdwn_items],
    }


def _actions(buttons: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "actions", "elements": buttons}


def _button(label: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "action_id": action_id,
        "value": value,
    }


def _share_button(question: str) -> dict[str, Any]:
    value = json.dumps({"q": clip(question, 600)}, ensure_ascii=False)
    button = _button("Share in channel", SHARE, value)
    button["style"] = "primary"
    return button


def _fit(mrkdwn: str) -> str:
    """Cut mrkdwn to Slack's section limit without splitting an `&amp;` escape."""
    if len(mrkdwn) <= SECTION_LIMIT:
        return mrkdwn
    cut = mrkdwn[: SECTION_LIMIT - 1]
    amp = cut.rfind("&")
    if amp >= 0 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def _cap(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return blocks[: MAX_BLOCKS - 1] + [blocks[-1]]
