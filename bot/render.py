"""Answer -> a Slack message: Block Kit blocks plus the fallback `text` for notifications.

Everything from an article passes through `mrkdwn.escape`/`emphasize`, and every section
text is sent `verbatim` so Slack does not turn words of an article into links or mentions.
Slack's limits are kept here: 3,000 characters a section, 50 blocks, 2,000 a button value,
and the whole message under `BLOCKS_BUDGET` (Slack refuses messages at about 13.2k
characters of blocks with `msg_blocks_too_long`): passages are shortened first, and only
dropped, last first, when shortening is not enough. A model's written answer counts in the
same budget: passages are shortened first, then the ones it does not cite dropped; its
sentences are never cut, and when it still does not fit the answer is the quoted one alone.

A message carries `fallbacks`, simpler forms to post when a workspace refuses the blocks:
the classic 👍/👎 buttons instead of Slack's `feedback_buttons`, then plain text.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from bot.mrkdwn import clip, escape, mention
from bot.passages import byline, lead_text, passage_text
from bot.presentation import PLAIN, Presentation
from bot.written import label, shown_sentences, written_blocks
from core.answer.shown import EXCERPT_CHARS, answer_terms
from core.language.text import counted
from core.models import Answer, StoreSummary, WrittenAnswer

log = logging.getLogger(__name__)

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
VALUE_LIMIT = 2000
FALLBACK_CHARS = 600
BLOCKS_BUDGET = 12_000  # JSON characters of blocks: a 10% margin under Slack's ~13.2k
MAX_PASSAGES = 10  # however many ANSWER_PASSAGES asks for: more is not read in chat
# (excerpt, title) lengths tried in turn until the message fits in BLOCKS_BUDGET.
SHORTER = [(EXCERPT_CHARS, 250), (400, 160), (260, 120), (160, 80)]

FEEDBACK = "feedback"  # Slack's feedback_buttons element
FEEDBACK_UP = "feedback_up"  # the classic buttons, where feedback_buttons are refused
FEEDBACK_DOWN = "feedback_down"
SHARE = "share_answer"


@dataclass
class Message:
    """What `chat.postMessage`, `chat.update`, `chat.postEphemeral` and `respond()` take.

    Attributes:
        text: The notification fallback (or the whole message when `blocks` is empty).
        blocks: Block Kit blocks.
        fallbacks: Simpler forms of the same message, to try in turn when Slack refuses
            this one's blocks (`invalid_blocks`, `msg_blocks_too_long`).
        native_feedback: Whether the blocks hold Slack's `feedback_buttons`.
    """

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    fallbacks: list[Message] = field(default_factory=list)
    native_feedback: bool = False

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the Web API (links are not unfurled: sources are shown)."""
        kwargs: dict[str, Any] = {"text": self.text, "unfurl_links": False, "unfurl_media": False}
        if self.blocks:
            kwargs["blocks"] = self.blocks
        return kwargs

    def forms(self) -> list[Message]:
        """This message, then its fallbacks."""
        return [self, *self.fallbacks]


def render_answer(
    answer: Answer,
    answer_id: str,
    shown: Presentation = PLAIN,
    *,
    feedback: bool = True,
    native_feedback: bool = True,
) -> Message:
    """An answer as a Slack message.

    Args:
        answer: What the core answered.
        answer_id: Identifies the answer in feedback clicks.
        shown: How it is shown where it goes (share button, who asked, context, note,
            streamed written answer).
        feedback: Add 👍/👎 (when something was found).
        native_feedback: Use Slack's `feedback_buttons` (the classic buttons are the
            message's first fallback); False: classic buttons only.
    """
    asked = mention(shown.asked_by) if shown.asked_by else ""
    head = _head(answer, asked, shown.context, shown.note)
    if not answer.found or answer.lead is None:
        head.append(_section(escape(nothing_found(answer.summary))))
        return Message(_fallback(asked, nothing_found(answer.summary)), _cap(head))
    text = _fallback(asked, f"“{answer.lead}” — {byline(answer.lead_passage)}")
    forms = [native_feedback] if not feedback else ([True, False] if native_feedback else [False])
    messages = []
    written = [] if shown.streamed else _written(answer)
    for native in forms:
        tail = _tail(answer, answer_id, feedback, native, shown.share)
        blocks = _fit_message(answer, head, tail, shown.streamed)
        messages.append(Message(text, blocks, native_feedback=feedback and native))
    fitted = bool(written) and written[-1] in messages[-1].blocks  # it may not have fit
    messages.append(Message(_plain(answer, asked, fitted)))
    return Message(messages[0].text, messages[0].blocks, messages[1:], messages[0].native_feedback)


def _head(
    answer: Answer, asked: str, context_question: str | None, note: str | None
) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if asked:
        blocks.append(_section(f"{asked} asked: *{escape(clip(answer.question, 500))}*"))
    if note:
        blocks.append(_context([escape(note)]))
    if context_question:
        remark = f"Read with the thread's earlier question: “{clip(context_question, 200)}”"
        blocks.append(_context([escape(remark)]))
    if answer.notes:
        blocks.append(_context([escape(remark) for remark in answer.notes[:10]]))
    return blocks


def _tail(
    answer: Answer, answer_id: str, feedback: bool, native: bool, share: bool
) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    buttons = []
    if feedback and native:
        blocks.append(_feedback_buttons(answer_id, answer))
    elif feedback:
        value = feedback_value(answer_id, answer)
        buttons += [
            _button("👍 Helpful", FEEDBACK_UP, value),
            _button("👎 Not helpful", FEEDBACK_DOWN, value),
        ]
    if share:
        buttons.append(_share_button(answer.question))
    if buttons:
        blocks.append(_actions(buttons))
    return blocks


