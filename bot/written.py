"""A written answer for Slack: Block Kit for one post, markdown for a stream.

The model's sentences reach here verified and free of markup (core.written.verify drops `<…>`);
they are still escaped like article text, so no `@channel` or link can come through. Each
citation [n] links to the article of the n-th passage listed below the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from bot.mrkdwn import escape, link, unlink
from core.models import Passage, WrittenAnswer, WrittenSentence

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~\[\]<>#|])")
_WORD_JOINER = "\u2060"
SECTION_LIMIT = 3000
_URL_SAFE = ":/?#@!$&'*+,;=%~.-_"  # no "(" or ")": they would end a markdown link


def label(model: str) -> str:
    """Who wrote it and from what, in plain words."""
    return f"Written by {model} from the passages below. Each sentence is checked against them."


def written_blocks(written: WrittenAnswer, passages: Sequence[Passage]) -> list[dict[str, Any]]:
    """The written answer as blocks, for a message posted in one go (mrkdwn): the
    `shown_sentences`, none when not even the first fits (then the quote stands alone)."""
    shown = [_mrkdwn_sentence(s, passages) for s in shown_sentences(written, passages)]
    if not shown:
        return []
    text = " ".join(shown)
    return [
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"_{escape(label(written.model))}_"}],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}},
    ]


def shown_sentences(written: WrittenAnswer, passages: Sequence[Passage]) -> list[WrittenSentence]:
    """The sentences one message shows: whole ones, from the first, within Slack's section
    limit (a sentence is never cut; a stream stops appending where this stops)."""
    shown: list[WrittenSentence] = []
    size = -1
    for sentence in written.sentences:
        size += 1 + len(_mrkdwn_sentence(sentence, passages))
        if size > SECTION_LIMIT:
            break
        shown.append(sentence)
    return shown


def label_markdown(model: str) -> str:
    """The label that opens a streamed answer (standard markdown)."""
    return f"_{_markdown_text(label(model))}_\n\n"


def sentence_markdown(sentence: WrittenSentence, passages: Sequence[Passage]) -> str:
    """One verified sentence and its linked citations, to append to a stream (markdown)."""
    cites = "".join(_markdown_citation(n, passages) for n in sentence.citations)
    return f"{_markdown_text(unlink(sentence.text))} {cites} "


def _mrkdwn_sentence(sentence: WrittenSentence, passages: Sequence[Passage]) -> str:
    cites = "".join(link(_url(n, passages), f"[{n}]") for n in sentence.citations)
    return f"{escape(unlink(sentence.text))} {cites}"


def _markdown_text(text: str) -> str:
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _BROADCAST.sub(lambda m: f"@{_WORD_JOINER}{m.group(1)}", text)


def _markdown_citation(number: int, passages: Sequence[Passage]) -> str:
    url = _url(number, passages)
    if not url:
        return f"\\[{number}\\]"
    return f"[\\[{number}\\]]({quote(url, safe=_URL_SAFE)})"


def _url(number: int, passages: Sequence[Passage]) -> str | None:
    if not 1 <= number <= len(passages):
        return None
    url = passages[number - 1].url
    return url if url and url.lower().startswith(("http://", "https://")) else None
