"""A busy bot: acknowledgements never wait behind answers being computed.

The answerer is the real one over the seeded archive, slowed down at its seam (the callable
the bot is built with) as a large archive on a loaded machine would be.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.answerer import ArchiveAnswerer
from core.models import Answer
from tests.bot.conftest import RunningBot

SLOW_SECONDS = 2.0


def test_a_burst_of_questions_is_acked_at_once_and_each_answered_once(
    start_bot: Callable[..., RunningBot], archive_answerer: ArchiveAnswerer
) -> None:
    """12 /ask and 4 mentions at once, each answer taking 2 s: every delivery is acked in
    under a second (Slack gives up after 3 s), and every question gets exactly one answer."""

    def slow(question: str) -> Answer:
        time.sleep(SLOW_SECONDS)
        return archive_answerer(question)

    bot = start_bot(answerer=slow, rate_limit_per_minute=0)
    asks = [
        bot.command("who was Cienfuegos?", user=f"U0BUSY{i:02d}", reply_to=f"ask{i}")
        for i in range(12)
    ]
    mentions = [bot.mention("who was Cienfuegos?", user=f"U0MENT{i:02d}")[0] for i in range(4)]
    acks = [bot.socket.wait_ack(d, timeout=10).ack_seconds for d in asks + mentions]
    assert max(acks) < 1.0, [round(a, 2) for a in acks]
    for i in range(12):
        assert "Cienfuegos" in str(bot.web.wait_for_response(f"ask{i}", timeout=60)[0]["blocks"])
    bot.answers("C0NEWSDESK", count=4, timeout=60)
    bot.settle(60)
    assert all(len(bot.web.responses[f"ask{i}"]) == 1 for i in range(12))
    assert len(bot.web.calls_to("chat.postMessage")) == 4
