"""A busy bot: acknowledgements never wait behind answers being computed.

The answerer is the real one over the seeded archive, held at its seam (the callable the bot
is built with) until every delivery is acknowledged, as a large archive on a loaded machine
would hold it. How fast the acks come is measured by `python -m bench.slack_latency`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from bot.answerer import ArchiveAnswerer
from core.models import Answer
from tests.bot.conftest import RunningBot


def test_a_burst_of_questions_is_acked_at_once_and_each_answered_once(
    start_bot: Callable[..., RunningBot], archive_answerer: ArchiveAnswerer
) -> None:
    """12 /ask and 4 mentions at once while no answer can finish yet: every delivery is
    acked all the same (Slack retries what it hears nothing back about), and once answers
    can finish every question gets exactly one answer."""
    release = threading.Event()

    def held(question: str) -> Answer:
        release.wait(120)
        return archive_answerer(question)

    bot = start_bot(answerer=held, rate_limit_per_minute=0)
    try:
        asks = [
            bot.command("who was Cienfuegos?", user=f"U0BUSY{i:02d}", reply_to=f"ask{i}")
            for i in range(12)
        ]
        mentions = [bot.mention("who was Cienfuegos?", user=f"U0MENT{i:02d}")[0] for i in range(4)]
        for delivery in asks + mentions:
            bot.socket.wait_ack(delivery, timeout=30)  # no answer has finished yet
    finally:
        release.set()
    for i in range(12):
        assert "Cienfuegos" in str(bot.web.wait_for_response(f"ask{i}", timeout=60)[0]["blocks"])
    bot.answers("C0NEWSDESK", count=4, timeout=60)
    bot.settle(60)
    assert all(len(bot.web.responses[f"ask{i}"]) == 1 for i in range(12))
    assert len(bot.web.calls_to("chat.postMessage")) == 4