def _fit_message(
    answer: Answer, head: list[dict[str, Any]], tail: list[dict[str, Any]], streamed: bool
) -> list[dict[str, Any]]:
    """Head, written answer, lead, passages and tail within `BLOCKS_BUDGET` and
    `MAX_BLOCKS`; without the written answer when it cannot fit whole with the passages it
    cites (`streamed`: it is above the blocks, so it only takes room)."""
    written = _written(answer)
    if written:
        fitted = _fit_passages(answer, head + written, tail, _cited(answer))
        if fitted is not None:
            return [b for b in fitted if b not in written] if streamed else fitted
        log.info("the written answer does not fit in one message: quoting alone")
    return _fit_passages(answer, head, tail, 0) or head + tail


def _fit_passages(
    answer: Answer, head: list[dict[str, Any]], tail: list[dict[str, Any]], least: int
) -> list[dict[str, Any]] | None:
    """Head, lead, passages and tail: each length of `SHORTER` in turn, then fewer
    passages, but never fewer than `least` (None then). With `least` 0 the last try
    stands whatever its size."""
    terms = answer_terms(answer)
    room = MAX_BLOCKS - len(head) - len(tail) - 1
    count = min(len(answer.passages), MAX_PASSAGES, room)
    while count >= least:
        for excerpt, title in SHORTER:
            lead = lead_text(
                answer.lead or "", answer.lead_passage, terms, title, answer.lead_answer
            )
            body = [_section(lead)]
            for number, passage in enumerate(answer.passages[:count], 1):
                focus = answer.lead if passage is answer.lead_passage else None
                text = passage_text(number, passage, terms, focus, excerpt, title)
                body.append(_section(text))
            blocks = head + body + tail
            if (count == 0 and least == 0) or blocks_size(blocks) <= BLOCKS_BUDGET:
                return blocks
        count -= 1
    return None


def _written(answer: Answer) -> list[dict[str, Any]]:
    """The written answer's blocks; none when nothing of it is shown."""
    if answer.written is None or not answer.written.shown:
        return []
    return written_blocks(answer.written, answer.passages)


def _cited(answer: Answer) -> int:
    """The highest passage number the written answer cites: those passages must stay."""
    assert answer.written is not None
    shown = shown_sentences(answer.written, answer.passages)
    return max((n for s in shown for n in s.citations), default=0)


def blocks_size(blocks: list[dict[str, Any]]) -> int:
    """A message's size as measured against `BLOCKS_BUDGET`: its blocks as JSON."""
    return len(json.dumps(blocks, ensure_ascii=False))


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
    count = counted(summary.articles, "article")
    span = f", published {summary.oldest} to {summary.newest}" if summary.oldest else ""
    return (
        f"I found nothing relevant to that among {count}{span}. Try other words (names help), "
        "or ask whoever runs me to add articles with `ingest PATH_OR_URL`."
    )


def feedback_value(answer_id: str, answer: Answer, vote: str | None = None) -> str:
    """The value a feedback click brings back: the answer's id, question and lead (and, for
    `feedback_buttons`, which of the two was clicked)."""
    lead = f"“{answer.lead}” — {byline(answer.lead_passage)}" if answer.lead else ""
    question_room, lead_room = 300, 600
    while True:
        fields = {"id": answer_id, "q": clip(answer.question, question_room)}
        fields["a"] = clip(lead, lead_room)
        if vote:
            fields["v"] = vote
        value = json.dumps(fields, ensure_ascii=False)
        if len(value) <= VALUE_LIMIT:
            return value
        question_room, lead_room = question_room // 2, lead_room // 2


def _plain(answer: Answer, asked: str, written: bool) -> str:
    """The answer as plain mrkdwn text, for a workspace that refuses our blocks (with the
    written answer's sentences when the blocks held them)."""
    lines = [f"{asked} asked: {escape(clip(answer.question, 300))}"] if asked else []
    if written and answer.written is not None:
        lines.append(f"_{escape(label(answer.written.model))}_")
        shown = shown_sentences(answer.written, answer.passages)
        lines.append(escape(WrittenAnswer(answer.written.model, shown).text))
    lines.append(f"“{escape(clip(answer.lead or '', 1200))}”")
    for number, passage in enumerate(answer.passages[:MAX_PASSAGES], 1):
        lines.append(f"{number}. {escape(clip(byline(passage), 300))}")
    return "\n".join(lines)


def _fallback(asked: str, text: str) -> str:
    prefix = f"{asked} asked a question. " if asked else ""
    return prefix + escape(clip(" ".join(text.split()), FALLBACK_CHARS))


def _section(mrkdwn: str) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": fit_section(mrkdwn), "verbatim": True},
    }


def _context(mrkdwn_items: list[str]) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": fit_section(t), "verbatim": True} for t in mrkdwn_items
        ],
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


def _feedback_buttons(answer_id: str, answer: Answer) -> dict[str, Any]:
    def half(label: str, vote: str, spoken: str) -> dict[str, Any]:
        return {
            "text": {"type": "plain_text", "text": label, "emoji": True},
            "accessibility_label": spoken,
            "value": feedback_value(answer_id, answer, vote),
        }

    element = {
        "type": "feedback_buttons",
        "action_id": FEEDBACK,
        "positive_button": half("👍", "up", "This answer was helpful"),
        "negative_button": half("👎", "down", "This answer was not helpful"),
    }
    return {"type": "context_actions", "elements": [element]}


def _share_button(question: str) -> dict[str, Any]:
    value = json.dumps({"q": clip(question, 600)}, ensure_ascii=False)
    button = _button("Share in channel", SHARE, value)
    button["style"] = "primary"
    return button


def fit_section(mrkdwn: str) -> str:
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
