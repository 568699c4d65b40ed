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
    bot.done()  # the answer's work is done
    assert len(bot.web.calls_to("chat.postMessage")) == 3  # no fourth, duplicate post


@pytest.mark.parametrize("how", ["eof", "reset"])
def test_a_dropped_web_api_connection_is_retried(bot: RunningBot, how: str) -> None:
    """chat.postMessage's connection closed (or reset) with no answer: retried, posted once."""
    bot.web.drop_next("chat.postMessage", how)
    bot.mention(QUESTION)
    dropped, retried = _attempts(bot, "chat.postMessage", 2)
    assert 0.5 <= retried - dropped <= 2.5
    bot.done()
    assert len(bot.web.calls_to("chat.postMessage")) == 2
    assert [path for path, _ in bot.web.failed] == ["/api/chat.postMessage"]


def test_a_5xx_on_the_response_url_is_retried(bot: RunningBot) -> None:
    """/ask's private answer meets a 503 from response_url: it is sent again and arrives once."""
    bot.web.fail_next("response/ask", 503, {"ok": False})
    bot.socket.wait_ack(bot.command(QUESTION, reply_to="ask"))
    [private] = bot.web.wait_for_response("ask")
    assert "Cienfuegos" in str(private["blocks"])
    assert [path for path, _ in bot.web.failed] == ["/response/ask"]


def test_an_unreachable_progress_reaction_does_not_cost_the_answer(bot: RunningBot) -> None:
    """No status in the thread, and reactions.add's connection reset: the hourglass is a
    nicety, so it is not retried, and the answer is posted all the same."""
    bot.web.fail_next("assistant.threads.setStatus", 200, {"ok": False, "error": "not_allowed"})
    bot.web.drop_next("reactions.add", "reset")
    bot.mention(QUESTION)
    [answer] = bot.answered("C0NEWSDESK")  # the hourglass's removal follows its add
    assert "Cienfuegos" in answer.all_text
    assert len(bot.web.calls_to("reactions.add")) == 1


def test_an_answer_slack_cannot_be_reached_for_is_told_to_the_asker(bot: RunningBot) -> None:
    """chat.postMessage dropped on every try: the asker is told privately that the answer
    could not be posted, instead of being left waiting in silence."""
    for _ in range(3):
        bot.web.drop_next("chat.postMessage", "reset")
    bot.mention(QUESTION, user="U0ASKER")
    [notice] = bot.web.wait_for("chat.postEphemeral")
    assert notice.args["user"] == "U0ASKER" and "couldn't post my answer" in notice.args["text"]
    assert len(bot.web.calls_to("chat.postMessage")) == 3
