"""`Presentation`: how one answer is shown, decided once and handed to the renderer.

Where an answer goes decides how it looks: a private `/ask` answer gets a Share button, a
shared one says who asked, an answer in a thread says which earlier question it was read
with, an edited or corrected one carries our note, and a streamed one has its written part
above the blocks. One frozen value carries these from the surface to `render_answer`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Presentation:
    """How an answer is shown.

    Attributes:
        context: The thread's earlier question, searched together with this one and shown
            above the answer.
        share: Add a "Share in channel" button (private answers).
        asked_by: The user whose question this is, shown above the answer (shared answers).
        note: A remark of ours above the answer (plain text).
        streamed: The written answer was streamed into the message above the blocks: it
            counts in the size budget, but is not among the blocks.
    """

    context: str | None = None
    share: bool = False
    asked_by: str | None = None
    note: str | None = None
    streamed: bool = False

    def streaming(self) -> Presentation:
        """The same, for a message whose written answer is streamed above it."""
        return replace(self, streamed=True)


PLAIN = Presentation()  # an answer where it was asked, with nothing added
