"""Written answers in Slack: streamed only once verified, posted once where streaming is not.

The bot runs as in production (real core, real Chroma, Socket Mode) against the Slack
stand-in, which speaks `chat.startStream` / `appendStream` / `stopStream`; the model is
the scripted OpenAI-compatible server (tests/llm_standin.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.answerer import ArchiveAnswerer
from bot.app import create_app
from bot.socket_mode import create_socket_handler
from core.settings import Settings
from core.writer import Writer
from tests.bot.conftest import APP_TOKEN, RunningBot, bot_settings
from tests.llm_standin import FakeChatServer, Reply
from tests.slack_standin import payloads
from tests.slack_standin.socket_mode import FakeSocketMode
from tests.slack_standin.web_api import FakeSlackWebAPI

QUESTION = "What did the Riverside zoning board approve?"
SUPPORTED = "[1] The Riverside zoning board approved the footbridge over the canal on Tuesday."
INVENTED = "[1] Mayor Kowalski approved 9 footbridges over the canal."
ARTICLE = "https://gazette.example/zoning-footbridge"
STREAMING = ("chat.startStream", "chat.appendStream", "chat.stopStream")


@pytest.fixture
def llm() -> Iterator[FakeChatServer]:
    with FakeChatServer() as server:
        yield server


@pytest.fixture
def writing_bot(
    archive: Settings,
    archive_answerer: ArchiveAnswerer,
    slack: tuple[FakeSlackWebAPI, FakeSocketMode],
    llm: FakeChatServer,
    tmp_path: Path,
) -> Iterator[RunningBot]:
    """A bot whose ANSWER_MODEL is the scripted server."""
    web, socket = slack
    settings = bot_settings(
        archive, web, tmp_path, answer_model=llm.base_url, answer_model_name="standin-7b"
    )
    settings = settings.model_copy(update={"answer_timeout": 2.0})
    app = create_app(settings, archive_answerer, writer=Writer.from_settings(settings))
    handler = create_socket_handler(app, APP_TOKEN)
    handler.connect()
    socket.wait_connected()
    yield RunningBot(web, socket, settings, app, handler)
    handler.close()


def _everything_sent(web: FakeSlackWebAPI) -> str:
    """All text the bot sent to Slack: messages, blocks, streamed markdown."""
    return "\n".join(f"{c.all_text}\n{c.markdown}" for c in web.calls)


def _ask_in_thread(bot: RunningBot) -> dict[str, Any]:
    _, event = bot.mention(QUESTION)
    return event


def test_the_verified_answer_streams_first_then_the_quote_and_passages(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """In a thread: label and cited sentences stream in, then the quoted lead, the passages
    and the buttons close the same message; citations link to their articles."""
    llm.script(Reply(SUPPORTED))
    event = _ask_in_thread(writing_bot)
    stop = writing_bot.web.wait_for("chat.stopStream")[0]
    start = writing_bot.web.calls_to("chat.startStream")[0]
    assert start.args["thread_ts"] == event["ts"]
    assert start.args["recipient_user_id"] == "U0REPORTER"
    assert start.args["recipient_team_id"] == "T0NEWS"
    stream = writing_bot.web.streams[stop.args["ts"]]
    assert stream.markdown.startswith("_Written by standin-7b from the passages below.")
    assert "The Riverside zoning board approved the footbridge over the canal on Tuesday." in (
        stream.markdown
    )
    assert f"[\\[1\\]]({ARTICLE})" in stream.markdown
    assert stream.blocks[0]["text"]["text"].startswith(">“")  # the quoted lead
    shown = json.dumps(stream.blocks)
    assert "feedback_up" in shown and "Riverside Gazette" in shown
    assert stream.stopped
    assert not writing_bot.web.calls_to("chat.postMessage")


def test_an_unsupported_sentence_never_reaches_slack(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """An invented name and number between supported sentences is never sent, not even
    for a moment: only verified sentences are appended."""
    llm.script(Reply(f"{SUPPORTED} {INVENTED} {SUPPORTED}"))
    _ask_in_thread(writing_bot)
    writing_bot.web.wait_for("chat.stopStream")
    sent = _everything_sent(writing_bot.web)
    assert "approved the footbridge over the canal on Tuesday" in sent
    assert "Kowalski" not in sent and "9 footbridges" not in sent


@pytest.mark.parametrize(
    "reply",
    [Reply(INVENTED), Reply("The passages do not answer the question."), Reply(delay=4)],
    ids=["invented", "refusal", "timeout"],
)
def test_without_a_verified_sentence_the_reply_is_the_extractive_one(
    writing_bot: RunningBot, llm: FakeChatServer, reply: Reply
) -> None:
    """Nothing supported, a refusal or a stalled model: no stream starts, and the reply is
    the quoted answer alone, as without a model."""
    llm.script(reply)
    _ask_in_thread(writing_bot)
    answer = writing_bot.answers("C0NEWSDESK")[0]
    assert not any(writing_bot.web.calls_to(m) for m in STREAMING)
    assert answer.blocks[0]["text"]["text"].startswith(">“")
    assert "Written by" not in _everything_sent(writing_bot.web)


def test_where_slack_will_not_stream_the_answer_is_posted_once_written_part_first(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """A refused `chat.startStream` falls back to one post: label, cited sentences with
    linked citations, then the quoted lead."""
    writing_bot.web.refuse_streaming = "feature_not_enabled"
    llm.script(Reply(f"{SUPPORTED} {INVENTED}"))
    _ask_in_thread(writing_bot)
    answer = writing_bot.answers("C0NEWSDESK")[0]
    texts = [json.dumps(b) for b in answer.blocks]
    assert "Written by standin-7b from the passages below" in texts[0]
    assert f"<{ARTICLE}|[1]>" in texts[1] and "footbridge over the canal" in texts[1]
    assert answer.blocks[2]["text"]["text"].startswith(">“")  # then the quoted lead
    assert "Kowalski" not in answer.all_text


def test_a_direct_message_and_a_private_ask_get_the_written_answer_in_one_post(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """A top-level DM has no thread to stream into and `/ask` answers through its
    response_url: both get the whole answer at once."""
    llm.script(Reply(SUPPORTED), Reply(SUPPORTED))
    event = payloads.message(QUESTION, "U0REPORTER", "D0REPORTER", "im")
    writing_bot.socket.wait_ack(writing_bot.deliver_event(event))
    dm = writing_bot.answers("D0REPORTER")[0]
    assert "Written by standin-7b" in dm.all_text
    writing_bot.socket.wait_ack(writing_bot.command(QUESTION, reply_to="ask"))
    private = writing_bot.web.wait_for_response("ask")[0]
    assert "Written by standin-7b" in json.dumps(private["blocks"])
    assert not any(writing_bot.web.calls_to(m) for m in STREAMING)


def test_markup_from_the_model_cannot_ping_or_link(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """`<!channel>`, `@here` and links the model writes arrive as harmless text."""
    llm.script(
        Reply(
            "<!channel> [1] The Riverside zoning board approved the footbridge, and a reader "
            "wrote @channel and @here in the comments. <https://evil.example|minutes>"
        )
    )
    _ask_in_thread(writing_bot)
    stop = writing_bot.web.wait_for("chat.stopStream")[0]
    markdown = writing_bot.web.streams[stop.args["ts"]].markdown
    assert "a reader wrote @\u2060channel and @\u2060here" in markdown
    for hostile in ("<!", "@channel", "@here", "evil.example"):
        assert hostile not in markdown
