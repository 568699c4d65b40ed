"""In Slack, a model cannot hold an answer past ANSWER_TIMEOUT, nor leave threads and
sockets behind, nor be sent more of a question than is answered (issue 19, points 6, 8).

The real Bolt app over Socket Mode against the Slack stand-in; the model is the scripted
OpenAI-compatible server (testing/llm_standin.py), sending SSE keep-alive comments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from testing.llm_standin import FakeChatServer, Reply
from tests.bot.conftest import RunningBot
from tests.helpers import model_threads, open_sockets, wait_until

QUESTION = "What did the Riverside zoning board approve?"
SUPPORTED = "[1] The Riverside zoning board approved the footbridge over the canal on Tuesday."
TIMEOUT = 2.0
MARGIN = 1.5


@pytest.fixture
def writing_bot(start_bot: Callable[..., RunningBot], llm: FakeChatServer) -> RunningBot:
    """A bot whose ANSWER_MODEL is the stand-in, with a 2 s ANSWER_TIMEOUT."""
    values: dict[str, Any] = {"answer_model": llm.base_url, "answer_timeout": TIMEOUT}
    return start_bot(writing=True, **values)


def test_keep_alive_comments_leave_no_thread_or_socket_behind(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """Three questions to a model that only pings: each is answered with the quote by
    ANSWER_TIMEOUT, and no model thread or connection outlives it."""
    sockets = open_sockets()
    llm.script(*[Reply(ping=0.1, delay=60) for _ in range(3)])
    for n in range(3):
        writing_bot.mention(f"{QUESTION} ({n})", user=f"U0ASKER{n}")
    answers = writing_bot.answers("C0NEWSDESK", count=3)
    assert all(a.blocks[0]["text"]["text"].startswith(">“") for a in answers)
    assert len(llm.requests) == 3
    assert wait_until(lambda: not model_threads(), 0.5)
    last = max(r.received_at for r in llm.requests)
    assert wait_until(lambda: all(r.hung_up_at for r in llm.requests), 1.0)
    assert max(r.hung_up_at or 0 for r in llm.requests) - last < TIMEOUT + MARGIN
    assert wait_until(lambda: open_sockets() <= sockets, 1.0)


def test_a_streamed_answer_ends_at_the_timeout_with_what_was_verified(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """A model that writes a sentence, starts another, then keeps the stream open: the first
    streams, and the message closes with the quote at ANSWER_TIMEOUT, not when the server
    stops."""
    llm.script(Reply(f"{SUPPORTED} [1] The board", ping=0.1, hold=60))
    writing_bot.mention(QUESTION)
    [stop] = writing_bot.web.wait_for("chat.stopStream", timeout=TIMEOUT + MARGIN + 3)
    stream = writing_bot.web.streams[stop.args["ts"]]
    assert "approved the footbridge over the canal on Tuesday" in stream.markdown
    assert stream.stopped
    request = llm.requests[0]
    assert wait_until(lambda: request.hung_up_at is not None, 1.0)
    assert (request.hung_up_at or 0) - request.received_at < TIMEOUT + MARGIN


def test_only_the_answered_part_of_a_long_question_is_sent_to_the_model(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """A 30 KB question in Slack: the model gets the first MAX_QUESTION_CHARS, as the
    search does, not the whole message."""
    llm.script(Reply(SUPPORTED))
    writing_bot.mention(QUESTION + " and" * 7_500 + " TAILMARK")
    writing_bot.web.wait_for("chat.stopStream")
    [request] = llm.requests
    assert request.size < 10_000
    assert "TAILMARK" not in request.prompt and QUESTION in request.prompt
