"""A model's written text -> sentences with the passage numbers each cites.

Owns: `parse_written` (citations, markup, list marks and thinking removed; an unfinished
last sentence held back), `refuses`, and `SENTENCE_END`, the end a full sentence has.
May import: `core.language`, `core.models`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.language.text import split_sentences
from core.models import WrittenSentence

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
SENTENCE_END = re.compile(r"""[.!?]["'”’»›“)\]]*$""")
_REFUSAL = re.compile(
    r"passages? (do|does) not (answer|say|mention|contain)|not (enough|sufficient) information"
    r"|\b(cannot|can't|can not|unable to) (answer|find|determine)|\bI('m| am) sorry\b",
    re.IGNORECASE,
)


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
        if citations and re.search(r"\]\W*$", span.text) and not SENTENCE_END.search(body):
            body = body.rstrip(" ,;:") + "."  # "… in 2020 [1]": the citation ends it
        if body.strip(" .,;:!?"):
            sentences.append(WrittenSentence(body, tuple(dict.fromkeys(citations))))
    complete = len(sentences)
    if sentences and not (finished and SENTENCE_END.search(sentences[-1].text)):
        complete -= 1
    return Parsed(sentences, complete)


def refuses(text: str) -> bool:
    """True when the model says it cannot answer from the passages."""
    return bool(_REFUSAL.search(text))
