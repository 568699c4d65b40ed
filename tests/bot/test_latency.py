"""Slack hears back at once and the answer follows quickly (numbers printed for the record)."""

from __future__ import annotations

import statistics
from collections.abc import Callable

import pytest

from tests.bot.conftest import RunningBot

ROUNDS = 10


def test_acks_are_immediate_and_answers_follow_within_a_second(
    start_bot: Callable[..., RunningBot],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Delivery -> ack far below Slack's 3 s retry limit; delivery -> answer posted < 1 s."""
    bot = start_bot(rate_limit_per_minute=0)
    acks, answers = [], []
    for i in range(ROUNDS):
        delivery, _ = bot.mention("who was Cienfuegos?")
        posted = bot.answers("C0NEWSDESK", count=i + 1)[-1]
        acks.append(bot.socket.wait_ack(delivery).ack_seconds * 1000)
        answers.append((posted.at - delivery.sent_at) * 1000)
    with capsys.disabled():
        print(
            f"\nSocket Mode, {ROUNDS} mentions: ack median {statistics.median(acks):.1f} ms "
            f"(max {max(acks):.1f}); answer posted median {statistics.median(answers):.1f} ms "
            f"(max {max(answers):.1f})"
        )
    assert max(acks) < 500
    assert statistics.median(answers) < 1000
