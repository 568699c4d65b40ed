"""A streamed answer's complete sentences, each handed out once, in linear time.

Parsing the whole text again at every token (`core.written.verify.parse_written`) costs time
quadratic in its length: a 13 KB answer took seconds of CPU. Here only a window of the
text is parsed: once sentences are complete, the window moves past them, at a place where
parsing the text before and after it apart gives exactly the sentences parsing it whole
gives (so the parser's rules, e.g. which sentence a citation after a full stop belongs
to, are kept without being known here). The window holds about one sentence.
"""

from __future__ import annotations

import re

from core.models import WrittenSentence
from core.written.parse import parse_written

# Where a sentence may end in the raw text: a stop, closing quotes or brackets, then
# either the space before citations or the citations and the space after them.
_ENDS = re.compile(r"""[.!?]["'”’)]*(?P<space>\s+)(?P<cites>(?:\[[\d,;\s]*\]\s*)*)""")
_TRIES = 4  # candidate places tried per move, latest first


class SentenceFeed:
    """Feed the model's text piece by piece; get each complete sentence once."""

    def __init__(self) -> None:
        self._window = ""
        self._given = 0  # sentences of the window already handed out

    def feed(self, piece: str) -> list[WrittenSentence]:
        """The sentences this piece completed (the last one may still be growing)."""
        self._window += piece
        parsed = parse_written(self._window, finished=False)
        new = parsed.sentences[self._given : parsed.complete]
        self._given = max(self._given, parsed.complete)
        if new:
            self._move(parsed.sentences)
        return new

    def finish(self) -> list[WrittenSentence]:
        """The sentences the end of the text completed."""
        parsed = parse_written(self._window, finished=True)
        return parsed.sentences[self._given : parsed.complete]

    def _move(self, sentences: list[WrittenSentence]) -> None:
        """Drop the handed-out sentences from the window, where that changes nothing."""
        places = []
        for match in _ENDS.finditer(self._window):
            places += [match.end("cites"), match.start("cites")]
        for place in sorted(set(places), reverse=True)[:_TRIES]:
            before = parse_written(self._window[:place], finished=True)
            done = len(before.sentences)
            if done == 0 or done > self._given or before.complete != done:
                continue
            if before.sentences != sentences[:done]:
                continue
            after = parse_written(self._window[place:], finished=False).sentences
            if after == sentences[done:]:
                self._window = self._window[place:]
                self._given -= done
                return
