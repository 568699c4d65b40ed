"""`ask` with ANSWER_MODEL set: how the written answer is shown, above the quoted answer
that `ask.__main__` prints as before (`core.written.writer` writes it).

Imported only when a model is configured, so plain `ask` loads no LangChain model code.
"""

from __future__ import annotations

import textwrap
from typing import Any

from core.models import WrittenAnswer, WrittenSentence


def render_written(written: WrittenAnswer) -> list[str]:
    """The written answer's lines for a terminal: none when nothing survived verification."""
    if not written.shown:
        return []
    lines = [written_label(written.model)]
    lines += [textwrap.fill(sentence_text(s), width=88) for s in written.sentences]
    return [*lines, ""]


def written_label(model: str) -> str:
    """The line above a written answer."""
    return f"Written by {model} from the passages below. Each sentence is checked against them."


def sentence_text(sentence: WrittenSentence) -> str:
    """A kept sentence with its citations, which number the passages listed below."""
    return f"{sentence.text} {''.join(f'[{n}]' for n in sentence.citations)}"


def written_json(written: WrittenAnswer) -> dict[str, Any]:
    """The written answer in `ask --json`."""
    return {
        "model": written.model,
        "text": written.text,
        "sentences": [{"text": s.text, "citations": list(s.citations)} for s in written.sentences],
        "removed": written.removed,
        "problem": written.problem,
        "first_token_seconds": written.first_token_seconds,
        "seconds": round(written.seconds, 3),
    }
