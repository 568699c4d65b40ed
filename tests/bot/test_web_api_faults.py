"""Slack's Web API misbehaving: 5xx answers and connections dropped without an answer.

Every fault is made by the stand-in at the wire (an HTTP status, a TCP connection closed or
reset); the bot is the production app, retrying with backoff and posting once.
"""

from __future__ import annotations

import pytest

from tests.bot.conftest import RunningBot

QUESTION = "who was Cienfuegos?"


def _attempts(bot: RunningBot, method: str, count: int) -> list[float]:
    return [c.at for c in bot.web.wait_for(method, count=count)]


def test_5xx_from_the_web_api_is_retried_with_growing_backoff(bot: RunningBot) -> None:
    """500 then 502 on chat.postMessage: retried after ~0.5-1.5 s, then ~1-2 s; posted once."""
    bot.web.fail_next("chat.postMessage", 500, {"ok": False, "error": "internal_error"})
    bot.web.fail_next("chat.postMessage", 502, {"ok": False, "error": "bad_gateway"})
    bot.mention(QUESTION)
    first, second, third = _attempts(bot, "chat.postMessage", 3)
    assert 0.5 <= second - first <= 2.5
    assert 1.0 <= third - second <= 3.0
    assert len(bot.web.failed) == 2
    bot.web.wait_for("reactions.remove")  # the answer's work is done
    assert len(bot.web.calls_to("chat.postMessage")) == 3  # no fourth, duplicate post


@pytest.mark.parametrize("how", ["eof", "reset"])
def test_a_dropped_web_api_connection_is_retried(bot: RunningBot, how: str) -> None:
    """chat.postMessage's connection closed (or reset) with no answer: retried, posted once."""
    bot.web.drop_next("chat.postMessage", how)
    bot.mention(QUESTION)
    dropped, retried = _attempts(bot, "chat.postMessage", 2)
    assert 0.5 <= retried - dropped <= 2.5
    bot.web.wait_for("reactions.remove")
    assert len(bot.web.calls_to("chat.postMessage")) == 2
    assert [path for path, _ in bot.web.failed] == ["/api/chat.postMessage"]


def test_a_5xx_on_the_response_url_is_retried(bot: RunningBot) -> None:
    """/ask's private answer meets a 503 from response_url: it is sent again and arrives once."""
    bot.web.fail_next("response/ask", 503, {"ok": False})
    bot.socket.wait_ack(bot.command(QUESTION, reply_to="ask"))
    [private] = bot.web.wait_for_response("ask")
    assert "Cienfuegos" in str(private["blocks"])
    assert [path for path, _ in bot.web.failed] == ["/response/ask"]
